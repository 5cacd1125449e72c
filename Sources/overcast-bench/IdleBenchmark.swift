import Foundation
import Lab
import LinuxNet

/// Idle cost: two nodes in steady state (one MASTER advertising every second, one
/// BACKUP listening) with 1 and with 100 VRRP instances, Overcast against stock
/// keepalived on the same lab. Resident memory and CPU time of the whole process tree
/// (keepalived's parent and VRRP child; Overcast's threads) over a quiet window.
struct IdleBenchmark {
    var runs: Int
    var quick: Bool
    var log: (String) -> Void

    static let addresses = ["172.31.18.10", "172.31.18.11"]

    func run() throws -> [ResultRow] {
        try Prerequisites.require(commands: ["ip", "keepalived"])
        let window = quick ? 3.0 : 15.0
        let runs = quick ? 1 : min(self.runs, 3)
        var rows: [ResultRow] = []
        for count in [1, 100] {
            var cpu: [String: [Double]] = [:]
            var rss: [String: [Double]] = [:]
            var pss: [String: [Double]] = [:]
            for variant in ["overcast", "keepalived"] {
                for run in 0..<runs {
                    let sample = try once(keepalived: variant == "keepalived", instances: count, window: window)
                    for (role, usage) in sample {
                        let key = "\(variant) \(role)"
                        cpu[key, default: []].append(usage.cpuMillisecondsPerSecond)
                        rss[key, default: []].append(usage.residentMiB)
                        pss[key, default: []].append(usage.proportionalMiB)
                        log("idle \(count) instance(s) \(key) run \(run + 1)/\(runs): "
                            + String(format: "%.3f ms CPU/s, RSS %.1f MiB, PSS %.1f MiB",
                                     usage.cpuMillisecondsPerSecond, usage.residentMiB, usage.proportionalMiB))
                    }
                }
            }
            for role in ["MASTER", "BACKUP"] {
                let reference = "keepalived \(role)"
                let oneInstance = count == 1
                rows += [
                    Self.compare("idle CPU, \(count) instance(s), \(role)", "overcast \(role)", reference, "ms/s", cpu,
                                 target: oneInstance ? "<= 2x keepalived" : nil, maximumRatio: 2),
                    Self.compare("idle resident memory, \(count) instance(s), \(role)", "overcast \(role)", reference, "MiB", rss,
                                 target: oneInstance ? "median <= 16 MiB" : nil, maximumMedian: 16),
                    Self.compare("idle proportional memory (PSS), \(count) instance(s), \(role)", "overcast \(role)", reference, "MiB", pss),
                ].flatMap { $0 }
            }
        }
        return rows
    }

    /// Rows for one measure: ours with its ratio to the reference, then the reference.
    /// A `target` is judged on the ratio (`maximumRatio`) or on our median (`maximumMedian`).
    static func compare(_ benchmark: String, _ ours: String, _ reference: String, _ unit: String, _ samples: [String: [Double]],
                        target: String? = nil, maximumRatio: Double? = nil, maximumMedian: Double? = nil) -> [ResultRow] {
        let mine = Summary(samples[ours] ?? [])
        let theirs = Summary(samples[reference] ?? [])
        let ratio = mine.flatMap { m in theirs.flatMap { $0.median > 0 ? m.median / $0.median : nil } }
        var met: Bool?
        if target != nil {
            if let maximumRatio { met = ratio.map { $0 <= maximumRatio } }
            if let maximumMedian { met = mine.map { $0.median <= maximumMedian } }
        }
        return [ResultRow(benchmark: benchmark, variant: ours, unit: unit, summary: mine, reference: reference, ratio: ratio,
                          target: target, targetMet: met),
                ResultRow(benchmark: benchmark, variant: reference, unit: unit, summary: theirs)]
    }

    struct Usage {
        var cpuMillisecondsPerSecond: Double
        var residentMiB: Double
        var proportionalMiB: Double
    }

    /// One lab: both nodes started, settled, then measured over `window` seconds.
    private func once(keepalived: Bool, instances: Int, window: Double) throws -> [(String, Usage)] {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let nodes = try Self.addresses.enumerated().map { try lab.addNode("n\($0.offset + 1)", address: "\($0.element)/16") }
        let vips = (1...instances).map { "192.168.\(20 + $0 / 250).\($0 % 250 + 1)" }
        func config(_ n: Int) -> String {
            vips.enumerated().map { index, vip in
                var instance = LabInstance(priority: n == 0 ? 150 : 100, version: 2, advertInt: "1", password: "1111",
                                           source: Self.addresses[n], peers: [Self.addresses[1 - n]])
                instance.name = "VI_\(index + 1)"
                instance.vrid = index + 1
                instance.vip = vip
                return instance.text
            }.joined(separator: "\n")
        }
        func start(_ n: Int) throws -> ChildProcess {
            keepalived ? try lab.startKeepalived(nodes[n], config: config(n))
                : try lab.startOvercast(nodes[n], config: config(n), logLevel: "info")
        }
        let master = try start(0)
        guard waitUntil(timeout: 30, interval: 0.1, { Self.holdsAll(lab, nodes[0], vips) }) else {
            throw ChildProcessError("idle: n1 never held all \(instances) VIPs")
        }
        let backup = try start(1)
        // Settled: the backup has heard the MASTER for a while and start-up work is done.
        usleep(3_000_000)
        guard Self.holdsAll(lab, nodes[0], vips), !lab.holds(nodes[1], vips[0]) else {
            throw ChildProcessError("idle: the nodes did not settle with n1 as MASTER")
        }
        let trees = [("MASTER", ProcessTree(root: master.pid)), ("BACKUP", ProcessTree(root: backup.pid))]
        let meters = trees.map { CPUMeter($0.1) }
        let start = Date()
        let end = start.addingTimeInterval(window)
        // Sampled once a second: often enough to keep the time of a thread that exits
        // (an idle dispatch worker lives 5 s), rarely enough that the reading itself
        // does not evict the caches the measured processes wake up to (at 10 Hz it added
        // a fifth to Overcast's idle BACKUP and less to keepalived's).
        while Date() < end {
            usleep(UInt32(max(0, min(1, end.timeIntervalSinceNow)) * 1_000_000))
            meters.forEach { $0.sample() }
        }
        let elapsed = Date().timeIntervalSince(start)
        return zip(trees, meters).map { entry, meter in
            (entry.0, Usage(cpuMillisecondsPerSecond: meter.seconds * 1000 / elapsed,
                            residentMiB: Double(entry.1.residentBytes()) / 1_048_576,
                            proportionalMiB: Double(entry.1.proportionalBytes()) / 1_048_576))
        }
    }

    static func holdsAll(_ lab: NetworkLab, _ node: NetworkLab.Node, _ vips: [String]) -> Bool {
        let held = try? inNetworkNamespace(node.namespace) { Set(try NetlinkSocket(.route).addresses().map(\.address.description)) }
        return held.map { Set(vips).isSubset(of: $0) } ?? false
    }
}
