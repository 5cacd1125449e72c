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
    private var checkers: [String: Checker] = [:]
    /// The checkers of each real server (keys into `checkers`): whether a server is alive
    /// is asked on every finished check, so it must not scan every checker (1,000 real
    /// servers at delay_loop 1 would make that a million visits a second).
    private var checkersOf: [DesiredTable.RealServerID: [String]] = [:]
    /// Checkers not running, by their next run (stale entries are skipped).
    private var queue = DueQueue<String>()
    private var miscResults: [(String, Int32?)] = []
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
        (checkersOf[id] ?? []).allSatisfy { checkers[$0]?.policy.isUp ?? true }
    }

    var states: [RealServerState] {
        lock.withLock {
            var seen: [String: RealServerState] = [:]
            for c in checkers.values {
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
        var next: [String: Checker] = [:]
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
                for (n, checker) in real.checkers.enumerated() {
                    let key = "\(label)|\(real.address):\(port)|\(n)|\(checker)"
                    let delayLoop = checker.delayLoop ?? vs.delayLoop
                    // warmup defaults to delay_loop as in keepalived: first checks spread over
                    // one interval instead of every server asked in the same instant.
                    let settings = CheckerPolicy.Settings(
                        delayLoop: .milliseconds(Int64(delayLoop * 1000)),
                        retry: checker.retry ?? 1,
                        delayBeforeRetry: .milliseconds(Int64((checker.delayBeforeRetry ?? 1) * 1000)),
                        warmup: .milliseconds(Int64((checker.warmup ?? delayLoop) * 1000)), alpha: vs.alpha)
                    if var kept = lock.withLock({ checkers[key] }), kept.policy.settings == settings {
                        kept.server = id
                        next[key] = kept
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
                    next[key] = Checker(key: key, server: id, serverLabel: label, targets: targets, misc: misc, policy: policy,
                                        nextRun: first, notifyUp: real.notifyUp, notifyDown: real.notifyDown)
                }
            }
        }
        let index = Dictionary(grouping: next.values, by: \.server).mapValues { $0.map(\.key) }
        lock.withLock {
            checkers = next
            checkersOf = index
            queue.removeAll()
            for c in next.values where !c.running { queue.push(c.nextRun, c.key) }
        }
        if !next.isEmpty && !lock.withLock({ started }) { start() }
        wakeup.signal()
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

    private func run() {
        let engine = CheckEngine()
        var targetOwner: [String: String] = [:]
        while true {
            let now = Self.clock()
            // Start what is due.
            let due = lock.withLock { () -> [Checker] in
                var list: [Checker] = []
                while list.count < Self.startsPerPass, let (time, key) = queue.popDue(at: now) {
                    guard var c = checkers[key], !c.running, c.nextRun == time else { continue }
                    c.running = true
                    c.pending = max(1, c.targets.count)
                    c.failure = nil
                    checkers[key] = c
                    list.append(c)
                    counters.runsStarted += 1
                    counters.startLagSeconds += now - time
                }
                return list
            }
            for c in due {
                if let misc = c.misc {
                    let key = c.key
                    scripts.start(misc.command, timeout: misc.timeout) { [weak self] code in
                        self?.lock.withLock { self?.miscResults.append((key, code)) }
                        self?.wakeup.signal()
                    }
                } else if c.targets.isEmpty {
                    lock.withLock { miscResults.append((c.key, 0)) }
                } else {
                    for target in c.targets {
                        targetOwner[target.id] = c.key
                        if let failed = engine.start(target) { record(c.key, success: false, reason: "\(failed)") }
                    }
                }
            }
            // Collect finished checks.
            let nextDue = lock.withLock { queue.earliest } ?? (now + 1)
            // Checks left waiting by the cap below start after this pass, without a wait.
            let wait = nextDue <= now ? 0 : Int32(max(10, min(1000, (nextDue - Self.clock()) * 1000)))
            if engine.inFlight > 0 {
                for (id, result) in engine.perform(waitMilliseconds: wait) {
                    guard let key = targetOwner.removeValue(forKey: id) else { continue }
                    if case .failure(let reason) = result { record(key, success: false, reason: reason) } else { record(key, success: true, reason: "") }
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
            let misc = lock.withLock { () -> [(String, Int32?)] in defer { miscResults.removeAll() }; return miscResults }
            for (key, code) in misc { recordScript(key, code) }
        }
    }

    /// MISC_CHECK: exit 0 is up; with misc_dynamic 1 is down and 2-255 up with weight
    /// status - 2 (keepalived's rule); a timeout is down.
    private func recordScript(_ key: String, _ code: Int32?) {
        let dynamic = lock.withLock { checkers[key]?.misc?.dynamic ?? false }
        guard let code else { record(key, success: false, reason: "script timed out"); return }
        if dynamic && code >= 2 {
            let changed = lock.withLock { () -> Bool in
                let old = checkers[key]?.dynamicWeight
                checkers[key]?.dynamicWeight = Int(code) - 2
                return old != Int(code) - 2
            }
            record(key, success: true, reason: "")
            if changed { notifyChange() }
            return
        }
        record(key, success: code == 0, reason: "exit status \(code)")
    }

    /// The weight misc_dynamic set for a real server, if any.
    func dynamicWeight(_ id: DesiredTable.RealServerID) -> Int? {
        lock.withLock { checkers.values.first { $0.server == id && $0.dynamicWeight != nil }?.dynamicWeight }
    }

    /// One target (or script) finished; when a checker's last target is in, its policy runs.
    private func record(_ key: String, success: Bool, reason: String) {
        var change: (Checker, Bool)?
        lock.withLock {
            guard var c = checkers[key] else { return }
            if !success && c.failure == nil { c.failure = reason }
            c.pending -= 1
            guard c.pending <= 0 else { checkers[key] = c; return }
            c.running = false
            let wasAlive = aliveLocked(c.server)
            let actions = c.policy.handle(c.failure == nil ? .succeeded : .failed(c.failure ?? "failed"))
            for action in actions {
                if case .runCheck(let after, let anchor) = action {
                    c.nextRun = Self.nextRun(due: c.nextRun, now: Self.clock(), after: Self.seconds(after), anchor: anchor)
                    queue.push(c.nextRun, key)
                }
            }
            checkers[key] = c
            let nowAlive = aliveLocked(c.server)
            if wasAlive != nowAlive { change = (c, nowAlive) }
        }
        guard let (c, isAlive) = change else { return }
        logger.warning(isAlive ? "real server up" : "real server down",
                       metadata: ["ipvs.service": "\(c.serverLabel)", "ipvs.real_server": "\(c.server.address):\(c.server.port)",
                                  "reason": "\(c.failure ?? "check succeeded")"])
        if let script = isAlive ? c.notifyUp : c.notifyDown { scripts.start(script) }
        notifyChange()
    }
}
