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
        /// Two web servers behind the VIP (IPVS DR, HTTP_GET checks), a client, and the
        /// web servers' faults: needs IPVS, so the kernel-tier VM.
        public var webServers = false
        public init(seed: UInt64, seconds: Double) {
            self.seed = seed
            self.seconds = seconds
        }
    }

    public typealias Report = SoakReport

    let options: Options
    let log: (String) -> Void
    var vpc: VPCLab!
    var lab: NetworkLab { vpc.network }
    var nodes: [NetworkLab.Node] = []
    var daemons: [ChildProcess?] = []
    var configPaths: [String] = []
    var restarts: [Int] = []
    /// What happened, in order, for the timelines around violations.
    var events: [(Double, String)] = []
    var lastStates: [String?] = []
    /// Every sample, on the run's clock, for matching the EC2 lab's log of route writes.
    var stateLog: [(time: Double, observed: [SoakChecker.Observation])] = []
    /// Each daemon life's resources (current and ended lives).
    var trends: [(node: Int, trend: ResourceTrend)] = []
    var currentTrend: [Int: Int] = [:]
    /// Nodes whose daemon is stopped (SIGSTOP): not asked, as it cannot answer.
    var paused: Set<Int> = []
    /// The web servers and the client (with `webServers`).
    var web: SoakWeb?
    /// Daemons started that have not answered status yet, and those with a reload held
    /// until they do.
    var starting: Set<Int> = []
    var reloadsHeld: [Int: String?] = [:]
    /// How far this run has stepped the wall clock (undone at the end).
    var clockOffset = 0.0
    /// The loss on each node's link, in percent.
    var losses: [Int: Int] = [:]
    var floods: SoakFloods!

    public init(options: Options, log: @escaping (String) -> Void) {
        self.options = options
        self.log = log
    }

    static func address(_ n: Int) -> String { SoakClusterConfig.address(n) }
    static let strangerAddress = "172.31.18.99"

    var setup: String {
        "\(options.transport.rawValue), VRRPv\(options.version) at \(String(format: "%g", advertInterval)) s, "
            + (options.hmac ? "HMAC-SHA256" : options.version == 2 ? "PASS" : "no authentication")
    }

    var keyPath: String { lab.path("soak-hmac.key") }

    /// The interval the daemons advertise at: VRRPv2 carries whole seconds (at least 1).
    var advertInterval: Double {
        options.version == 2 ? max(1, options.advertInterval.rounded(.up)) : options.advertInterval
    }
    static let destination = "192.168.20.11/32"

    public func run() throws -> Report {
        // The API's faults only where there is an API to call; netem and clock steps only
        // in the kernel-tier VM.
        var kinds = options.routes ? options.kinds : options.kinds.filter { !FaultSchedule.Kind.api.contains($0) }
        if !Self.inKernelTier {
            let left = kinds.filter(FaultSchedule.Kind.vmOnly.contains)
            if !left.isEmpty { log("left out (they need the kernel-tier VM): \(left.map(\.rawValue).joined(separator: ", "))") }
            kinds.removeAll(where: FaultSchedule.Kind.vmOnly.contains)
        }
        if !options.webServers { kinds.removeAll(where: FaultSchedule.Kind.web.contains) }
        if options.webServers && !Self.inKernelTier {
            throw ChildProcessError("load balancing needs IPVS in the kernel: run the soak with web servers in the kernel-tier VM")
        }
        if options.transport == .gre && !Self.inKernelTier {
            throw ChildProcessError("the gre transport needs GRE in the kernel: run the soak in the kernel-tier VM (scripts/soak.sh)")
        }
        // A run long enough to judge a daemon's resources keeps one daemon alive throughout.
        let steady = options.seconds >= ResourceTrend.minimumSpan + 10 ? options.nodes - 1 : nil
        let schedule = FaultSchedule(seed: options.seed, duration: options.seconds, nodes: options.nodes,
                                     kinds: kinds, meanGap: options.meanGap, steadyNode: steady)
        let lowest = SoakClusterConfig.lowestPriority(nodes: options.nodes)
        // A daemon (re)started in the kernel-tier VM, whose CPUs are emulated, takes
        // seconds to answer its first status (2-3 s seen); on this host, well under one.
        var checker = SoakChecker(settings: .init(advertInterval: advertInterval, lowestPriority: lowest,
                                                  answerBound: Self.inKernelTier ? 8 : 2),
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
        // With gre the instances listen on the overlay, not on eth0 where the flood
        // arrives: it must disturb nothing, but no count can be matched to it.
        floods = SoakFloods(sender: stranger, nodes: nodes, addresses: (0..<options.nodes).map(Self.address),
                            stranger: Self.strangerAddress, rate: Self.inKernelTier ? 1_000 : 5_000,
                            counted: options.transport == .gre ? nil : { [unowned self] in self.packetsCounted($0) })
        daemons = Array(repeating: nil, count: options.nodes)
        restarts = Array(repeating: 0, count: options.nodes)
        configPaths = (0..<options.nodes).map { lab.path("n\($0 + 1)-soak.conf") }
        lastStates = Array(repeating: nil, count: options.nodes)
        if options.hmac {
            try "soak-key-shared-by-every-node-0123".write(toFile: keyPath, atomically: true, encoding: .utf8)
            chmod(keyPath, 0o600)
        }
        // The client's timeout: 0.5 s on this host; the emulated VM answers slower.
        if options.webServers {
            web = try SoakWeb(vpc: vpc, timeout: Self.inKernelTier ? 1 : 0.5)
            guard web?.waitForServers(timeout: 120) == true else { throw ChildProcessError("the soak's web servers did not start") }
            checker.setClientGapBound(2 * (SoakWeb.interval + (web?.timeout ?? 1)) + checker.settings.slack)
        }
        defer { web?.stop() }
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
        web?.startClient { Self.now() - origin }
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
            for answer in web?.drain() ?? [] { checker.client(at: answer.time, answered: answer.ok) }
            round += 1
            if round % 20 == 0 {
                for (i, daemon) in daemons.enumerated() {
                    guard let daemon, let slot = currentTrend[i], let point = ResourceTrend.read(pid: daemon.pid, at: t) else { continue }
                    trends[slot].trend.add(point)
                }
            }
            // Every 10 rounds (0.5 s here, about 5 s in the VM, whose emulated clock drifts
            // from the host's by percents): the log's times are interpolated between them.
            if round % 10 == 0 { sampleHostClock() }
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
        if let web {
            let end = Self.now() - origin
            for problem in web.endProblems(balancers: nodes, master: lastStates.firstIndex(of: "MASTER")) {
                checker.record(SoakChecker.Violation(time: end, what: problem))
            }
        }
        var writes = 0
        if options.routes {
            let calls = (try? vpc.ec2.calls()) ?? []
            let made = calls.compactMap { call -> (time: Double, node: Int)? in
                guard ["ReplaceRoute", "CreateRoute"].contains(call["action"] as? String ?? ""),
                      let client = call["client"] as? String, let node = (0..<options.nodes).first(where: { Self.address($0) == client }),
                      let time = call["time"] as? Double,
                      let t = Self.runTime(ofHostTime: time, samples: hostClock) else { return nil }
                return (t, node)
            }
            writes = made.count
            // A request sent as MASTER can reach the API later: up to the API timeout (1 s)
            // here; in the VM it also crosses a user-space relay to the host's proxy on
            // emulated CPUs (seed 401: 1.6 s after its sender had left MASTER).
            for violation in SoakChecker.backupWrites(made, log: stateLog, window: Self.inKernelTier ? 3 : 1) {
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
        var report = Report(seed: options.seed, setup: setup, transport: options.transport.rawValue, version: options.version,
                            hmac: options.hmac, seconds: options.seconds, faults: schedule.counts, checks: checker.checks,
                            routeChecks: checker.routeChecks, routeMoves: max(0, routeMoves), routeWrites: writes, heals: checker.heals,
                            worstConvergence: checker.worstConvergence, convergenceBound: checker.settings.convergenceBound,
                            violations: checker.violations, timelines: timelines,
                            longestLife: longest.map { .init(node: $0.0, slopes: $0.1) }, keptLogs: kept)
        (report.floods, report.floodSent, report.floodCounted) = (floods.checked, floods.sent, floods.countedTotal)
        report.floodsUnmatched = floods.unmatched
        report.steadyGrowth = growth.map { .init(node: $0.node, growth: $0.growth) }
        if web != nil {
            report.client = .init(requests: checker.clientRequests, answers: checker.clientAnswers, longestGap: checker.longestClientGap,
                                  longestQuietGap: checker.longestQuietClientGap, gapBound: checker.settings.clientGapBound)
        }
        report.lossDropped = nodes.map(lab.lossDropped).reduce(0, +)
        return report
    }

    func config(_ i: Int, priorityShift: Bool = false, dropPeer: Bool = false) -> String {
        SoakClusterConfig(transport: options.transport, version: options.version, hmac: options.hmac, nodes: options.nodes,
                          advertInterval: advertInterval, keyPath: keyPath,
                          routes: options.routes ? (vpc.routeTables[0], vpc.ec2.endpoint, vpc.ec2.imdsEndpoint) : nil)
            .with(realServers: options.webServers ? SoakWeb.addresses : [])
            .text(node: i, priorityShift: priorityShift, dropPeer: dropPeer)
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
            answered(i)
            let counters = instance["counters"] as? [String: Any]
            return SoakChecker.Observation(state: instance["state"] as? String,
                                           becameMaster: instance["becameMaster"] as? Int ?? counters?["becameMaster"] as? Int)
        }
    }

    /// A time of the EC2 lab's host clock on the run's clock: interpolated between the
    /// samples either side of it (the clocks drift apart in the VM), else from the nearest.
    static func runTime(ofHostTime time: Double, samples: [(t: Double, host: Double)]) -> Double? {
        if let after = samples.firstIndex(where: { $0.host >= time }), after > 0 {
            let (a, b) = (samples[after - 1], samples[after])
            guard b.host > a.host else { return a.t + time - a.host }
            return a.t + (time - a.host) * (b.t - a.t) / (b.host - a.host)
        }
        return samples.min { abs($0.host - time) < abs($1.host - time) }.map { $0.t + time - $0.host }
    }

    /// The packets node `i`'s daemon has dropped and counted, under every reason and in
    /// its sockets' queues (nil: it did not answer).
    private func packetsCounted(_ i: Int) -> SoakFloods.Count? {
        guard daemons[i] != nil, let status = lab.overcastStatus(nodes[i], timeout: 0.5),
              let instance = (status["instances"] as? [[String: Any]])?.first, let reloads = status["reloads"] as? Int else { return nil }
        let rejected = (instance["rejected"] as? [String: Int] ?? [:]).values.reduce(0, +)
        let transport = instance["transportCounters"] as? [String: Int] ?? [:]
        return .init(packets: rejected + (transport["queue_drops"] ?? 0) + (transport["queue_drops_other"] ?? 0), reloads: reloads)
    }

    /// The VIP's route target in moto: .some(nil) when there is no route, nil when moto
    /// could not be asked.
    private func routeTarget() -> String?? {
        do { return .some(try vpc.routeTarget(Self.destination)) } catch { return nil }
    }

    func record(_ t: Double, _ what: String) { events.append((t, what)) }

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
