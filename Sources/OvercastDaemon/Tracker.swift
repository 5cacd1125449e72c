import Config
import Foundation
import LinuxNet
import Logging

/// `track_interface`, `track_script` (with `vrrp_script`) and the VRRP interface
/// itself, turned into each instance's effective priority and FAULT state, as keepalived
/// computes them:
/// - weight 0: the item failing puts the instance in FAULT;
/// - weight > 0: added to the priority while the item is up (script succeeds);
/// - weight < 0: added (so subtracted) while the item is down (script fails);
/// - `weight N reverse` on a script swaps up and down;
/// - the result is kept within 1-254, and an address owner (255) is never moved.
final class Tracker: @unchecked Sendable {
    struct Watched {
        var runtime: InstanceRuntime
        var base: Int
        var interfaces: [TrackedInterface]
        var scripts: [(name: String, weight: Int, reverse: Bool)]
        var lastPriority: Int?
        var lastFaults: Set<String> = []
    }

    /// rise/fall bookkeeping of one vrrp_script.
    struct ScriptState {
        var script: VRRPScript
        var up = true
        var successes = 0
        var failures = 0
        var running = false
        var nextRun: Double = 0
    }

    private let lock = NSLock()
    private var watched: [String: Watched] = [:]
    private var scripts: [String: ScriptState] = [:]
    private var carrier: [String: Bool] = [:]
    private let runner: ScriptRunner
    private let logger: Logger
    private let wakeup = Wakeup()
    private var started = false

    init(runner: ScriptRunner, logger: Logger) {
        self.runner = runner
        self.logger = logger
    }

    /// Replaces what is tracked (start and reload). Script states survive for scripts
    /// whose definition did not change.
    func configure(_ config: OvercastConfiguration, runtimes: [InstanceRuntime]) {
        let definitions = Dictionary(config.vrrpScripts.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        lock.withLock {
            var next: [String: ScriptState] = [:]
            for (name, script) in definitions {
                next[name] = scripts[name].flatMap { $0.script == script ? $0 : nil } ?? ScriptState(script: script)
            }
            scripts = next
            watched = [:]
            for runtime in runtimes {
                let setup = runtime.setup
                var interfaces = setup.trackedInterfaces
                if !setup.dontTrackPrimary && !interfaces.contains(where: { $0.name == setup.interfaceName }) {
                    interfaces.append(TrackedInterface(name: setup.interfaceName, weight: 0))
                }
                let tracked = setup.trackedScripts.compactMap { t -> (String, Int, Bool)? in
                    guard let s = definitions[t.name] else { return nil }
                    return (t.name, t.weight ?? s.weight, s.weightReverse)
                }
                watched[setup.name] = Watched(runtime: runtime, base: Int(setup.router.stateMachine.priority),
                                              interfaces: interfaces, scripts: tracked)
            }
        }
        if !lock.withLock({ started }) { start() }
        wakeup.signal()
    }

    /// The tracking loop: link tables read when the kernel says a link changed (and every
    /// 60 s as a backstop), scripts run when due; otherwise it sleeps.
    private func start() {
        lock.withLock { started = true }
        let events = try? LinkEvents()
        if events == nil { logger.warning("no link event subscription; link tracking polls every 0.5 s") }
        let backstop = events == nil ? 0.5 : 60.0
        let thread = Thread.named("tracker") { [self] in
            var lastLinks = 0.0
            while true {
                let now = Date().timeIntervalSince1970
                if now - lastLinks >= backstop {
                    lastLinks = now
                    refreshLinks()
                }
                runDueScripts(now: now)
                evaluate()
                let nextScript = lock.withLock { scripts.values.filter { !$0.running }.map(\.nextRun).min() }
                let until = min(lastLinks + backstop, nextScript ?? .infinity)
                // At most a minute (the backstop): a wall-clock step cannot stall the loop
                // longer; idle, this thread wakes once a minute.
                let timeout = Int32(max(1, min(60_000, (until - Date().timeIntervalSince1970) * 1000)))
                var fds = [pollfd(fd: wakeup.readEnd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: events?.descriptor ?? -1, events: Int16(POLLIN), revents: 0)]
                guard poll(&fds, 2, timeout) > 0 else { continue }
                if fds[0].revents != 0 { wakeup.drain() }
                if fds[1].revents != 0, events?.drain() == true { lastLinks = 0 }
            }
        }
        thread.start()
    }

    /// Kept open between reads; made again after an error.
    private var linkReader: NetlinkSocket?

    private func refreshLinks() {
        if linkReader == nil { linkReader = try? NetlinkSocket(.route) }
        guard let links = try? linkReader?.links() else {
            linkReader = nil
            return
        }
        let state = Dictionary(links.map { ($0.name, $0.hasCarrier) }, uniquingKeysWith: { a, _ in a })
        lock.withLock { carrier = state }
    }

    private func runDueScripts(now: Double) {
        let due = lock.withLock { () -> [VRRPScript] in
            var list: [VRRPScript] = []
            for (name, state) in scripts where !state.running && state.nextRun <= now {
                scripts[name]?.running = true
                scripts[name]?.nextRun = now + state.script.interval
                list.append(state.script)
            }
            return list
        }
        for script in due {
            let started = runner.start(script.script, timeout: script.timeout ?? script.interval) { [weak self] code in
                self?.record(script.name, success: code == 0)
            }
            if !started { record(script.name, success: false) }
        }
    }

    private func record(_ name: String, success: Bool) {
        lock.withLock {
            guard var state = scripts[name] else { return }
            state.running = false
            if success {
                state.successes += 1
                state.failures = 0
                if !state.up && state.successes >= state.script.rise { state.up = true }
            } else {
                state.failures += 1
                state.successes = 0
                if state.up && state.failures >= state.script.fall { state.up = false }
            }
            scripts[name] = state
        }
        wakeup.signal()
    }

    /// keepalived's tracking arithmetic, as a pure function: each item is (name, weight,
    /// up). Returns the effective priority and the reasons for FAULT.
    static func effectivePriority(base: Int, interfaces: [(String, Int, Bool)],
                                  scripts: [(String, Int, Bool)]) -> (Int, Set<String>) {
        var priority = base
        var faults: Set<String> = []
        for (kind, items) in [("interface", interfaces), ("script", scripts)] {
            for (name, weight, up) in items {
                if weight == 0 {
                    if !up { faults.insert(kind == "interface" ? "interface \(name) down" : "script \(name) failed") }
                } else if weight > 0 && up {
                    priority += weight
                } else if weight < 0 && !up {
                    priority += weight
                }
            }
        }
        return (base == 255 ? 255 : min(254, max(1, priority)), faults)
    }

    /// Recomputes every instance and tells those whose priority or faults changed.
    private func evaluate() {
        var posts: [(InstanceRuntime, InstanceRuntime.Control)] = []
        lock.withLock {
            for (name, var w) in watched {
                let (priority, faults) = Self.effectivePriority(
                    base: w.base,
                    interfaces: w.interfaces.map { ($0.name, $0.weight, carrier[$0.name] ?? false) },
                    scripts: w.scripts.map { ($0.name, $0.weight, (scripts[$0.name]?.up ?? true) != $0.reverse) })
                if w.lastPriority != priority {
                    if w.lastPriority != nil || priority != w.base { posts.append((w.runtime, .priority(UInt8(priority)))) }
                    w.lastPriority = priority
                }
                for reason in faults.subtracting(w.lastFaults) { posts.append((w.runtime, .fault(true, reason: reason))) }
                for reason in w.lastFaults.subtracting(faults) { posts.append((w.runtime, .fault(false, reason: reason))) }
                w.lastFaults = faults
                watched[name] = w
            }
        }
        for (runtime, control) in posts { runtime.post(control) }
    }
}
