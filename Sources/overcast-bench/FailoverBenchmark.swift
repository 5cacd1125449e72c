import Foundation
import Lab
import LinuxNet
import NetworkTypes
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// Failover: the MASTER's machine dies (kill -9 of the daemon and its network port
/// down) and the backup must hold the VIP and answer on it. Measured from the last
/// advertisement the backup received from the MASTER (the kill follows it within a
/// millisecond, so the backup's Master_Down timer started exactly then) to a client's
/// first TCP connection to the VIP accepted by the backup. The protocol's own share is
/// Master_Down_Interval; the rest is the daemon's overhead (timer, VIP, gratuitous ARP).
///
/// Runs in namespaces on the kernel at hand: Overcast unicast and replicate and stock
/// keepalived unicast everywhere, Overcast's GRE overlay where gretap exists (the
/// kernel-tier VM, where the others are measured again as its same-run references).
struct FailoverBenchmark {
    struct Timers {
        var name: String
        var version: Int
        var advertInt: Double
        /// Master_Down_Interval of the backup (priority 100).
        var masterDown: Double { 3 * advertInt + (256 - 100) * advertInt / 256 }
    }

    var runs: Int
    var quick: Bool
    var log: (String) -> Void

    static let vip = "192.168.20.11"
    static let port: UInt16 = 8080

    func run() throws -> [ResultRow] {
        try Prerequisites.require(commands: ["ip", "bridge", "keepalived"])
        let variants = BenchTransport.available()
        let timers = quick ? [Timers(name: "v3 0.1 s", version: 3, advertInt: 0.1)]
            : [Timers(name: "v2 1 s", version: 2, advertInt: 1), Timers(name: "v3 0.1 s", version: 3, advertInt: 0.1),
               Timers(name: "v3 0.05 s", version: 3, advertInt: 0.05)]
        var rows: [ResultRow] = []
        for timer in timers {
            var overheads: [String: [Double]] = [:]
            for variant in variants {
                for run in 0..<runs {
                    let total = try once(variant, timer)
                    overheads[variant.name, default: []].append((total - timer.masterDown) * 1000)
                    log("failover \(timer.name) \(variant.name) run \(run + 1)/\(runs): \(String(format: "%.1f", total * 1000)) ms "
                        + "(Master_Down_Interval \(String(format: "%.1f", timer.masterDown * 1000)) ms)")
                }
            }
            let reference = Summary(overheads["keepalived unicast"] ?? [])
            for variant in variants {
                let s = Summary(overheads[variant.name] ?? [])
                let ours = !variant.keepalived
                rows.append(ResultRow(
                    benchmark: "failover overhead over Master_Down_Interval (\(timer.name), MDI \(String(format: "%.0f", timer.masterDown * 1000)) ms)",
                    variant: variant.name, unit: "ms", summary: s,
                    reference: ours ? "keepalived unicast" : nil,
                    ratio: ours ? s.flatMap { o in reference.flatMap { $0.median > 0 ? o.median / $0.median : nil } } : nil,
                    target: ours ? "median <= 10 ms, p99 <= 30 ms" : nil,
                    // An absolute time in the emulated VM is the emulator's; only its ratio means something.
                    targetMet: ours && !Bench.isEmulated ? s.map { $0.median <= 10 && $0.p99 <= 30 } : nil))
            }
        }
        return rows
    }

    /// One failover; returns seconds from the last advertisement to the backup answering.
    private func once(_ variant: BenchTransport, _ timer: Timers) throws -> Double {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let addresses = ["172.31.18.10", "172.31.18.11"]
        let nodes = try addresses.enumerated().map { try lab.addNode("n\($0.offset + 1)", address: "\($0.element)/16") }
        let client = try lab.addNode("client", address: "172.31.0.100/16")
        // The VPC routes the VIP to the backup from the start (as route failover will have
        // it once the backup is MASTER): what is measured is VRRP's part alone, the backup
        // taking the VIP, and the client's first answer comes through the VPC's router.
        guard let vpc = lab.vpc, let backup = vpc.instance(of: nodes[1]) else { throw ChildProcessError("failover: no VPC") }
        try vpc.setRoute("\(Self.vip)/32", to: backup)
        func config(_ n: Int) -> String {
            variant.configuration(n, addresses: addresses, instance: LabInstance(
                priority: n == 0 ? 150 : 100, version: timer.version, advertInt: "\(timer.advertInt)",
                password: timer.version == 2 ? "1111" : nil))
        }
        func start(_ n: Int) throws -> ChildProcess { try variant.start(lab, nodes[n], config: config(n)) }
        let master = try start(0)
        guard waitUntil(timeout: 20, interval: 0.05, { lab.holds(nodes[0], Self.vip) }) else {
            throw ChildProcessError("\(variant.name): n1 never held the VIP")
        }
        _ = try start(1)
        try variant.waitForBackup(lab, nodes[1])
        // The backup has settled once it has heard a few advertisements without taking the VIP.
        usleep(UInt32(max(1.0, timer.masterDown * 2) * 1_000_000))
        guard !lab.holds(nodes[1], Self.vip) else { throw ChildProcessError("\(variant.name): both hold the VIP") }

        // In the backup: a listener (the kernel completes handshakes without accept) and a
        // raw socket that sees the MASTER's advertisements (unbound and in the VRRP group,
        // so it gets unicast and replicated multicast ones alike).
        let (listener, sniffer) = try inNetworkNamespace(nodes[1].namespace) { () -> (FileDescriptor, VRRPSocket) in
            let netlink = try NetlinkSocket(.route)
            let name = variant.vrrpInterface
            guard let link = try netlink.links().first(where: { $0.name == name }), let source = IPv4Address(addresses[1]) else {
                throw ChildProcessError("no \(name) in n2")
            }
            return (try FileDescriptor.tcpListener(port: Self.port),
                    try VRRPSocket(.init(interfaceName: name, interfaceIndex: link.index, source: source, multicast: true)))
        }
        defer { withExtendedLifetime(listener) {} }
        let masterAddress = try IPv4Address(variant.vrrpSource(0, addresses: addresses)).orThrow("address")
        var lastAdvert: Date?
        let deadline = Date().addingTimeInterval(10)
        while lastAdvert == nil && Date() < deadline {
            if let packet = try sniffer.receive(timeoutMilliseconds: 100), packet.count >= 20,
               IPv4Address(packet[12], packet[13], packet[14], packet[15]) == masterAddress {
                lastAdvert = Date()
                master.stop(signal: SIGKILL, timeout: 0)
                try lab.setPort(nodes[0], up: false)
            }
        }
        guard let advert = lastAdvert else { throw ChildProcessError("\(variant.name): no advertisement from n1") }
        let answered = try inNetworkNamespace(client.namespace) { () -> Date? in
            let limit = Date().addingTimeInterval(timer.masterDown + 10)
            let vip = try IPv4Address(FailoverBenchmark.vip).orThrow("VIP")
            while Date() < limit {
                if FileDescriptor.tcpConnects(to: vip, port: FailoverBenchmark.port, timeoutMilliseconds: 5) { return Date() }
                usleep(1000)
            }
            return nil
        }
        guard let answered else { throw ChildProcessError("\(variant.name): the backup never answered on the VIP") }
        return answered.timeIntervalSince(advert)
    }
}

extension Optional {
    func orThrow(_ what: String) throws -> Wrapped {
        guard let value = self else { throw ChildProcessError("bad \(what)") }
        return value
    }
}
