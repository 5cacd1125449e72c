import Config

/// Every checker of the running configuration and where it stands: its policy (up or
/// down, retries so far), when it runs next, whether a run is in flight and how that run
/// is going. A value without a clock or a thread: the monitor keeps it under its lock and
/// passes the time in, tests drive it with made-up times.
///
/// Checkers and real servers are found by slot, not by key: at 1,000 real servers a
/// second, hashing the long keys (a key holds the checker's whole description) on every
/// start and result was an eighth of the checker's instructions (callgrind). Whether a
/// server is alive is asked on every finished check, so it reads only that server's
/// checkers.
public struct CheckerTable: Sendable {
    /// A checker run in flight: whose it is. A run started under an earlier configuration
    /// finds its checker again by key, because the slots changed.
    public struct Run: Sendable, Hashable {
        var generation: Int
        var slot: Int
        var key: String
    }

    /// A run that is due: whose it is, when it was due, and what to ask.
    public struct DueRun: Sendable {
        public var run: Run
        public var due: Double
        public var targets: [CheckTarget]
        public var script: HealthPlan.Script?
    }

    /// A real server that went up or down, and what that calls for.
    public struct ServerChange: Sendable, Hashable {
        public var server: HealthPlan.Server
        public var isUp: Bool
        /// The first failure of the run that took it down, or "check succeeded".
        public var reason: String
        /// Its notify_up or notify_down script, if any.
        public var notify: String?
    }

    struct Checker: Sendable {
        var plan: HealthPlan.Checker
        var policy: CheckerPolicy
        var nextRun: Double
        var running = false
        /// Targets of the run in flight still to answer.
        var pending = 0
        /// The first failure of the run in flight (or of the last one, once it is over).
        var failure: String?
        /// misc_dynamic: the weight the script's exit status asked for (status - 2).
        var dynamicWeight: Int?
    }

    private(set) var checkers: [Checker] = []
    /// Each checker's slot by key: a reload keeps a checker's state by its key.
    private var slots: [String: Int] = [:]
    private(set) var servers: [HealthPlan.Server] = []
    /// The checkers (slots) of each real server, by the server's slot.
    private var serverCheckers: [[Int]] = []
    private var serverSlots: [RealServerID: Int] = [:]
    /// Counts the configurations, so that a run knows whether its slot is still its own.
    private var generation = 0
    /// Checkers not running (slots), by their next run (stale entries are skipped).
    private var queue = DueQueue<Int>()
    /// ha_suspend: the real servers (slots) whose checkers rest, as of the host's
    /// addresses last told (`setLocalAddresses`); none after `replace` until told.
    private var suspendedServers: Set<Int> = []
    /// The host's addresses last told; a reload's caller may tell them again.
    public private(set) var localAddresses: Set<[UInt8]> = []
    /// FILE_CHECKs, the ones of each real server (by the server's slot), and the tracked
    /// files' numbers last read (kept across a reload: they are the files', not the
    /// checks'; a file never read counts as 0).
    var fileChecks: [FileCheck] = []
    var serverFileChecks: [[Int]] = []
    var fileValues: [String: Int] = [:]

    /// A real server whose checkers were suspended or resumed (ha_suspend), for the log.
    public struct SuspensionChange: Sendable, Hashable {
        public var server: HealthPlan.Server
        public var suspended: Bool
    }

    public init() {}

    public var isEmpty: Bool { checkers.isEmpty }

    /// How many targets the checkers ask in all: at worst each holds a socket at once.
    public var targetCount: Int { checkers.reduce(0) { $0 + $1.plan.targets.count } }

    /// When the next checker is due, if any is waiting.
    public var earliestDue: Double? { queue.earliest }

    /// Replaces the checkers with `plan`'s at `now`. A checker with the same key and policy
    /// settings keeps its state, a run in flight included (it takes the plan's targets and
    /// scripts from its next run); a new one starts after a random part of its warmup
    /// (`warmupDraw`, in 0...1).
    public mutating func replace(with plan: HealthPlan, now: Double, warmupDraw: () -> Double) {
        var next: [Checker] = []
        next.reserveCapacity(plan.checkers.count)
        var nextSlots: [String: Int] = [:]
        var nextServerCheckers = [[Int]](repeating: [], count: plan.servers.count)
        for planned in plan.checkers {
            guard plan.servers.indices.contains(planned.server), nextSlots[planned.key] == nil else { continue }
            nextSlots[planned.key] = next.count
            nextServerCheckers[planned.server].append(next.count)
            if var old = slots[planned.key].map({ checkers[$0] }), old.policy.settings == planned.settings {
                old.plan = planned
                next.append(old)
                continue
            }
            var policy = CheckerPolicy(settings: planned.settings)
            var first = now
            for action in policy.handle(.start(warmupFraction: warmupDraw())) {
                if case .runCheck(let after, _) = action { first = now + after.inSeconds }
            }
            next.append(Checker(plan: planned, policy: policy, nextRun: first))
        }
        checkers = next
        fileChecks = plan.fileChecks.filter { plan.servers.indices.contains($0.server) }
        serverFileChecks = [[Int]](repeating: [], count: plan.servers.count)
        for (n, check) in fileChecks.enumerated() { serverFileChecks[check.server].append(n) }
        slots = nextSlots
        servers = plan.servers
        serverCheckers = nextServerCheckers
        serverSlots = Dictionary(plan.servers.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        generation += 1
        suspendedServers = []
        queue.removeAll()
        for (slot, c) in next.enumerated() where !c.running { queue.push(c.nextRun, slot) }
    }

    /// Starts the runs due at `now`, earliest first, at most `limit` of them.
    public mutating func startDue(at now: Double, limit: Int) -> [DueRun] {
        var list: [DueRun] = []
        while list.count < limit, let (time, slot) = queue.popDue(at: now) {
            guard slot < checkers.count, !checkers[slot].running, checkers[slot].nextRun == time else { continue }
            if suspendedServers.contains(checkers[slot].plan.server) {
                // Resting (ha_suspend): looks again a delay_loop later; the state stays.
                let next = max(time, now) + max(0.001, checkers[slot].plan.settings.delayLoop.inSeconds)
                checkers[slot].nextRun = next
                queue.push(next, slot)
                continue
            }
            checkers[slot].running = true
            checkers[slot].pending = max(1, checkers[slot].plan.targets.count)
            checkers[slot].failure = nil
            let plan = checkers[slot].plan
            list.append(DueRun(run: Run(generation: generation, slot: slot, key: plan.key), due: time,
                               targets: plan.targets, script: plan.script))
        }
        return list
    }

    /// The host's addresses are now `local`: the real servers whose checkers rest
    /// (ha_suspend) from here on, or run again, each once.
    public mutating func setLocalAddresses(_ local: Set<[UInt8]>) -> [SuspensionChange] {
        let resting = Set(servers.indices.filter { HASuspension.suspends(servers[$0], local: local) })
        localAddresses = local
        defer { suspendedServers = resting }
        return servers.indices.compactMap { i in
            resting.contains(i) == suspendedServers.contains(i) ? nil : SuspensionChange(server: servers[i], suspended: resting.contains(i))
        }
    }

    /// Whether a real server's checkers rest now (ha_suspend).
    public func isSuspended(_ id: RealServerID) -> Bool {
        serverSlots[id].map(suspendedServers.contains) ?? false
    }

    /// One target of a run finished at `now`; when the run's last target is in, the
    /// checker's policy decides. A result for a checker that is not running (a reload
    /// removed or replaced it) is dropped. Returns the server's change, if it changed.
    public mutating func record(_ run: Run, success: Bool, reason: String, at now: Double) -> ServerChange? {
        guard let slot = slot(of: run), checkers[slot].running else { return nil }
        if !success && checkers[slot].failure == nil { checkers[slot].failure = reason }
        checkers[slot].pending -= 1
        guard checkers[slot].pending <= 0 else { return nil }
        checkers[slot].running = false
        let server = checkers[slot].plan.server
        let wasAlive = isAlive(server: server)
        let failure = checkers[slot].failure
        for action in checkers[slot].policy.handle(failure.map { .failed($0) } ?? .succeeded) {
            if case .runCheck(let after, let anchor) = action {
                let next = Self.nextRun(due: checkers[slot].nextRun, now: now, after: after.inSeconds, anchor: anchor)
                checkers[slot].nextRun = next
                queue.push(next, slot)
            }
        }
        let nowAlive = isAlive(server: server)
        guard wasAlive != nowAlive else { return nil }
        let plan = checkers[slot].plan
        return ServerChange(server: servers[server], isUp: nowAlive, reason: failure ?? "check succeeded",
                            notify: nowAlive ? plan.notifyUp : plan.notifyDown)
    }

    /// MISC_CHECK's run ended with exit status `code` (nil: timed out) at `now`. Exit 0 is
    /// up; with misc_dynamic 1 is down and 2-255 up with weight status - 2 (keepalived's
    /// rule); a timeout is down. Returns the server's change and whether its weight changed.
    public mutating func recordScript(_ run: Run, exitStatus code: Int32?, at now: Double)
        -> (change: ServerChange?, weightChanged: Bool) {
        guard let code else { return (record(run, success: false, reason: "script timed out", at: now), false) }
        guard let slot = slot(of: run), checkers[slot].plan.script?.dynamic == true, code >= 2 else {
            return (record(run, success: code == 0, reason: "exit status \(code)", at: now), false)
        }
        let weight = Int(code) - 2
        let changed = checkers[slot].dynamicWeight != weight
        checkers[slot].dynamicWeight = weight
        return (record(run, success: true, reason: "", at: now), changed)
    }

    /// Whether a real server is up: all its checkers up (a server without checkers is up).
    public func isAlive(_ id: RealServerID) -> Bool {
        serverSlots[id].map(isAlive(server:)) ?? true
    }

    /// The weight misc_dynamic and FILE_CHECK give a real server instead of its
    /// configured one: misc_dynamic's replaces it, and each FILE_CHECK's number adds to
    /// that; nil when neither has a say.
    public func dynamicWeight(_ id: RealServerID) -> Int? {
        guard let server = serverSlots[id] else { return nil }
        let dynamic = serverCheckers[server].lazy.compactMap { checkers[$0].dynamicWeight }.first
        let offsets = fileOffsets(server: server)
        guard dynamic != nil || offsets != 0 else { return nil }
        let (sum, overflow) = (dynamic ?? servers[server].weight).addingReportingOverflow(offsets)
        return overflow ? (offsets > 0 ? Int.max : 0) : sum
    }

    /// Every real server with checkers, as status shows it, sorted; a server that is down
    /// shows the failure of one of its down checkers.
    public var states: [RealServerStatus] {
        var seen: [String: RealServerStatus] = [:]
        for c in checkers {
            let server = servers[c.plan.server]
            let key = "\(server.label)|\(server.id.address)|\(server.id.port)"
            var state = seen[key] ?? RealServerStatus(virtualServer: server.label, address: server.id.address,
                                                      port: Int(server.id.port), up: true, lastFailure: nil)
            state.up = state.up && c.policy.isUp
            if !c.policy.isUp { state.lastFailure = c.failure }
            seen[key] = state
        }
        for check in fileChecks {
            let server = servers[check.server]
            let key = "\(server.label)|\(server.id.address)|\(server.id.port)"
            var state = seen[key] ?? RealServerStatus(virtualServer: server.label, address: server.id.address,
                                                      port: Int(server.id.port), up: true, lastFailure: nil)
            if check.effect(of: fileValues[check.file] ?? 0) == .down {
                state.up = false
                state.lastFailure = Self.fileFailure(check, value: fileValues[check.file] ?? 0)
            }
            seen[key] = state
        }
        for (id, slot) in serverSlots {
            let key = "\(servers[slot].label)|\(id.address)|\(id.port)"
            seen[key]?.weight = dynamicWeight(id)
        }
        return seen.values.sorted { ($0.virtualServer, $0.address, $0.port) < ($1.virtualServer, $1.address, $1.port) }
    }

    /// When a checker runs next. `due` is when the check that just finished was due.
    /// A quick check (done within half the delay) keeps the cadence: next due = due +
    /// delay, so slow-ish servers are still asked every delay_loop. A slow one rests a
    /// whole delay after it finished, as keepalived does: when checks take longer than
    /// the interval (an overloaded checker or network), the offered load must fall with
    /// the latency, or retries and timeouts feed on each other.
    public static func nextRun(due: Double, now: Double, after delay: Double, anchor: CheckerPolicy.Anchor) -> Double {
        switch anchor {
        case .now: return now + delay
        case .previousRun: return now - due <= delay / 2 ? max(now, due + delay) : now + delay
        }
    }

    /// The checker's slot now; nil when a reload removed it.
    private func slot(of run: Run) -> Int? {
        if run.generation == generation { return run.slot }
        return slots[run.key]
    }

    func isAlive(server: Int) -> Bool {
        serverCheckers[server].allSatisfy { checkers[$0].policy.isUp } && !fileDown(server: server)
    }
}

extension Duration {
    /// The duration in seconds, as the checker's clock counts.
    var inSeconds: Double {
        let (s, a) = components
        return Double(s) + Double(a) / 1e18
    }
}
