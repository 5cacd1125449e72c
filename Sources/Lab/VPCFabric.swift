import EC2
import Foundation
import HTTPClient
#if canImport(Glibc)
import Glibc
#endif

/// The data plane of a lab VPC: the switch namespace's bridge made to behave as an AWS VPC
/// does, following moto (the control plane) live. A thread watches the EC2 lab's change
/// count and, when moto changed, reads the VPC again, plans (`FabricPlanner`) and applies
/// what differs: ARP replies with ebtables (arpreply), the rest in one nftables
/// transaction. Counters say what was dropped and why (`FabricDrop`).
public final class VPCFabric: @unchecked Sendable {
    public let vpcID: String
    public private(set) var options: FabricOptions
    private let switchNamespace: String
    private let directory: String
    private let motoHost: String
    private let motoPort: Int
    private let generationURL: String
    private let lock = NSLock()
    private var ports: [String: String] = [:]
    private var applied: FabricPlan?
    private var running = true
    /// Why the watcher's last sync failed (nil once one succeeds): failure messages say it.
    private var lastFailure: String?

    init(vpcID: String, switchNamespace: String, directory: String, motoHost: String, motoPort: Int, generationURL: String,
         options: FabricOptions) {
        self.vpcID = vpcID
        self.switchNamespace = switchNamespace
        self.directory = directory
        self.motoHost = motoHost
        self.motoPort = motoPort
        self.generationURL = generationURL
        self.options = options
    }

    deinit { stop() }

    /// Gives ENI `eni` the switch port `port` (its lab node's); applied at the next sync.
    /// Where the kernel has netem, the port gets a delayed band for frames from other zones.
    func attach(eni: String, port: String) {
        lock.withLock { ports[eni] = port }
        guard options.zoneLatencyMilliseconds > 0, !lock.withLock({ noZoneQueues }) else { return }
        let batch = "\(directory)/tc-\(port).txt"
        do {
            try ("qdisc add dev \(port) root handle 1: prio\n" + "qdisc add dev \(port) parent \(FabricOptions.delayedBand) handle 30: netem delay "
                 + String(format: "%.3fms", options.zoneLatencyMilliseconds) + "\n").write(toFile: batch, atomically: true, encoding: .utf8)
            try ChildProcess.check(["tc", "-n", switchNamespace, "-batch", batch])
            lock.withLock { options.delaysBetweenZones = true }
        } catch {
            // No prio or netem in this kernel (this host's): zones are not apart, and the plan says so.
            _ = try? ChildProcess.run(["tc", "-n", switchNamespace, "qdisc", "del", "dev", port, "root"], timeout: 10)
            lock.withLock {
                noZoneQueues = true
                options.delaysBetweenZones = false
            }
        }
    }

    private var noZoneQueues = false

    /// Reads the VPC from moto, plans and applies what changed. Throws what failed.
    public func sync() throws {
        let client = try EC2Lab.directClient(host: motoHost, port: motoPort)
        try lock.withLock { try syncLocked(client) }
    }

    private func syncLocked(_ client: EC2Client) throws {
        let state = try Self.read(vpcID, client)
        let plan = FabricPlanner.plan(state, ports: ports, options: options)
        guard plan != applied else { return }
        // The tools start from a thread inside the switch's namespace (no `ip netns exec`,
        // no shell): each process costs about a second in the emulated VM.
        let (arp, rules) = ("\(directory)/fabric-arp.txt", "\(directory)/fabric.nft")
        let (newARP, newRules) = (plan.arpReplies != applied?.arpReplies, plan.nftables != applied?.nftables)
        if newARP { try plan.ebtables.write(toFile: arp, atomically: true, encoding: .utf8) }
        if newRules { try plan.nftables.write(toFile: rules, atomically: true, encoding: .utf8) }
        try inNetworkNamespace(switchNamespace) {
            if newARP { try ChildProcess.check(["ebtables-nft-restore"], input: arp) }
            if newRules {
                do { try ChildProcess.check(["nft", "-f", rules]) } catch {
                    throw ChildProcessError("the fabric's nftables rules were refused (\(rules)): \(error)")
                }
            }
        }
        applied = plan
    }

    /// The VPC's facts, read from moto.
    static func read(_ vpc: String, _ client: EC2Client) throws -> VPCState {
        let filter: EC2Client.Filters = [(name: "vpc-id", values: [vpc])]
        guard let description = try client.describeVPCs(filters: [(name: "vpc-id", values: [vpc])]).first else {
            throw ChildProcessError("moto has no VPC \(vpc)")
        }
        return VPCState(vpc: description, subnets: try client.describeSubnets(filters: filter),
                        interfaces: try client.describeNetworkInterfaces(filters: filter),
                        groups: try client.describeSecurityGroups(filters: filter),
                        routeTables: try client.describeRouteTables(filters: filter))
    }

    /// Follows moto from now on: the EC2 lab's change count is long-polled (it answers at
    /// once when moto changes, else after 2 s), and a change brings a sync, so a route the
    /// daemon wrote is in force within a few tens of milliseconds.
    func watch() {
        let thread = Thread { [self] in
            guard let http = try? CurlEasyRequest(), let client = try? EC2Lab.directClient(host: motoHost, port: motoPort) else {
                lock.withLock { lastFailure = "the fabric could not reach the EC2 lab" }
                return
            }
            var seen = -1
            while lock.withLock({ running }) {
                guard let body = try? http.get("\(generationURL)?after=\(seen)", timeoutMilliseconds: 5000).body,
                      let generation = Int(String(decoding: body, as: UTF8.self)) else {
                    usleep(100_000)
                    continue
                }
                guard generation != seen else { continue }
                do {
                    try lock.withLock {
                        guard running else { return }
                        try syncLocked(client)
                        lastFailure = nil
                    }
                    seen = generation
                } catch {
                    lock.withLock { lastFailure = "\(error)" }
                    usleep(100_000)
                }
            }
        }
        thread.name = "vpc-fabric"
        thread.start()
    }

    /// Stops following moto. The watcher ends at its next answer (within 2 s) without
    /// touching the switch again; nothing waits for it.
    public func stop() {
        lock.withLock { running = false }
    }

    /// The plan in force (nil before the first sync).
    public var plan: FabricPlan? { lock.withLock { applied } }

    /// Every counter's packets, by counter name (`FabricDrop.counter`).
    public func counters() throws -> [String: Int] {
        let json = try inNetworkNamespace(switchNamespace) { try ChildProcess.check(["nft", "-j", "list", "counters"]) }
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
              let items = object["nftables"] as? [[String: Any]] else { throw ChildProcessError("nft -j list counters: \(json)") }
        var result: [String: Int] = [:]
        for item in items {
            guard let counter = item["counter"] as? [String: Any], let name = counter["name"] as? String else { continue }
            result[name, default: 0] += counter["packets"] as? Int ?? 0
        }
        return result
    }

    /// The packets dropped for `reason` so far (0 when its counter does not exist).
    public func dropped(_ reason: FabricDrop) -> Int { (try? counters())?[reason.counter] ?? 0 }

    /// What each nonzero drop counter means and how many it counted, for failure messages.
    public func dropReport() -> String {
        let counts = (try? counters()) ?? [:]
        let meanings = plan?.counters ?? [:]
        let drops = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value) (\(meanings[$0.key] ?? "?"))" }
        let behind = lock.withLock { lastFailure }.map { ["the fabric is not following moto: \($0)"] } ?? []
        return (behind + drops).joined(separator: "; ")
    }
}
