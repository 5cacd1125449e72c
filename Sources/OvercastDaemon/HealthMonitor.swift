import Config
import Foundation
import LinuxNet
import HealthChecks
import IPVS
import Logging

/// Runs every real server's checkers (HTTP_GET, SSL_GET, TCP_CHECK on one libcurl
/// multi handle; MISC_CHECK through the script runner) on one thread, applies
/// keepalived's retry policy, and tells the load balancer when a server goes up or
/// down. Checker states survive a reload for servers whose checks did not change.
final class HealthMonitor: @unchecked Sendable {
    struct RealServerState: Codable, Sendable, Hashable {
        var virtualServer: String
        var address: String
        var port: Int
        var up: Bool
        var lastFailure: String?
    }

    /// One checker of one real server.
    private struct Checker {
        var key: String
        var server: DesiredTable.RealServerID
        /// The real server's place in `serverCheckers`.
        var serverSlot: Int
        var serverLabel: String
        var targets: [CheckTarget]
        var misc: (command: String, timeout: Double, dynamic: Bool)?
        /// misc_dynamic: the weight the script's exit status asked for (status - 2).
        var dynamicWeight: Int?
        var policy: CheckerPolicy
        var nextRun: Double
        var running = false
        var pending = 0
        var failure: String?
        var notifyUp: String?
        var notifyDown: String?
    }

    private let logger: Logger
    private let scripts: ScriptRunner
    private let lock = NSLock()
    /// The checkers, by slot. The checks thread finds a checker by its slot: at 1,000 real
    /// servers a second, hashing the long keys (a key holds the checker's whole
    /// description) on every start and result was an eighth of the checker's instructions
    /// (callgrind).
    private var checkers: [Checker] = []
    /// Each checker's slot by key: a reload keeps a checker's state by its key.
    private var slots: [String: Int] = [:]
    /// The checkers (slots) of each real server, by the server's slot: whether a server is
    /// alive is asked on every finished check, so it must not scan every checker.
    private var serverCheckers: [[Int]] = []
    private var serverSlots: [DesiredTable.RealServerID: Int] = [:]
    /// Counts the configurations: a run started under an earlier one finds its checker again
    /// by key, because the slots changed.
    private var generation = 0
    /// Checkers not running (slots), by their next run (stale entries are skipped).
    private var queue = DueQueue<Int>()
    private var miscResults: [(Run, Int32?)] = []

    /// A checker's run in flight: whose it is.
    private struct Run {
        var generation: Int
        var slot: Int
        var key: String
    }
    private var started = false
    /// The checker's own counters (written by the checks thread once per loop).
    private var counters = HealthCheckerStatus()
    /// The checker's counters; nil when no check has been configured.
    var checkerStatus: HealthCheckerStatus? { lock.withLock { started ? counters : nil } }
    private let wakeup = Wakeup()
    /// Called (on the monitor thread) whenever a real server goes up or down.
    var onChange: (@Sendable (@escaping @Sendable (DesiredTable.RealServerID) -> Bool,
                              @escaping @Sendable (DesiredTable.RealServerID) -> Int?) -> Void)?

    /// Tells the load balancer the current states and weights.
    private func notifyChange() {
        onChange?({ [weak self] id in self?.isAlive(id) ?? true }, { [weak self] id in self?.dynamicWeight(id) })
    }

    init(scripts: ScriptRunner, logger: Logger) {
        self.scripts = scripts
        self.logger = logger
    }

    /// Whether a real server is up: all its checkers up (a server without checkers is up).
    func isAlive(_ id: DesiredTable.RealServerID) -> Bool {
        lock.withLock { aliveLocked(id) }
    }

    /// Called with the lock held.
    private func aliveLocked(_ id: DesiredTable.RealServerID) -> Bool {
        serverSlots[id].map(aliveLocked(server:)) ?? true
    }

    /// Called with the lock held.
    private func aliveLocked(server: Int) -> Bool {
        serverCheckers[server].allSatisfy { checkers[$0].policy.isUp }
    }

    /// The checker's slot now, with the lock held; nil when a reload removed it.
    private func slotLocked(_ run: Run) -> Int? {
        if run.generation == generation { return run.slot }
        return slots[run.key]
    }

    var states: [RealServerState] {
        lock.withLock {
            var seen: [String: RealServerState] = [:]
            for c in checkers {
                let key = "\(c.serverLabel)|\(c.server.address)|\(c.server.port)"
                var state = seen[key] ?? RealServerState(virtualServer: c.serverLabel, address: c.server.address,
                                                         port: Int(c.server.port), up: true, lastFailure: nil)
                state.up = state.up && c.policy.isUp
                if !c.policy.isUp { state.lastFailure = c.failure }
                seen[key] = state
            }
            return seen.values.sorted { ($0.virtualServer, $0.address, $0.port) < ($1.virtualServer, $1.address, $1.port) }
        }
    }

    /// Replaces the checkers from `config`; unchanged ones keep their state.
    func configure(_ config: OvercastConfiguration) {
        let now = Self.clock()
        var next: [Checker] = []
        var nextSlots: [String: Int] = [:]
        var nextServerSlots: [DesiredTable.RealServerID: Int] = [:]
        var nextServerCheckers: [[Int]] = []
        var kept: [Int] = []
        for (index, vs) in config.virtualServers.enumerated() {
            let label: String
            switch vs.key {
            case .address(let a, let p): label = "\(vs.protocolName) \(a):\(p)"
            case .fwmark(let m): label = "fwmark \(m)"
            case .group(let g): label = "group \(g)"
            }
            for real in vs.realServers {
                let port = UInt16(clamping: real.port ?? 0)
                let id = DesiredTable.RealServerID(virtualServer: index, address: real.address, port: port)
                let serverSlot = nextServerSlots[id] ?? nextServerCheckers.count
                if serverSlot == nextServerCheckers.count {
                    nextServerSlots[id] = serverSlot
                    nextServerCheckers.append([])
                }
                for (n, checker) in real.checkers.enumerated() {
                    let key = "\(label)|\(real.address):\(port)|\(n)|\(checker)"
                    guard nextSlots[key] == nil else { continue }   // the same checker twice
                    nextSlots[key] = next.count
                    nextServerCheckers[serverSlot].append(next.count)
                    let delayLoop = checker.delayLoop ?? vs.delayLoop
                    // warmup defaults to delay_loop as in keepalived: first checks spread over
                    // one interval instead of every server asked in the same instant.
                    let settings = CheckerPolicy.Settings(
                        delayLoop: .milliseconds(Int64(delayLoop * 1000)),
                        retry: checker.retry ?? 1,
                        delayBeforeRetry: .milliseconds(Int64((checker.delayBeforeRetry ?? 1) * 1000)),
                        warmup: .milliseconds(Int64((checker.warmup ?? delayLoop) * 1000)), alpha: vs.alpha)
                    if var old = lock.withLock({ slots[key].map { checkers[$0] } }), old.policy.settings == settings {
                        old.server = id
                        old.serverSlot = serverSlot
                        kept.append(next.count)
                        next.append(old)
                        continue
                    }
                    var policy = CheckerPolicy(settings: settings)
                    var first = now
                    for action in policy.handle(.start(warmupFraction: Double.random(in: 0...1))) {
                        if case .runCheck(let after, _) = action { first = now + Self.seconds(after) }
                    }
                    let host = checker.connectIP ?? real.address
                    let target = checker.connectPort ?? Int(port)
                    let hostPart = host.contains(":") ? "[\(host)]" : host
                    var targets: [CheckTarget] = []
                    switch checker.kind {
                    case .httpGet, .sslGet:
                        let scheme = checker.kind == .sslGet ? "https" : "http"
                        targets = checker.urls.enumerated().map { u, url in
                            CheckTarget(id: "\(key)#\(u)", url: "\(scheme)://\(hostPart):\(target)\(url.path)",
                                        virtualHost: url.virtualhost ?? checker.virtualhost ?? vs.virtualhost,
                                        connectTimeout: checker.connectTimeout,
                                        kind: .http(expectedStatus: Set(url.statusCodes), digest: url.digest))
                        }
                    case .tcpCheck:
                        targets = [CheckTarget(id: "\(key)#0", url: "tcp://\(hostPart):\(target)",
                                               connectTimeout: checker.connectTimeout, kind: .tcpConnect)]
                    case .miscCheck:
                        break
                    }
                    let misc = checker.kind == .miscCheck
                        ? checker.miscPath.map { ($0, checker.miscTimeout ?? vs.delayLoop, checker.miscDynamic) } : nil
                    next.append(Checker(key: key, server: id, serverSlot: serverSlot, serverLabel: label, targets: targets, misc: misc,
                                        policy: policy, nextRun: first, notifyUp: real.notifyUp, notifyDown: real.notifyDown))
                }
            }
        }
        lock.withLock {
            // A kept checker's state as it is now: a run may have finished since it was read.
            for slot in kept {
                guard let old = slots[next[slot].key] else { continue }
                let (server, serverSlot) = (next[slot].server, next[slot].serverSlot)
                next[slot] = checkers[old]
                next[slot].server = server
                next[slot].serverSlot = serverSlot
            }
            checkers = next
            slots = nextSlots
            serverSlots = nextServerSlots
            serverCheckers = nextServerCheckers
            generation += 1
            queue.removeAll()
            for (slot, c) in next.enumerated() where !c.running { queue.push(c.nextRun, slot) }
        }
        ensureOpenFiles(checkTargets: next.reduce(0) { $0 + $1.targets.count })
        if !next.isEmpty && !lock.withLock({ started }) { start() }
        wakeup.signal()
    }

    /// Room for every check to hold its socket at once (`OpenFileLimit`), said in the log.
    private func ensureOpenFiles(checkTargets: Int) {
        let needed = OpenFileLimit.needed(checkTargets: checkTargets)
        guard let change = OpenFileLimit.raise(toAtLeast: needed) else { return }
        if change.after < needed {
            logger.warning("open files limit raised to the hard limit \(change.hard), below the \(needed) that \(checkTargets) health checks may hold at once; raise LimitNOFILE")
        } else {
            logger.info("open files limit raised from \(change.before) to \(change.after) for \(checkTargets) health checks")
        }
    }

    /// When a checker runs next. `due` is when the check that just finished was due.
    /// A quick check (done within half the delay) keeps the cadence: next due = due +
    /// delay, so slow-ish servers are still asked every delay_loop. A slow one rests a
    /// whole delay after it finished, as keepalived does: when checks take longer than
    /// the interval (an overloaded checker or network), the offered load must fall with
    /// the latency, or retries and timeouts feed on each other.
    static func nextRun(due: Double, now: Double, after delay: Double, anchor: CheckerPolicy.Anchor) -> Double {
        switch anchor {
        case .now: return now + delay
        case .previousRun: return now - due <= delay / 2 ? max(now, due + delay) : now + delay
        }
    }

    /// Check times are monotonic: they must not jump with the wall clock.
    static func clock() -> Double { CheckEngine.now() }

    static func seconds(_ d: Duration) -> Double {
        let (s, a) = d.components
        return Double(s) + Double(a) / 1e18
    }

    /// At most this many checker runs start between two passes over the transfers. A
    /// checker that fell behind finds hundreds due at once; starting them all (a connect
    /// each) made the next pass long, and every answer already in waited for it: in the
    /// emulated VM at 1,000 servers, 2 passes a second over ~350 transfers each, checks
    /// taking seconds. Capped, answers are read between batches of connects. A checker
    /// that keeps up starts a few per pass and never meets the cap.
    static let startsPerPass = 64

    private func start() {
        lock.withLock { started = true }
        let thread = Thread.named("checks") { [self] in run() }
        thread.start()
    }

    /// A checker run that is due: whose it is and what to check.
    private struct DueRun {
        var run: Run
        var targets: [CheckTarget]
        var misc: (command: String, timeout: Double, dynamic: Bool)?
    }

    private func run() {
        let engine = CheckEngine()
        // Which run each check in flight belongs to, by the engine's tag.
        var owners: [Int: Run] = [:]
        var tag = 0
        while true {
            let now = Self.clock()
            // Start what is due.
            let due = lock.withLock { () -> [DueRun] in
                var list: [DueRun] = []
                while list.count < Self.startsPerPass, let (time, slot) = queue.popDue(at: now) {
                    guard slot < checkers.count, !checkers[slot].running, checkers[slot].nextRun == time else { continue }
                    checkers[slot].running = true
                    checkers[slot].pending = max(1, checkers[slot].targets.count)
                    checkers[slot].failure = nil
                    let c = checkers[slot]
                    list.append(DueRun(run: Run(generation: generation, slot: slot, key: c.key), targets: c.targets, misc: c.misc))
                    counters.runsStarted += 1
                    counters.startLagSeconds += now - time
                }
                counters.mostStartsInOnePass = max(counters.mostStartsInOnePass, list.count)
                return list
            }
            for d in due {
                if let misc = d.misc {
                    let run = d.run
                    scripts.start(misc.command, timeout: misc.timeout) { [weak self] code in
                        self?.lock.withLock { self?.miscResults.append((run, code)) }
                        self?.wakeup.signal()
                    }
                } else if d.targets.isEmpty {
                    lock.withLock { miscResults.append((d.run, 0)) }
                } else {
                    for target in d.targets {
                        tag &+= 1
                        owners[tag] = d.run
                        if let failed = engine.start(target, tag: tag) {
                            owners[tag] = nil
                            record(d.run, success: false, reason: "\(failed)", at: now)
                        }
                    }
                }
            }
            // Collect finished checks.
            let nextDue = lock.withLock { queue.earliest } ?? (now + 1)
            // Checks left waiting by the cap below start after this pass, without a wait.
            let wait = nextDue <= now ? 0 : Int32(max(10, min(1000, (nextDue - Self.clock()) * 1000)))
            if engine.inFlight > 0 {
                for check in engine.perform(waitMilliseconds: wait) {
                    guard let run = owners.removeValue(forKey: check.tag) else { continue }
                    if case .failure(let reason) = check.result {
                        record(run, success: false, reason: reason, at: engine.passTime)
                    } else {
                        record(run, success: true, reason: "", at: engine.passTime)
                    }
                }
                lock.withLock {
                    counters.transfersFinished = engine.finishedCount
                    counters.transfersFailed = engine.failedCount
                    counters.timeouts = engine.timeouts
                    counters.inFlight = engine.inFlight
                    counters.passes = engine.passes
                    counters.transfersVisited = engine.transfersVisited
                }
            } else {
                var p = pollfd(fd: wakeup.readEnd, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, wait) > 0 { wakeup.drain() }
            }
            let misc = lock.withLock { () -> [(Run, Int32?)] in defer { miscResults.removeAll() }; return miscResults }
            for (run, code) in misc { recordScript(run, code) }
        }
    }

    /// MISC_CHECK: exit 0 is up; with misc_dynamic 1 is down and 2-255 up with weight
    /// status - 2 (keepalived's rule); a timeout is down.
    private func recordScript(_ run: Run, _ code: Int32?) {
        let now = Self.clock()
        let dynamic = lock.withLock { slotLocked(run).map { checkers[$0].misc?.dynamic ?? false } ?? false }
        guard let code else { record(run, success: false, reason: "script timed out", at: now); return }
        if dynamic && code >= 2 {
            let changed = lock.withLock { () -> Bool in
                guard let slot = slotLocked(run) else { return false }
                let old = checkers[slot].dynamicWeight
                checkers[slot].dynamicWeight = Int(code) - 2
                return old != Int(code) - 2
            }
            record(run, success: true, reason: "", at: now)
            if changed { notifyChange() }
            return
        }
        record(run, success: code == 0, reason: "exit status \(code)", at: now)
    }

    /// The weight misc_dynamic set for a real server, if any.
    func dynamicWeight(_ id: DesiredTable.RealServerID) -> Int? {
        lock.withLock {
            serverSlots[id].flatMap { server in serverCheckers[server].lazy.compactMap { self.checkers[$0].dynamicWeight }.first }
        }
    }

    /// One target (or script) of a run finished at `now`; when the run's last target is
    /// in, the checker's policy runs. A result for a checker that is not running (a
    /// reload replaced it) is dropped.
    private func record(_ run: Run, success: Bool, reason: String, at now: Double) {
        var change: (Checker, Bool)?
        lock.withLock {
            guard let slot = slotLocked(run), checkers[slot].running else { return }
            if !success && checkers[slot].failure == nil { checkers[slot].failure = reason }
            checkers[slot].pending -= 1
            guard checkers[slot].pending <= 0 else { return }
            checkers[slot].running = false
            let server = checkers[slot].serverSlot
            let wasAlive = aliveLocked(server: server)
            let failure = checkers[slot].failure
            for action in checkers[slot].policy.handle(failure.map { .failed($0) } ?? .succeeded) {
                if case .runCheck(let after, let anchor) = action {
                    let next = Self.nextRun(due: checkers[slot].nextRun, now: now, after: Self.seconds(after), anchor: anchor)
                    checkers[slot].nextRun = next
                    queue.push(next, slot)
                }
            }
            let nowAlive = aliveLocked(server: server)
            if wasAlive != nowAlive { change = (checkers[slot], nowAlive) }
        }
        guard let (c, isAlive) = change else { return }
        logger.warning(isAlive ? "real server up" : "real server down",
                       metadata: ["ipvs.service": "\(c.serverLabel)", "ipvs.real_server": "\(c.server.address):\(c.server.port)",
                                  "reason": "\(c.failure ?? "check succeeded")"])
        if let script = isAlive ? c.notifyUp : c.notifyDown { scripts.start(script) }
        notifyChange()
    }
}
