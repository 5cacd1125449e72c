import Foundation
import IPVS
import Lab
#if canImport(Glibc)
import Glibc
#endif

/// IPVS programming: 1,000 and 10,000 DR services with 4 real servers each, loaded into
/// an empty table by Overcast (`overcast run` on a configuration of virtual servers
/// only), by `ipvsadm -R` (the same table as ipvsadm rules) and by stock keepalived
/// (`--check`, the same keepalived.conf), each from process start until the kernel holds
/// the whole table. Then one change at the largest size: a real server's weight edited
/// and SIGHUP, until the kernel shows it; Overcast's status counts the netlink requests.
///
/// Completion is watched over generic netlink from the bench: the service every loader
/// programs last (configuration order = the order Overcast sorts services in) polled
/// until it has its 4 real servers, then the whole table read once and compared.
/// Runs in a namespace of a kernel with IPVS (the kernel-tier VM here).
struct IPVSBenchmark {
    var runs: Int
    var quick: Bool
    var log: (String) -> Void

    static let realsPerService = 4

    func run() throws -> [ResultRow] {
        guard KernelFeatures.hasIPVS else {
            throw ChildProcessError("ipvs: this kernel has no IPVS (scripts/bench.sh runs this case in the kernel-tier VM)")
        }
        try Prerequisites.require(commands: ["ip", "ipvsadm", "keepalived"])
        let sizes = quick ? [1000] : [1000, 10000]
        let runs = quick ? 1 : min(self.runs, 3)
        var rows: [ResultRow] = []
        let loaders = ["overcast", "ipvsadm -R", "keepalived"]
        for size in sizes {
            let services = Self.services(size)
            var times: [String: [Double]] = [:]
            var change: [String: [Double]] = [:]
            var messages: [Double] = []
            for run in 0..<runs {
                for loader in loaders {
                    let result = try once(loader, services: services, change: size == sizes.last)
                    times[loader, default: []].append(result.load * 1000)
                    if let seconds = result.change { change[loader, default: []].append(seconds * 1000) }
                    if let count = result.messages { messages.append(Double(count)) }
                    log("ipvs \(size) x \(Self.realsPerService) \(loader) run \(run + 1)/\(runs): loaded in "
                        + String(format: "%.0f ms", result.load * 1000)
                        + (result.change.map { String(format: ", one change %.0f ms", $0 * 1000) } ?? "")
                        + (result.messages.map { ", \($0) netlink change request(s)" } ?? ""))
                }
            }
            let reference = Summary(times["ipvsadm -R"] ?? [])
            for loader in loaders {
                let s = Summary(times[loader] ?? [])
                let ours = loader == "overcast"
                let judged = ours && size == 10000
                rows.append(ResultRow(benchmark: "ipvs: load \(size) services x \(Self.realsPerService) real servers", variant: loader,
                                      unit: "ms", summary: s, reference: ours ? "ipvsadm -R" : nil,
                                      ratio: ours ? s.flatMap { o in reference.map { o.median / $0.median } } : nil,
                                      target: judged ? "no slower than ipvsadm -R" : nil,
                                      targetMet: judged ? s.flatMap { o in reference.map { o.median <= $0.median } } : nil))
            }
            if size == sizes.last {
                for loader in ["overcast", "keepalived"] {
                    rows.append(ResultRow(benchmark: "ipvs: one real server changed at \(size) services (SIGHUP to kernel)",
                                          variant: loader, unit: "ms", summary: Summary(change[loader] ?? []),
                                          reference: loader == "overcast" ? "keepalived" : nil,
                                          ratio: loader == "overcast" ? Summary(change["overcast"] ?? []).flatMap { o in
                                              Summary(change["keepalived"] ?? []).map { o.median / $0.median } } : nil))
                }
                rows.append(ResultRow(benchmark: "ipvs: netlink change requests for one change at \(size) services", variant: "overcast",
                                      unit: "requests", summary: Summary(messages), target: "exactly 1",
                                      targetMet: messages.isEmpty ? nil : messages.allSatisfy { $0 == 1 }))
            }
        }
        return rows
    }

    struct Service {
        var vip: String
        var reals: [String]
    }

    /// `count` services in the order Overcast programs them (sorted by key), so the last
    /// one is the last programmed by every loader.
    static func services(_ count: Int) -> [Service] {
        (0..<count).map { i in
            let (b, c) = (i / 250 % 250, i % 250 + 1)
            return Service(vip: "10.\(100 + i / 62500).\(b).\(c)", reals: (0..<realsPerService).map { "172.\(16 + $0).\(b).\(c)" })
        }.sorted { IPVSServiceKey.address(.tcp, $0.vip, port: 80) < IPVSServiceKey.address(.tcp, $1.vip, port: 80) }
    }

    static func keepalivedConfig(_ services: [Service], changedWeight: Bool = false) -> String {
        var lines: [String] = []
        for (index, service) in services.enumerated() {
            lines += ["virtual_server \(service.vip) 80 {", "  lb_algo rr", "  lb_kind DR", "  protocol TCP"]
            for (n, real) in service.reals.enumerated() {
                let weight = changedWeight && index == services.count / 2 && n == 0 ? 7 : 1
                lines += ["  real_server \(real) 80 {", "    weight \(weight)", "  }"]
            }
            lines.append("}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func ipvsadmRules(_ services: [Service]) -> String {
        services.map { service in
            (["-A -t \(service.vip):80 -s rr"] + service.reals.map { "-a -t \(service.vip):80 -r \($0):80 -g -w 1" })
                .joined(separator: "\n")
        }.joined(separator: "\n") + "\n"
    }

    struct Result {
        var load: Double
        var change: Double?
        var messages: Int?
    }

    private func once(_ loader: String, services: [Service], change: Bool) throws -> Result {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let node = try lab.addNode("lb", address: "172.31.18.10/16")
        let config = lab.path("ipvs.conf")
        try Self.keepalivedConfig(services).write(toFile: config, atomically: true, encoding: .utf8)
        let rules = lab.path("rules")
        try Self.ipvsadmRules(services).write(toFile: rules, atomically: true, encoding: .utf8)
        guard let last = services.last else { throw ChildProcessError("ipvs: no services") }
        let expectedDestinations = services.count * Self.realsPerService

        let start = Date()
        var daemon: ChildProcess?
        switch loader {
        case "overcast":
            daemon = try lab.spawn(node, [Binaries.overcast, "run", "-f", config, "--log-level", "info"], log: "overcast.log")
        case "keepalived":
            daemon = try lab.spawn(node, ["keepalived", "-n", "-l", "--check", "-f", config, "-p", lab.path("k.pid"),
                                          "-c", lab.path("c.pid")], log: "keepalived.log")
        default:
            _ = try lab.exec(node, ["sh", "-c", "ipvsadm -R < \(rules)"], timeout: 600)
        }
        let loaded = try inNetworkNamespace(node.namespace) { () -> Double in
            let client = try IPVSClient()
            let key = IPVSServiceKey.address(.tcp, last.vip, port: 80)
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline {
                if (try? client.destinations(of: key).count) == Self.realsPerService {
                    let done = Date().timeIntervalSince(start)
                    let table = try client.read()
                    if table.services.count == services.count && table.destinationCount == expectedDestinations { return done }
                }
                usleep(10_000)
            }
            throw ChildProcessError("ipvs \(loader): the table never completed")
        }
        guard change, let daemon else { return Result(load: loaded) }

        // One change: the middle service's first real server gets weight 7.
        let before = loader == "overcast" ? (lab.overcastStatus(node)?["ipvs"] as? [String: Any])?["changesApplied"] as? Int : nil
        try Self.keepalivedConfig(services, changedWeight: true).write(toFile: config, atomically: true, encoding: .utf8)
        let target = services[services.count / 2]
        let changeStart = Date()
        kill(daemon.pid, SIGHUP)
        let changed = try inNetworkNamespace(node.namespace) { () -> Double in
            let client = try IPVSClient()
            let key = IPVSServiceKey.address(.tcp, target.vip, port: 80)
            let deadline = Date().addingTimeInterval(600)
            while Date() < deadline {
                if let dest = try? client.destinations(of: key).first(where: { $0.key.address == target.reals[0] }), dest.weight == 7 {
                    return Date().timeIntervalSince(changeStart)
                }
                usleep(5_000)
            }
            throw ChildProcessError("ipvs \(loader): the change never reached the kernel")
        }
        var messages: Int?
        if let before {
            // The reload's reconciliation is finished when the status shows it.
            waitUntil(timeout: 60, interval: 0.05) {
                ((lab.overcastStatus(node)?["ipvs"] as? [String: Any])?["changesApplied"] as? Int).map { $0 > before } ?? false
            }
            messages = ((lab.overcastStatus(node)?["ipvs"] as? [String: Any])?["changesApplied"] as? Int).map { $0 - before }
        }
        return Result(load: loaded, change: changed, messages: messages)
    }
}
