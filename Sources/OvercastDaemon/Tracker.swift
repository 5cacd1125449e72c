import MonotonicTime
import Config
import Foundation
import LinuxNet
import Logging
import VRRP

/// The I/O of tracking: reads the interfaces' carrier (when the kernel says a link
/// changed), runs the `vrrp_script`s with their rise/fall counts, follows the tracked
/// files' numbers (`TrackedFileWatch`), and tells each instance the state of every item
/// it tracks when it changes. What the states mean
/// (weights, FAULT) is the instance core's (`TrackingState`).
final class Tracker: @unchecked Sendable {
    struct Watched {
        var runtime: InstanceRuntime
        var items: [TrackedItem]
        /// The state last told to the instance, by kind and name.
        var told: [String: Bool] = [:]
        /// The tracked files' numbers last told, by name.
        var toldValues: [String: Int] = [:]
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
    /// The IPv4 addresses on the host, for `track_src_ip` (nil until first read).
    private var hostAddresses: Set<String>?
    private let runner: ScriptRunner
    private let files: TrackedFileWatch
    private let logger: Logger
    private let wakeup = Wakeup()
    private var started = false

    init(runner: ScriptRunner, files: TrackedFileWatch, logger: Logger) {
        self.runner = runner
        self.files = files
        self.logger = logger
        files.subscribe { [weak self] _, _ in self?.wakeup.signal() }
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
                watched[runtime.setup.name] = Watched(runtime: runtime, items: runtime.setup.core.tracked)
            }
        }
        if !lock.withLock({ started }) { start() }
        wakeup.signal()
    }

    /// The tracking loop: link and address tables read when the kernel says a link or an
    /// address changed (and every 60 s as a backstop), scripts run when due; otherwise it
    /// sleeps.
    private func start() {
        lock.withLock { started = true }
        let events = try? LinkEvents.linksAndAddresses()
        if events == nil { logger.warning("no link event subscription; link tracking polls every 0.5 s") }
        let backstop = events == nil ? 0.5 : 60.0
        let thread = Thread.named("tracker") { [self] in
            var lastLinks = 0.0
            while true {
                let now = MonotonicClock.seconds
                if now - lastLinks >= backstop {
                    lastLinks = now
                    refreshLinks()
                }
                runDueScripts(now: now)
                evaluate()
                let nextScript = lock.withLock { scripts.values.filter { !$0.running }.map(\.nextRun).min() }
                let until = min(lastLinks + backstop, nextScript ?? .infinity)
                // At most a minute (the backstop): idle, this thread wakes once a minute.
                let timeout = Int32(max(1, min(60_000, (until - MonotonicClock.seconds) * 1000)))
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
        let addresses = (try? linkReader?.addresses()).map { Set($0.map { "\($0.address)" }) }
        lock.withLock {
            carrier = state
            if let addresses { hostAddresses = addresses }
        }
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
            let started = runner.start(script.script, timeout: script.timeout ?? script.interval, user: script.user,
                                       group: script.group) { [weak self] code in
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

    /// Tells every instance the items whose state changed since it was last told (all of
    /// them the first time).
    private func evaluate() {
        var posts: [(InstanceRuntime, InstanceRuntime.Control)] = []
        lock.withLock {
            for (name, var w) in watched {
                for item in w.items {
                    let up: Bool
                    switch item.kind {
                    case .interface: up = carrier[item.name] ?? false
                    case .script: up = scripts[item.name]?.up ?? true
                    case .sourceAddress: up = hostAddresses?.contains(item.name) ?? true
                    case .file:
                        let value = files.value(item.name)
                        guard w.toldValues[item.name] != value else { continue }
                        w.toldValues[item.name] = value
                        posts.append((w.runtime, .event(.trackedFile(name: item.name, value: value))))
                        continue
                    }
                    let key = "\(item.kind) \(item.name)"
                    guard w.told[key] != up else { continue }
                    w.told[key] = up
                    posts.append((w.runtime, .event(.tracked(item.kind, name: item.name, up: up))))
                }
                watched[name] = w
            }
        }
        for (runtime, control) in posts { runtime.post(control) }
    }
}
