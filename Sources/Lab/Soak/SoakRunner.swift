import ChildProcesses
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Carries out a `FaultSchedule` on a cluster of Overcast daemons on the lab VPC,
/// samples every daemon's state every 50 ms, and feeds both to a `SoakChecker`. Every
/// lab it makes is torn down, also when it throws.
public final class SoakRunner {
    /// How the cluster's advertisements travel (docs/soak.md): unicast to the peers, or
    /// multicast copied to each peer by the replicator in `l3` mode (the one that works on
    /// a VPC).
    public enum Transport: String, Sendable, CaseIterable {
        case unicast, replicate
        /// Multicast over the GRE overlay (`overlay ovc0`, built by each daemon): only in
        /// the kernel-tier VM, whose kernel has GRE.
        case gre
    }

    public struct Options: Sendable {
        public var seed: UInt64
        public var transport = Transport.unicast
        /// `auth_type HMAC_SHA256` (docs/authentication.md) instead of VRRPv2's PASS or
        /// VRRPv3's none.
        public var hmac = false
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
        /// The cluster: transport, VRRP version and interval, authentication.
        public var setup: String
        public var seconds: Double
        public var faults: [FaultSchedule.Kind: Int]
        public var checks: Int
        public var routeChecks: Int
        /// Times the route was seen pointing somewhere new.
        public var routeMoves: Int
        /// Route writes in the EC2 lab's log, each checked against its node's state.
        public var routeWrites: Int
        /// Floods checked, the bad packets they sent, and how many their victims counted.
        public var floods = 0
        public var floodSent = 0
        public var floodCounted = 0
        /// Frames the loss faults dropped (the switch's counters).
        public var lossDropped = 0
        public var heals: Int
        public var worstConvergence: Double
        public var convergenceBound: Double
        public var violations: [SoakChecker.Violation]
        /// The events around each violation.
        public var timelines: [String]
        /// The trend of the longest-lived daemon (one life of one node).
        public var longestLife: (node: Int, slopes: ResourceTrend.Slopes)?
        /// The daemon that lived the whole run (runs of 310 s and more), judged for leaks.
        public var steadyGrowth: (node: Int, growth: ResourceTrend.Growth)?
        /// Where the logs were kept (violations only).
        public var keptLogs: String?

        public var text: String {
            var lines = ["soak: \(setup); seed \(seed), \(String(format: "%.0f", seconds)) s, \(faults.values.reduce(0, +)) faults ("
                         + faults.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ") + ")",
                         "soak: \(checks) state checks, \(routeChecks) route checks (\(routeMoves) moves, \(routeWrites) writes, none by a BACKUP unless listed), \(heals) heals converged, worst \(String(format: "%.2f", worstConvergence)) s (bound \(String(format: "%.2f", convergenceBound)) s)",
                         "soak: \(floods) floods checked, \(floodSent) bad packets sent, \(floodCounted) counted by their targets; \(lossDropped) frames dropped by the loss faults",
                         "soak: \(violations.count) violation(s)"]
            for (violation, timeline) in zip(violations, timelines) {
                lines.append("VIOLATION \(violation)")
                lines.append(timeline)
            }
            if let steadyGrowth { lines.append("soak: n\(steadyGrowth.node + 1) lived the whole run: \(steadyGrowth.growth)") }
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
    /// How far this run has stepped the wall clock (undone at the end).
    private var clockOffset = 0.0
    /// The loss on each node's link, in percent.
    private var losses: [Int: Int] = [:]
    private var floods: SoakFloods!

    public init(options: Options, log: @escaping (String) -> Void) {
        self.options = options
        self.log = log
    }

    static func address(_ n: Int) -> String { "172.31.18.\(10 + n)" }
    static let strangerAddress = "172.31.18.99"

    var setup: String {
        "\(options.transport.rawValue), VRRPv\(options.version) at \(String(format: "%g", advertInterval)) s, "
            + (options.hmac ? "HMAC-SHA256" : options.version == 2 ? "PASS" : "no authentication")
    }

    private var keyPath: String { lab.path("soak-hmac.key") }

    /// The interval the daemons advertise at: VRRPv2 carries whole seconds (at least 1).
    var advertInterval: Double {
        options.version == 2 ? max(1, options.advertInterval.rounded(.up)) : options.advertInterval
    }
    static let priorities = [150, 125, 100, 75, 50]
    static let destination = "192.168.20.11/32"
    /// reload-priority moves a node's priority by this much (up for the last, down for others).
    static let priorityShift = 40

    public func run() throws -> Report {
        // The API's faults only where there is an API to call; netem and clock steps only
        // in the kernel-tier VM.
        var kinds = options.routes ? options.kinds : options.kinds.filter { !FaultSchedule.Kind.api.contains($0) }
        if !Self.inKernelTier {
            let left = kinds.filter(FaultSchedule.Kind.vmOnly.contains)
            if !left.isEmpty { log("left out (they need the kernel-tier VM): \(left.map(\.rawValue).joined(separator: ", "))") }
            kinds.removeAll(where: FaultSchedule.Kind.vmOnly.contains)
        }
        if options.transport == .gre && !Self.inKernelTier {
            throw ChildProcessError("the gre transport needs GRE in the kernel: run the soak in the kernel-tier VM (scripts/soak.sh)")
        }
        // A run long enough to judge a daemon's resources keeps one daemon alive throughout.
        let steady = options.seconds >= ResourceTrend.minimumSpan + 10 ? options.nodes - 1 : nil
        let schedule = FaultSchedule(seed: options.seed, duration: options.seconds, nodes: options.nodes,
                                     kinds: kinds, meanGap: options.meanGap, steadyNode: steady)
        let lowest = Self.priorities.prefix(options.nodes).min().map { $0 - Self.priorityShift } ?? 1
        var checker = SoakChecker(settings: .init(advertInterval: advertInterval, lowestPriority: max(1, lowest)),
                                  nodes: options.nodes)
        if options.routes {
            try Prerequisites.require(commands: VPCLab.fabricCommands, pythonModules: ["moto", "boto3", "flask_cors"])
        }
        vpc = try VPCLab()
        defer { vpc.teardown() }
        // A clock step still on when the run ends (a throw) is stepped back.
        defer { if clockOffset != 0 { try? stepClock(by: -clockOffset) } }
        nodes = try (0..<options.nodes).map { try vpc.launch("n\($0 + 1)", address: Self.address($0), sourceDestCheck: false).node }
        let instances = vpc.instances.map(\.id)
        // The flood's sender forges its victim's peers: its source/dest check is off.
        let stranger = kinds.contains(.flood) ? try vpc.launch("x", address: Self.strangerAddress, sourceDestCheck: false).node : nil
        floods = SoakFloods(sender: stranger, nodes: nodes, addresses: (0..<options.nodes).map(Self.address),
                            stranger: Self.strangerAddress, counted: { [unowned self] in self.packetsCounted($0) })
        daemons = Array(repeating: nil, count: options.nodes)
        restarts = Array(repeating: 0, count: options.nodes)
        configPaths = (0..<options.nodes).map { lab.path("n\($0 + 1)-soak.conf") }
        lastStates = Array(repeating: nil, count: options.nodes)
        if options.hmac {
            try "soak-key-shared-by-every-node-0123".write(toFile: keyPath, atomically: true, encoding: .utf8)
            chmod(keyPath, 0o600)
        }
        for i in 0..<options.nodes {
            try write(config(i), to: i)
            try startDaemon(i)
        }
        guard waitUntil(timeout: 15, {
            let states = self.states()
            return states.filter { $0 == "MASTER" }.count == 1 && states.allSatisfy { $0 != nil }
        }) else {
            throw ChildProcessError("the soak's cluster did not elect a MASTER: \(lab.log(nodes[0], tag: "-soak0"))")
        }
        log("seed \(options.seed): \(schedule.faults.count) faults in \(Int(options.seconds)) s")

        // Start and end of every fault, in time order; link flaps as their own toggles.
        var pending: [(time: Double, start: Bool, fault: FaultSchedule.Fault)] =
            schedule.faults.flatMap { [($0.start, true, $0), ($0.end, false, $0)] }
        pending.sort { $0.time < $1.time || ($0.time == $1.time && !$0.start && $1.start) }
        var flapping: [Int: (fault: FaultSchedule.Fault, next: Double, up: Bool)] = [:]
        let origin = Self.now()
        // The EC2 lab logs its host's wall-clock times: samples of that clock against the
        // run's map them (in the VM the host's clock is another machine's, and stepped
        // clocks are the VM's own).
        var hostClock: [(t: Double, host: Double)] = []
        func sampleHostClock() {
            guard options.routes, let sample = try? vpc.ec2.serverTime() else { return }
            hostClock.append((Self.now() - origin - sample.roundTrip / 2, sample.time))
        }
        sampleHostClock()
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
            if round % 100 == 0 { sampleHostClock() }
            if options.routes && round % 4 == 0, let target = routeTarget() {
                if target != lastTarget { routeMoves += 1; record(t, "route -> \(target.flatMap { id in instances.firstIndex(of: id).map { "n\($0 + 1)" } } ?? target ?? "none")") }
                lastTarget = target
                checker.route(at: t, target: target, masters: Set(sampled.indices.filter { sampled[$0] == "MASTER" }.map { instances[$0] }))
            }
            for violation in floods.check(at: t) {
                record(t, violation.what)
                checker.record(violation)
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
        sampleHostClock()
        var writes = 0
        if options.routes {
            let calls = (try? vpc.ec2.calls()) ?? []
            let made = calls.compactMap { call -> (time: Double, node: Int)? in
                guard ["ReplaceRoute", "CreateRoute"].contains(call["action"] as? String ?? ""),
                      let client = call["client"] as? String, let node = (0..<options.nodes).first(where: { Self.address($0) == client }),
                      let time = call["time"] as? Double,
                      let near = hostClock.min(by: { abs($0.host - time) < abs($1.host - time) }) else { return nil }
                return (near.t + time - near.host, node)
            }
            writes = made.count
            for violation in SoakChecker.backupWrites(made, log: stateLog) {
                checker.record(violation)
                log("VIOLATION \(violation)")
            }
        }
        // The steady daemon's first life is the whole run: judged flat or leaking.
        var growth: (node: Int, growth: ResourceTrend.Growth)?
        if let steady, let life = trends.first(where: { $0.node == steady }), let measured = life.trend.growth {
            growth = (steady, measured)
            for leak in ResourceTrend.leaks(measured) {
                checker.record(SoakChecker.Violation(time: options.seconds, what: "n\(steady + 1)'s daemon: \(leak) (\(measured))"))
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
            try? FileManager.default.copyItem(atPath: lab.directory, toPath: directory)
            kept = directory
        }
        let longest = trends.compactMap { entry in entry.trend.slopes.map { (entry.node, $0) } }.max { $0.1.span < $1.1.span }
        var report = Report(seed: options.seed, setup: setup, seconds: options.seconds, faults: schedule.counts, checks: checker.checks,
                            routeChecks: checker.routeChecks, routeMoves: max(0, routeMoves), routeWrites: writes, heals: checker.heals,
                            worstConvergence: checker.worstConvergence, convergenceBound: checker.settings.convergenceBound,
                            violations: checker.violations, timelines: timelines, longestLife: longest, keptLogs: kept)
        (report.floods, report.floodSent, report.floodCounted) = (floods.checked, floods.sent, floods.countedTotal)
        report.steadyGrowth = growth
        report.lossDropped = nodes.map(lab.lossDropped).reduce(0, +)
        return report
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
            case (.apiSlow, true):
                try vpc.ec2.control(["fault": ["kind": "slow", "count": 1_000_000, "seconds": Double(fault.level ?? 500) / 1000]])
            case (.apiThrottle, false), (.apiError, false), (.apiUnavailable, false), (.apiHang, false), (.apiSlow, false):
                try vpc.ec2.control(["fault": [:] as [String: Any]])
            case (.imdsDown, _): try vpc.ec2.control(["imds_down": start])
            case (.credentialsExpire, true): try vpc.ec2.control(["expire_keys": true])
            case (.credentialsExpire, false): break
            case (.loss, _):
                losses[i] = start ? fault.level : nil
                try lab.setLoss(Dictionary(uniqueKeysWithValues: losses.map { (nodes[$0.key], $0.value) }))
            case (.flood, true): try floods.start(fault, victim: i, at: t)
            case (.flood, false): floods.end(fault, at: t)
            case (.delay, true):
                let ms = fault.level ?? 100
                try lab.exec(nodes[i], ["tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "delay", "\(ms)ms", "\(ms / 2)ms",
                                        "reorder", "25%", "50%"])
            case (.duplicate, true):
                try lab.exec(nodes[i], ["tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "duplicate", "\(fault.level ?? 20)%"])
            case (.delay, false), (.duplicate, false): try lab.exec(nodes[i], ["tc", "qdisc", "del", "dev", "eth0", "root"])
            case (.clockStep, true): try stepClock(by: Double(fault.level ?? 60))
            case (.clockStep, false): try stepClock(by: -Double(fault.level ?? 60))
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

    /// Steps this machine's wall clock (the kernel-tier VM's own) by `seconds`.
    private func stepClock(by seconds: Double) throws {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let next = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 + seconds
        var target = timespec(tv_sec: Int(next.rounded(.down)), tv_nsec: Int((next - next.rounded(.down)) * 1e9))
        guard clock_settime(CLOCK_REALTIME, &target) == 0 else {
            throw ChildProcessError("clock_settime: \(String(cString: strerror(errno)))")
        }
        clockOffset += seconds
    }

    static var inKernelTier: Bool { ProcessInfo.processInfo.environment["OVERCAST_KERNEL_TIER"] == "1" }

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
        // GRE: the peers are the overlay's tunnels; VRRP is multicast on ovc0.
        let overlay = options.transport == .gre
            ? "overlay ovc0 {\n  local \(Self.address(i))\n  peers {\n" + peers.map { "    \($0)\n" }.joined()
                + "  }\n  key 42\n  address 10.200.0.\(i + 1)/24\n}\n"
            : ""
        var extra = options.transport == .replicate ? ["transport replicate", "replicate_mode l3"] : []
        if options.hmac { extra += ["authentication {", "  auth_type HMAC_SHA256", "  auth_key_file \(keyPath)", "}"] }
        let routes = options.routes ? ["ec2_route_failover {", "  route_table \(vpc.routeTables[0])", "  endpoint \(vpc.ec2.endpoint)",
                                       "  imds_endpoint \(vpc.ec2.imdsEndpoint)", "  refresh 1", "  api_timeout 1", "}"] : []
        var instance = LabInstance(priority: priority, version: options.version, advertInt: interval,
                                   password: options.version == 2 && !options.hmac ? "1111" : nil,
                                   source: options.transport == .gre ? nil : Self.address(i),
                                   peers: options.transport == .gre ? [] : peers, extra: extra + routes)
        if options.transport == .gre { instance.interface = "ovc0" }
        return overlay + instance.text
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

    /// The packets node `i`'s daemon has dropped and counted, under every reason and in
    /// its sockets' queues (nil: it did not answer).
    private func packetsCounted(_ i: Int) -> Int? {
        guard daemons[i] != nil, let instance = lab.instance(nodes[i], timeout: 0.5) else { return nil }
        let rejected = (instance["rejected"] as? [String: Int] ?? [:]).values.reduce(0, +)
        let transport = instance["transportCounters"] as? [String: Int] ?? [:]
        return rejected + (transport["queue_drops"] ?? 0) + (transport["queue_drops_other"] ?? 0)
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
