import Foundation

/// What one soak run did and found: printed at its end, written as JSON with `--json`,
/// and a row of BENCHMARKS.md's soak table (`overcast-bench soak-report`).
public struct SoakReport: Sendable, Codable {
    public struct NodeSlopes: Sendable, Codable {
        public var node: Int
        public var slopes: ResourceTrend.Slopes
    }

    public struct NodeGrowth: Sendable, Codable {
        public var node: Int
        public var growth: ResourceTrend.Growth
    }

    public var seed: UInt64
    /// The cluster: transport, VRRP version and interval, authentication.
    public var setup: String
    public var transport: String
    public var version: Int
    public var hmac: Bool
    public var seconds: Double
    public var faults: [FaultSchedule.Kind: Int]
    public var checks: Int
    public var routeChecks: Int
    /// Times the route was seen pointing somewhere new.
    public var routeMoves: Int
    /// Route writes in the EC2 lab's log, each checked against its node's state.
    public var routeWrites: Int
    public var heals: Int
    public var worstConvergence: Double
    public var convergenceBound: Double
    public var violations: [SoakChecker.Violation]
    /// The events around each violation.
    public var timelines: [String]
    /// The trend of the longest-lived daemon (one life of one node).
    public var longestLife: NodeSlopes?
    /// Where the logs were kept (violations only).
    public var keptLogs: String?
    /// Floods checked, the bad packets they sent, and how many their victims counted.
    public var floods = 0
    public var floodSent = 0
    public var floodCounted = 0
    /// Floods whose target reloaded during them (counts restarted): sent, not matched.
    public var floodsUnmatched = 0
    /// Frames the loss faults dropped (the switch's counters).
    public var lossDropped = 0
    /// The daemon that lived the whole run (runs of 310 s and more), judged for leaks.
    public var steadyGrowth: NodeGrowth?

    /// The client's requests to the VIP (with web servers).
    public struct Client: Sendable, Codable {
        public var requests: Int
        public var answers: Int
        public var longestGap: Double
        /// Outside the recovery from a fault that moves VRRP or stops the API.
        public var longestQuietGap: Double
        public var gapBound: Double
    }
    public var client: Client?

    public var faultCount: Int { faults.values.reduce(0, +) }

    public var text: String {
        var lines = ["soak: \(setup); seed \(seed), \(String(format: "%.0f", seconds)) s, \(faultCount) faults ("
                     + faults.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ") + ")",
                     "soak: \(checks) state checks, \(routeChecks) route checks (\(routeMoves) moves, \(routeWrites) writes, none by a BACKUP unless listed), \(heals) heals converged, worst \(String(format: "%.2f", worstConvergence)) s (bound \(String(format: "%.2f", convergenceBound)) s)",
                     "soak: \(floods) floods checked, \(floodSent) bad packets sent, \(floodCounted) counted by their targets (\(floodsUnmatched) not matched: a reload restarted the counts); \(lossDropped) frames dropped by the loss faults",
                     "soak: \(violations.count) violation(s)"]
        for (violation, timeline) in zip(violations, timelines) {
            lines.append("VIOLATION \(violation)")
            lines.append(timeline)
        }
        if let client {
            lines.append("soak: client: \(client.requests) requests, \(client.answers) answered; longest gap \(String(format: "%.2f", client.longestGap)) s, outside fault recovery \(String(format: "%.2f", client.longestQuietGap)) s (bound \(String(format: "%.2f", client.gapBound)) s)")
        }
        if let steadyGrowth { lines.append("soak: n\(steadyGrowth.node + 1) lived the whole run: \(steadyGrowth.growth)") }
        if let longestLife { lines.append("soak: longest daemon life, n\(longestLife.node + 1): \(longestLife.slopes)") }
        if let keptLogs { lines.append("soak: logs kept in \(keptLogs)") }
        lines.append("soak: replay with --seed \(seed)")
        return lines.joined(separator: "\n")
    }

    /// The Markdown table of `reports` (one row each, then the faults by kind summed).
    public static func markdown(_ reports: [SoakReport]) -> String {
        var lines = ["| setup | seed | length | faults | state checks | route checks (writes) | heals, worst / bound | floods: sent = counted | leak check (steady node, middle → last third) | violations |",
                     "|---|---|---|---|---|---|---|---|---|---|"]
        for r in reports {
            let growth = r.steadyGrowth.map { g in
                String(format: "%+.0f fds, %+.0f threads, %+.0f KiB RSS", g.growth.files, g.growth.threads, g.growth.residentKiB)
            } ?? "not judged (under 310 s)"
            lines.append("| \(r.setup) | \(r.seed) | \(String(format: "%.0f", r.seconds / 60)) min | \(r.faultCount) | \(r.checks) | "
                         + "\(r.routeChecks) (\(r.routeWrites)) | \(r.heals), \(String(format: "%.2f / %.2f s", r.worstConvergence, r.convergenceBound)) | "
                         + "\(r.floodSent) = \(r.floodCounted)\(r.floodCounted >= r.floodSent ? "" : " (short)") | \(growth) | \(r.violations.count) |")
        }
        var kinds: [FaultSchedule.Kind: Int] = [:]
        for r in reports { kinds.merge(r.faults, uniquingKeysWith: +) }
        lines += ["", "| fault | injected |", "|---|---|"]
        lines += FaultSchedule.Kind.allCases.map { "| `\($0.rawValue)` | \(kinds[$0] ?? 0) |" }
        return lines.joined(separator: "\n") + "\n"
    }
}
