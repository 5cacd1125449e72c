import Foundation
import HTTPClient
#if canImport(Glibc)
import Glibc
#endif

/// The soak's load balancing: two web servers behind the VIP (IPVS DR, HTTP_GET checks,
/// Python's http.server), a client asking the VIP for a page every 100 ms from its own
/// namespace, the web servers' faults, and what must hold at the end (the VIP only on
/// the MASTER, every balancer's IPVS table as configured).
final class SoakWeb: @unchecked Sendable {
    static let addresses = ["172.31.8.1", "172.31.8.2"]
    static let clientAddress = "172.31.0.100"
    /// The client's pause between requests and its timeout (an emulated VM answers slowly).
    static let interval = 0.1
    let timeout: Double

    private let lab: NetworkLab
    let servers: [NetworkLab.Node]
    private let client: NetworkLab.Node
    private var processes: [ChildProcess?]
    private let lock = NSLock()
    private var answers: [(time: Double, ok: Bool)] = []
    private var running = true
    private var thread: Thread?

    init(vpc: VPCLab, timeout: Double) throws {
        lab = vpc.network
        self.timeout = timeout
        servers = try Self.addresses.enumerated().map { try vpc.launch("w\($0.offset + 1)", address: $0.element, sourceDestCheck: false).node }
        client = try vpc.launch("client", address: Self.clientAddress).node
        processes = []
        for (n, server) in servers.enumerated() {
            try DirectRoutingWebServer.prepare(server, name: "w\(n + 1)", vip: LabInstance.defaultVIP, in: lab)
            processes.append(try DirectRoutingWebServer.start(server, name: "w\(n + 1)", in: lab))
        }
    }

    /// Waits until both servers answer the client directly (Python takes half a minute to
    /// start in the emulated VM; health checks must not judge them before).
    func waitForServers(timeout: Double) -> Bool {
        (try? inNetworkNamespace(client.namespace) {
            let http = try CurlEasyRequest()
            return waitUntil(timeout: timeout, interval: 0.5) {
                Self.addresses.allSatisfy { (try? http.get("http://\($0)/index.html", timeoutMilliseconds: 1000).status) == 200 }
            }
        }) ?? false
    }

    /// Starts the client; `clock` is the run's clock.
    func startClient(clock: @escaping @Sendable () -> Double) {
        let namespace = client.namespace, timeout = timeout
        let thread = Thread { [self] in
            _ = try? inNetworkNamespace(namespace) {
                let http = try CurlEasyRequest()
                while self.lock.withLock({ self.running }) {
                    let ok = (try? http.get("http://\(LabInstance.defaultVIP)/index.html",
                                            timeoutMilliseconds: Int(timeout * 1000)).status) == 200
                    let time = clock()
                    self.lock.withLock { self.answers.append((time, ok)) }
                    usleep(UInt32(Self.interval * 1_000_000))
                }
            }
        }
        self.thread = thread
        thread.start()
    }

    /// The client's answers since the last call, in order.
    func drain() -> [(time: Double, ok: Bool)] {
        lock.withLock {
            defer { answers.removeAll() }
            return answers
        }
    }

    func stop() {
        lock.withLock { running = false }
        for process in processes { process.map { kill($0.pid, SIGCONT) } }
    }

    /// web-down: connections to port 80 refused (a TCP reset), as a closed port.
    func setDown(_ n: Int, _ down: Bool) throws {
        if down {
            let rules = "table inet soak_web {\n  chain input {\n    type filter hook input priority 0; policy accept;\n"
                + "    tcp dport 80 reject with tcp reset\n  }\n}\n"
            let file = lab.path("w\(n + 1)-down.nft")
            try rules.write(toFile: file, atomically: true, encoding: .utf8)
            try lab.exec(servers[n], ["nft", "-f", file])
        } else {
            try lab.exec(servers[n], ["nft", "delete", "table", "inet", "soak_web"])
        }
    }

    /// web-hang: the server stopped (SIGSTOP); the kernel still accepts connections.
    func setHung(_ n: Int, _ hung: Bool) {
        guard let process = processes[n] else { return }
        kill(process.pid, hung ? SIGSTOP : SIGCONT)
    }

    /// What must hold once the cluster is quiet at the end: the VIP on `master` alone
    /// among `balancers`, and on every balancer one IPVS service for the VIP with both
    /// web servers (a killed daemon's successor reconciles, it does not add).
    func endProblems(balancers: [NetworkLab.Node], master: Int?) -> [String] {
        var problems: [String] = []
        let holders = lab.holders(LabInstance.defaultVIP, among: balancers)
        let expected = master.map { [balancers[$0].name] } ?? []
        if holders != expected { problems.append("the VIP is held by \(holders), not by the MASTER alone (\(expected))") }
        for node in balancers {
            guard let table = try? lab.exec(node, ["ipvsadm", "-Ln"]) else {
                problems.append("\(node.name): ipvsadm -Ln failed")
                continue
            }
            let services = table.split(separator: "\n").filter { $0.hasPrefix("TCP") || $0.hasPrefix("UDP") || $0.hasPrefix("FWM") }
            let reals = Self.addresses.map { address in table.split(separator: "\n").filter { $0.contains("-> \(address):80") }.count }
            if services.count != 1 || !(services.first?.contains("\(LabInstance.defaultVIP):80") ?? false) || reals != [1, 1] {
                problems.append("\(node.name)'s IPVS table is not the one service with both web servers: \(table)")
            }
        }
        return problems
    }
}
