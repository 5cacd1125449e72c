import ChildProcesses
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Carries out a `FaultSchedule` on a unicast cluster of Overcast daemons on the lab VPC,
/// samples every daemon's state every 50 ms, and feeds both to a `SoakChecker`. Every
/// lab it makes is torn down, also when it throws.
public final class SoakRunner {
    public struct Options: Sendable {
        public var seed: UInt64
        public var seconds: Double
        public var nodes = 3
        public var version = 3
        public var advertInterval = 0.2
        public var kinds = FaultSchedule.Kind.allCases
        public var meanGap = 1.5
        /// `ec2_route_failover` on every node, the route checked in moto.
        public var routes = true
        /// Where the logs of a run with a violation are kept.
        public var keepDirectory = "/tmp"
        public init(seed: UInt64, seconds: Double) {
            self.seed = seed
            self.seconds = seconds
        }
    }

    public struct Report: Sendable {
        public var seed: UInt64
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
        public var longestLife: (node: Int, slopes: ResourceTrend.Slopes)?
        /// Where the logs were kept (violations only).
        public var keptLogs: String?

        public var text: String {
            var lines = ["soak: seed \(seed), \(String(format: "%.0f", seconds)) s, \(faults.values.reduce(0, +)) faults ("
                         + faults.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ") + ")",
                         "soak: \(checks) state checks, \(routeChecks) route checks (\(routeMoves) moves, \(routeWrites) writes, none by a BACKUP unless listed), \(heals) heals converged, worst \(String(format: "%.2f", worstConvergence)) s (bound \(String(format: "%.2f", convergenceBound)) s)",
                         "soak: \(violations.count) violation(s)"]
            for (violation, timeline) in zip(violations, timelines) {
                lines.append("VIOLATION \(violation)")
                lines.append(timeline)
            }
            if let longestLife { lines.append("soak: longest daemon life, n\(longestLife.node + 1): \(longestLife.slopes)") }
            if let keptLogs { lines.append("soak: logs kept in \(keptLogs)") }
            lines.append("soak: replay with --seed \(seed)")
            return lines.joined(separator: "\n")
        }
    }

    let options: Options
    let log: (String) -> Void
    private var vpc: VPCLab!
    private var lab: NetworkLab { vpc.network }
    private var nodes: [NetworkLab.Node] = []
    private var daemons: [ChildProcess?] = []
    private var configPaths: [String] = []
    private var restarts: [Int] = []
    /// What happened, in order, for the timelines around violations.
    private var events: [(Double, String)] = []
    private var lastStates: [String?] = []
    /// Every sample, on the run's clock, for matching the EC2 lab's log of route writes.
    private var stateLog: [(time: Double, observed: [SoakChecker.Observation])] = []
    /// Each daemon life's resources (current and ended lives).
    private var trends: [(node: Int, trend: ResourceTrend)] = []
    private var currentTrend: [Int: Int] = [:]
    /// Nodes whose daemon is stopped (SIGSTOP): not asked, as it cannot answer.
    private var paused: Set<Int> = []

    public init(options: Options, log: @escaping (String) -> Void) {
        self.options = options
        self.log = log
    }

    static func address(_ n: Int) -> String { "172.31.18.\(10 + n)" }

    /// The interval the daemons advertise at: VRRPv2 carries whole seconds (at least 1).
    var advertInterval: Double {
        options.version == 2 ? max(1, options.advertInterval.rounded(.up)) : options.advertInterval
    }
    static let priorities = [150, 125, 100, 75, 50]
    static let destination = "192.168.20.11/32"
    /// reload-priority moves a node's priority by this much (up for the last, down for others).
    static let priorityShift = 40

    public func run() throws -> Report {
        // The API's faults only where there is an API to call.
        let kinds = options.routes ? options.kinds : options.kinds.filter { !FaultSchedule.Kind.api.contains($0) }
        let schedule = FaultSchedule(seed: options.seed, duration: options.seconds, nodes: options.nodes,
                                     kinds: kinds, meanGap: options.meanGap)
        let lowest = Self.priorities.prefix(options.nodes).min().map { $0 - Self.priorityShift } ?? 1
        var checker = SoakChecker(settings: .init(advertInterval: advertInterval, lowestPriority: max(1, lowest)),
                                  nodes: options.nodes)
        if options.routes {
            try Prerequisites.require(commands: VPCLab.fabricCommands, pythonModules: ["moto", "boto3", "flask_cors"])
        }
        vpc = try VPCLab()
        defer { vpc.teardown() }
        nodes = try (0..<options.nodes).map { try vpc.launch("n\($0 + 1)", address: Self.address($0), sourceDestCheck: false).node }
        let instances = vpc.instances.map(\.id)
        daemons = Array(repeating: nil, count: options.nodes)
        restarts = Array(repeating: 0, count: options.nodes)
        configPaths = (0..<options.nodes).map { lab.path("n\($0 + 1)-soak.conf") }
        lastStates = Array(repeating: nil, count: options.nodes)
        for i in 0..<options.nodes {
            try write(config(i), to: i)
            try startDaemon(i)
        }
        guard waitUntil(timeout: 15, { self.states().filter { $0 == "MASTER" }.count == 1 && self.states().allSatisfy { $0 != nil } }) else {
            throw ChildProcessError("the soak's cluster did not elect a MASTER: \(lab.log(nodes[0], tag: "-soak0"))")
        }
        log("seed \(options.seed): \(schedule.faults.count) faults in \(Int(options.seconds)) s")

        // Start and end of every fault, in time order; link flaps as their own toggles.
        var pending: [(time: Double, start: Bool, fault: FaultSchedule.Fault)] =
            schedule.faults.flatMap { [($0.start, true, $0), ($0.end, false, $0)] }
        pending.sort { $0.time < $1.time || ($0.time == $1.time && !$0.start && $1.start) }
        var flapping: [Int: (fault: FaultSchedule.Fault, next: Double, up: Bool)] = [:]
        let origin = Self.now()
        // The EC2 lab logs wall-clock times: this is where the run's clock starts on it.
        let wallOrigin = Date().timeIntervalSince1970
        var violationsSeen = 0
        var timelines: [String] = []
        var round = 0
        var lastTarget: String??
        var routeMoves = -1
        while true {
            let t = Self.now() - origin
            while let first = pending.first, first.time <= t {
                pending.removeFirst()
                apply(first.fault, start: first.start, at: t, flapping: &flapping)
                if first.start { checker.faultStarted(first.fault, at: t) } else { checker.faultEnded(first.fault, at: t) }
            }
            for (node, flap) in flapping where flap.next <= t {
                try? lab.setPort(nodes[node], up: !flap.up)
                flapping[node] = (flap.fault, t + FaultSchedule.flapPeriod, !flap.up)
            }
            for (i, daemon) in daemons.enumerated() {
                guard let daemon, let status = daemon.poll() else { continue }
                daemons[i] = nil
                record(t, "n\(i + 1)'s daemon exited (\(status))")
                checker.unexpectedExit(node: i, at: t, status: "exit \(status)")
            }
            let observed = observe()
            let sampled = observed.map(\.state)
            for (i, state) in sampled.enumerated() where state != lastStates[i] {
                record(t, "n\(i + 1) \(lastStates[i] ?? "?") -> \(state ?? "?")")
            }
            lastStates = sampled
            stateLog.append((t, observed))
            checker.sample(at: t, states: sampled)
            round += 1
            if round % 20 == 0 {
                for (i, daemon) in daemons.enumerated() {
                    guard let daemon, let slot = currentTrend[i], let point = ResourceTrend.read(pid: daemon.pid, at: t) else { continue }
                    trends[slot].trend.add(point)
                }
            }
            if options.routes && round % 4 == 0, let target = routeTarget() {
                if target != lastTarget { routeMoves += 1; record(t, "route -> \(target.flatMap { id in instances.firstIndex(of: id).map { "n\($0 + 1)" } } ?? target ?? "none")") }
                lastTarget = target
                checker.route(at: t, target: target, masters: Set(sampled.indices.filter { sampled[$0] == "MASTER" }.map { instances[$0] }))
            }
            while violationsSeen < checker.violations.count {
                let v = checker.violations[violationsSeen]
                violationsSeen += 1
                log("VIOLATION \(v)")
                timelines.append(timeline(around: v.time))
            }
            if t >= options.seconds { break }
            usleep(50_000)
        }
        checker.finish(at: Self.now() - origin)
        var writes = 0
        if options.routes {
            let calls = (try? vpc.ec2.calls()) ?? []
            let made = calls.compactMap { call -> (time: Double, node: Int)? in
                guard ["ReplaceRoute", "CreateRoute"].contains(call["action"] as? String ?? ""),
                      let client = call["client"] as? String, let node = (0..<options.nodes).first(where: { Self.address($0) == client }),
                      let time = call["time"] as? Double else { return nil }
                return (time - wallOrigin, node)
            }
            writes = made.count
            if ProcessInfo.processInfo.environment["SOAK_DEBUG"] != nil {
                for w in made { log("write n\(w.node + 1) at \(String(format: "%.3f", w.time))") }
            }
            for violation in SoakChecker.backupWrites(made, log: stateLog) {
                checker.record(violation)
                log("VIOLATION \(violation)")
            }
        }
        while violationsSeen < checker.violations.count {
            timelines.append(timeline(around: checker.violations[violationsSeen].time))
            violationsSeen += 1
        }
        var kept: String?
        if !checker.violations.isEmpty {
            let directory = "\(options.keepDirectory)/overcast-soak-\(options.seed)"
            try? FileManager.default.removeItem(atPath: directory)
            // lab.path("") ends in a slash; copy the directory itself.
            try? FileManager.default.copyItem(atPath: String(lab.path("x").dropLast(2)), toPath: directory)
            kept = directory
        }
        let longest = trends.compactMap { entry in entry.trend.slopes.map { (entry.node, $0) } }.max { $0.1.span < $1.1.span }
        return Report(seed: options.seed, seconds: options.seconds, faults: schedule.counts, checks: checker.checks,
                      routeChecks: checker.routeChecks, routeMoves: max(0, routeMoves), routeWrites: writes, heals: checker.heals, worstConvergence: checker.worstConvergence,
                      convergenceBound: checker.settings.convergenceBound, violations: checker.violations,
                      timelines: timelines, longestLife: longest, keptLogs: kept)
    }

    // MARK: - Faults

    private func apply(_ fault: FaultSchedule.Fault, start: Bool, at t: Double,
                       flapping: inout [Int: (fault: FaultSchedule.Fault, next: Double, up: Bool)]) {
        record(t, "\(start ? "start" : "end") \(fault.description)")
        let i = fault.node
        do {
            switch (fault.kind, start) {
            case (.kill, true): stopDaemon(i, signal: SIGKILL)
            case (.stop, true): stopDaemon(i, signal: SIGTERM)
            case (.kill, false), (.stop, false): try startDaemon(i)
            case (.pause, true):
                paused.insert(i)
                signal(i, SIGSTOP)
            case (.pause, false):
                signal(i, SIGCONT)
                paused.remove(i)
            case (.reloadUnchanged, true): signal(i, SIGHUP)
            case (.reloadUnchanged, false): break
            case (.reloadPriority, true): try reload(i, config(i, priorityShift: true))
            case (.reloadBroken, true): try reload(i, "vrrp_instance VI_1 {\n  priority 300\n")
            case (.reloadPeerRemoved, true): try reload(i, config(i, dropPeer: true))
            case (.reloadPriority, false), (.reloadBroken, false), (.reloadPeerRemoved, false): try reload(i, config(i))
            case (.partition, _): try lab.isolate(nodes, start)
            case (.cutPair, _): try lab.isolate([nodes[i]] + (fault.peer.map { [nodes[$0]] } ?? []), start)
            case (.linkDown, _): try lab.setPort(nodes[i], up: !start)
            case (.linkFlap, true):
                try lab.setPort(nodes[i], up: false)
                flapping[i] = (fault, t + FaultSchedule.flapPeriod, false)
            case (.linkFlap, false):
                flapping[i] = nil
                try lab.setPort(nodes[i], up: true)
            case (.apiThrottle, true): try vpc.ec2.control(["fault": ["kind": "throttle", "count": 1_000_000]])
            case (.apiError, true): try vpc.ec2.control(["fault": ["kind": "internal", "count": 1_000_000]])
            case (.apiUnavailable, true): try vpc.ec2.control(["fault": ["kind": "unavailable", "count": 1_000_000]])
            case (.apiHang, true): try vpc.ec2.control(["fault": ["kind": "hang", "count": 1_000_000, "seconds": 3]])
            case (.apiThrottle, false), (.apiError, false), (.apiUnavailable, false), (.apiHang, false):
                try vpc.ec2.control(["fault": [:] as [String: Any]])
            }
        } catch {
            record(t, "could not \(start ? "start" : "end") \(fault.description): \(error)")
            log("could not \(start ? "start" : "end") \(fault.description): \(error)")
        }
    }

    private func startDaemon(_ i: Int) throws {
        let tag = "-soak\(restarts[i])"
        restarts[i] += 1
        let config = try String(contentsOfFile: configPaths[i], encoding: .utf8)
        // Role credentials from the lab's IMDS, as on an instance.
        let environment = options.routes ? ["AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=", "AWS_REGION=",
                                            "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"] : []
        daemons[i] = try lab.startOvercast(nodes[i], config: config, tag: tag, environment: environment, logLevel: "info")
        currentTrend[i] = trends.count
        trends.append((i, ResourceTrend()))
        // The daemon reads the path it was started with; reloads write there.
        configPaths[i] = lab.path("n\(i + 1)\(tag).conf")
    }

    private func stopDaemon(_ i: Int, signal: Int32) {
        guard let daemon = daemons[i] else { return }
        daemons[i] = nil
        kill(daemon.pid, SIGCONT)
        _ = daemon.stop(signal: signal, timeout: 5)
    }

    /// A signal to the daemon itself (`ip netns exec` execs it, so the child is the daemon).
    private func signal(_ i: Int, _ number: Int32) {
        guard let daemon = daemons[i] else { return }
        kill(daemon.pid, number)
    }

    private func reload(_ i: Int, _ text: String) throws {
        try write(text, to: i)
        signal(i, SIGHUP)
    }

    private func write(_ text: String, to i: Int) throws {
        try text.write(toFile: configPaths[i], atomically: true, encoding: .utf8)
    }

    func config(_ i: Int, priorityShift: Bool = false, dropPeer: Bool = false) -> String {
        var priority = Self.priorities[i % Self.priorities.count]
        if priorityShift { priority += i == options.nodes - 1 ? Self.priorityShift : -Self.priorityShift }
        var peers = (0..<options.nodes).filter { $0 != i }.map(Self.address)
        if dropPeer { peers.removeFirst() }
        let interval = String(format: "%g", advertInterval)
        let routes = options.routes ? ["ec2_route_failover {", "  route_table \(vpc.routeTables[0])", "  endpoint \(vpc.ec2.endpoint)",
                                       "  imds_endpoint \(vpc.ec2.imdsEndpoint)", "  refresh 1", "  api_timeout 1", "}"] : []
        return LabInstance(priority: priority, version: options.version, advertInt: interval,
                           password: options.version == 2 ? "1111" : nil, source: Self.address(i), peers: peers, extra: routes).text
    }

    // MARK: - Observation

    /// Each node's state, nil for a daemon that does not answer (stopped, paused, starting).
    private func states() -> [String?] { observe().map(\.state) }

    /// Each node's state and how often it has become MASTER (a MASTER for less than a
    /// sample shows only in the count).
    private func observe() -> [SoakChecker.Observation] {
        nodes.indices.map { i in
            guard daemons[i] != nil, !paused.contains(i), let instance = lab.instance(nodes[i], timeout: 0.5) else {
                return SoakChecker.Observation(state: nil, becameMaster: nil)
            }
            let counters = instance["counters"] as? [String: Any]
            return SoakChecker.Observation(state: instance["state"] as? String,
                                           becameMaster: instance["becameMaster"] as? Int ?? counters?["becameMaster"] as? Int)
        }
    }

    /// The VIP's route target in moto: .some(nil) when there is no route, nil when moto
    /// could not be asked.
    private func routeTarget() -> String?? {
        do { return .some(try vpc.routeTarget(Self.destination)) } catch { return nil }
    }

    private func record(_ t: Double, _ what: String) { events.append((t, what)) }

    /// The events of the 5 s before a violation and the 1 s after (as far as recorded).
    private func timeline(around time: Double) -> String {
        events.filter { $0.0 >= time - 5 && $0.0 <= time + 1 }
            .map { "  \(String(format: "%7.2f", $0.0)) \($0.1)" }.joined(separator: "\n")
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
