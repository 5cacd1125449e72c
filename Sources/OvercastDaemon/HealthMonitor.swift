import Config
import Foundation
import HealthChecks
import LinuxNet
import Logging

/// The daemon's health checks: runs the checkers of `HealthPlan` on one thread (HTTP_GET,
/// SSL_GET and TCP_CHECK on the `CheckEngine`, MISC_CHECK through the script runner),
/// keeps their state in a `CheckerTable`, and tells the load balancer when a real server
/// goes up or down. Checker states survive a reload for checkers that did not change.
///
/// The table stays under a lock rather than being the thread's alone: status readers and
/// the load balancer's thread (through `onChange`'s closures) read it live, and a copy
/// published on every pass would copy a 1,000-checker table each time.
final class HealthMonitor: @unchecked Sendable {
    private let logger: Logger
    private let scripts: ScriptRunner
    private let lock = NSLock()
    // Under `lock`.
    private var table = CheckerTable()
    /// MISC_CHECK exits handed over by the script runner's threads.
    private var scriptResults: [(CheckerTable.Run, Int32?)] = []
    private var started = false
    /// The configuration last applied: what omega reads at stop.
    private var config: OvercastConfiguration?
    /// Set at daemon stop: results that arrive after it change nothing.
    private var stopping = false
    /// ha_suspend's address watch, started with the first configuration that needs it.
    private var addressWatch: LocalAddressWatch?
    /// Orders the reads of the host's addresses (configure's and the watch's): a read
    /// applies only when it began after the last one applied, so an older read that
    /// finishes late cannot undo a newer one.
    private var addressReads = 0
    private var appliedAddressRead = 0
    /// The checker's own counters (written by the checks thread once per loop).
    private var counters = HealthCheckerStatus()

    private let wakeup = Wakeup()

    /// The checker's counters; nil when no check has been configured.
    var checkerStatus: HealthCheckerStatus? { lock.withLock { started ? counters : nil } }

    /// Every real server with checkers, for status.
    var states: [RealServerStatus] { lock.withLock { table.states } }

    /// Called (on the checks thread) whenever a real server goes up or down or a
    /// misc_dynamic weight changes, with how to ask any server's state and weight.
    var onChange: (@Sendable (@escaping @Sendable (RealServerID) -> Bool,
                              @escaping @Sendable (RealServerID) -> Int?) -> Void)?

    /// Called (on the checks thread) with each real server that went up or down (the
    /// e-mail alerts). Set before the first `configure`.
    var onServerChange: (@Sendable (CheckerTable.ServerChange) -> Void)?

    init(scripts: ScriptRunner, logger: Logger) {
        self.scripts = scripts
        self.logger = logger
    }

    /// Whether a real server is up: all its checkers up (a server without checkers is up).
    func isAlive(_ id: RealServerID) -> Bool {
        lock.withLock { table.isAlive(id) }
    }

    /// The weight misc_dynamic and FILE_CHECK give a real server, if any.
    func dynamicWeight(_ id: RealServerID) -> Int? {
        lock.withLock { table.dynamicWeight(id) }
    }

    /// Replaces the checkers from `config`; unchanged ones keep their state. The plan is
    /// worked out before the lock is taken: the checks thread waits only for the swap.
    func configure(_ config: OvercastConfiguration) {
        let plan = HealthPlan(config)
        // ha_suspend: the watch first, so no address change between this read and it is missed.
        if plan.watchesLocalAddresses { startAddressWatch() }
        let read = plan.watchesLocalAddresses ? readLocalAddresses() : nil
        let now = Self.clock()
        let (targets, isEmpty, wasStarted, suspensions) = lock.withLock { () -> (Int, Bool, Bool, [CheckerTable.SuspensionChange]) in
            self.config = config
            table.replace(with: plan, now: now, warmupDraw: { Double.random(in: 0...1) })
            var suspensions: [CheckerTable.SuspensionChange] = []
            if let read {
                let newer = read.ticket > appliedAddressRead
                if newer { appliedAddressRead = read.ticket }
                suspensions = table.setLocalAddresses(newer ? read.addresses : table.localAddresses)
            }
            return (table.targetCount, table.isEmpty, started, suspensions)
        }
        logSuspensions(suspensions)
        ensureOpenFiles(checkTargets: targets)
        if !isEmpty && !wasStarted { start() }
        wakeup.signal()
        // FILE_CHECK's states are known now (the numbers were read before): the load
        // balancer must not program a server that a file has taken down.
        if !plan.fileChecks.isEmpty { notifyChange() }
    }

    /// A tracked file's number changed (the file watch's thread, or the configuring one):
    /// the FILE_CHECKs that read it move their servers at once.
    func fileChanged(_ name: String, value: Int) {
        let (changes, weightChanged) = lock.withLock { stopping ? ([], false) : table.recordFile(name, value: value) }
        for change in changes { announce(change) }
        if weightChanged && changes.isEmpty { notifyChange() }
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

    /// Check times are monotonic: they must not jump with the wall clock.
    static func clock() -> Double { CheckEngine.now() }

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

    /// The checks thread: start what is due, wait for answers (or the next due run, or a
    /// wake-up), record what finished.
    private func run() {
        let engine = CheckEngine()
        // Which run each check in flight belongs to, by the engine's tag.
        var owners: [Int: CheckerTable.Run] = [:]
        var tag = 0
        while true {
            let now = Self.clock()
            let due = lock.withLock { () -> [CheckerTable.DueRun] in
                let list = table.startDue(at: now, limit: Self.startsPerPass)
                counters.runsStarted += list.count
                for d in list { counters.startLagSeconds += now - d.due }
                counters.mostStartsInOnePass = max(counters.mostStartsInOnePass, list.count)
                return list
            }
            for d in due {
                if let script = d.script {
                    let run = d.run
                    scripts.start(script.command, timeout: script.timeout, user: script.user, group: script.group) { [weak self] code in
                        self?.lock.withLock { self?.scriptResults.append((run, code)) }
                        self?.wakeup.signal()
                    }
                } else if d.targets.isEmpty {
                    lock.withLock { scriptResults.append((d.run, 0)) }
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
            let nextDue = lock.withLock { table.earliestDue } ?? (now + 1)
            // Checks left waiting by the cap start after this pass, without a wait.
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
            let exits = lock.withLock { () -> [(CheckerTable.Run, Int32?)] in defer { scriptResults.removeAll() }; return scriptResults }
            for (run, code) in exits {
                let now = Self.clock()
                let (change, weightChanged) = lock.withLock { stopping ? (nil, false) : table.recordScript(run, exitStatus: code, at: now) }
                if let change { announce(change) }
                if weightChanged { notifyChange() }
            }
        }
    }

    /// One target (or script) of a run finished at `now`.
    private func record(_ run: CheckerTable.Run, success: Bool, reason: String, at now: Double) {
        guard let change = lock.withLock({ stopping ? nil : table.record(run, success: success, reason: reason, at: now) }) else { return }
        announce(change)
    }

    /// A real server went up or down: the log, its notify script, the load balancer.
    private func announce(_ change: CheckerTable.ServerChange) {
        logger.warning(change.isUp ? "real server up" : "real server down",
                       metadata: ["ipvs.service": "\(change.server.label)",
                                  "ipvs.real_server": "\(change.server.id.address):\(change.server.id.port)",
                                  "reason": "\(change.reason)"])
        if let script = change.notify { scripts.start(script) }
        onServerChange?(change)
        notifyChange()
    }

    /// ha_suspend: the host's addresses changed (the watch's thread).
    func localAddressesChanged(_ read: (ticket: Int, addresses: Set<[UInt8]>)) {
        let changes = lock.withLock { () -> [CheckerTable.SuspensionChange] in
            guard read.ticket > appliedAddressRead else { return [] }
            appliedAddressRead = read.ticket
            return table.setLocalAddresses(read.addresses)
        }
        logSuspensions(changes)
        if !changes.isEmpty { wakeup.signal() }
    }

    private func logSuspensions(_ changes: [CheckerTable.SuspensionChange]) {
        for change in changes {
            logger.info(change.suspended ? "health checks suspended: no address of the virtual server is on this host (ha_suspend)"
                                         : "health checks resumed: the virtual server's address is on this host (ha_suspend)",
                        metadata: ["ipvs.service": "\(change.server.label)",
                                   "ipvs.real_server": "\(change.server.id.address):\(change.server.id.port)"])
        }
    }

    private func startAddressWatch() {
        let start = lock.withLock { () -> Bool in
            guard addressWatch == nil else { return false }
            addressWatch = LocalAddressWatch()
            return true
        }
        guard start, let watch = lock.withLock({ addressWatch }) else { return }
        watch.start(logger: logger) { [weak self] in self?.readLocalAddresses(quiet: true) } onChange: { [weak self] read in
            self?.localAddressesChanged(read)
        }
    }

    /// The host's addresses, with the read's place in line; nil (quiet) or empty when they
    /// cannot be read.
    private func readLocalAddresses(quiet: Bool = false) -> (ticket: Int, addresses: Set<[UInt8]>)? {
        let ticket = lock.withLock { () -> Int in addressReads += 1; return addressReads }
        do { return (ticket, try NetlinkSocket(.route).localAddressBytes()) } catch {
            logger.error("ha_suspend: cannot read the host's addresses; the checks wait for them", metadata: ["error": "\(error)"])
            return quiet ? nil : (ticket, [])
        }
    }

    /// omega, at daemon stop: no result changes a server from here on, then each omega
    /// virtual server's notify_down (servers up) and quorum_down run, all at once, each
    /// killed after 1 s as keepalived's are at shutdown; returns when all have ended.
    func runOmegaNotifiers() async {
        let (config, table) = lock.withLock { () -> (OvercastConfiguration?, CheckerTable) in
            stopping = true
            return (self.config, self.table)
        }
        guard let config else { return }
        let notifiers = OmegaShutdown.scripts(config, isAlive: table.isAlive)
        guard !notifiers.isEmpty else { return }
        let runner = scripts
        await withTaskGroup(of: Void.self) { group in
            for script in notifiers {
                logger.info("omega: running \(script.what) at shutdown", metadata: ["subject": "\(script.subject)", "script": "\(script.command)"])
                group.addTask { _ = await runner.run(script.command, timeout: 1, user: nil, group: nil) }
            }
        }
    }

    /// Tells the load balancer the current states and weights.
    private func notifyChange() {
        onChange?({ [weak self] id in self?.isAlive(id) ?? true }, { [weak self] id in self?.dynamicWeight(id) })
    }
}
