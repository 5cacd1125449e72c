import MonotonicTime
import Config
import Foundation
import LinuxNet
import IPVS
import Logging

/// The IPVS side of the daemon: the `virtual_server` blocks become kernel services,
/// reconciled with the smallest set of netlink changes at start and on every reload.
/// A kernel without IPVS, or no permission, is one clear error at start; VRRP runs on.
final class LoadBalancer: @unchecked Sendable {
    private let logger: Logger
    private let lock = NSLock()
    /// Services this daemon programmed: only these are ever deleted.
    private var owned: Set<IPVSServiceKey> = []
    private var quorum: [Int: Bool] = [:]
    private var config: OvercastConfiguration?
    // Under `inputs`.
    private var alive: @Sendable (RealServerID) -> Bool = { _ in true }
    private var weight: @Sendable (RealServerID) -> Int? = { _ in nil }
    private let scripts: ScriptRunner
    private var changesApplied = 0
    private var lastError: String?
    private var reconciliations = 0
    private var lastChanges = 0
    private var lastMilliseconds = 0.0
    private var programmed = (services: 0, destinations: 0)
    /// The kernel's table as of our last successful reconciliation: a health change or a
    /// reload diffs against it instead of reading back every service (one dump request
    /// per service: seconds at 10,000). Read from the kernel at start and after any error.
    private var known: IPVSTable?

    /// Called with a virtual server's index when its quorum is regained or lost (the
    /// e-mail alerts). Set before the first `apply`.
    var onQuorumChange: (@Sendable (Int, Bool) -> Void)?

    init(logger: Logger, scripts: ScriptRunner) {
        self.logger = logger
        self.scripts = scripts
    }

    /// A new configuration (start, reload).
    func apply(_ config: OvercastConfiguration) {
        lock.withLock { self.config = config }
        reconcile()
    }

    /// The status block; nil when there is nothing to program.
    var status: IPVSStatus? {
        lock.withLock {
            guard let config, !config.virtualServers.isEmpty || !owned.isEmpty else { return nil }
            return IPVSStatus(services: programmed.services, destinations: programmed.destinations, changesApplied: changesApplied,
                              reconciliations: reconciliations, lastChanges: lastChanges, lastMilliseconds: lastMilliseconds,
                              lastError: lastError)
        }
    }

    /// Real servers went up or down. Called on the checker thread, which must not wait
    /// for the kernel: the change is handed to the IPVS thread, and changes that arrive
    /// while it is programming are folded into its next pass. (Reconciling on the checker
    /// thread, once per change, made an overloaded checker slower still: in the emulated
    /// VM, 1,000 servers changing state cost a full reconciliation each and the checks
    /// fell seconds behind.)
    func update(alive: @escaping @Sendable (RealServerID) -> Bool,
                weight: @escaping @Sendable (RealServerID) -> Int?) {
        let startWorker = inputs.withLock { () -> Bool in
            self.alive = alive
            self.weight = weight
            dirty = true
            defer { workerStarted = true }
            return !workerStarted
        }
        if startWorker {
            let thread = Thread.named("ipvs") { [self] in work() }
            thread.start()
        }
        wake.signal()
    }

    /// The checks' view and whether it changed since the last pass, under `inputs` (never
    /// held across netlink I/O, so the checker thread never waits for the kernel).
    private let inputs = NSLock()
    private var dirty = false
    private var workerStarted = false
    private let wake = DispatchSemaphore(value: 0)

    /// Each pass is followed by a rest as long as the pass (at most a second): under a
    /// storm of changes the IPVS thread takes at most half a core from the checks that
    /// cause them, and every change still reaches the kernel within two passes.
    private func work() {
        while true {
            wake.wait()
            let changed = inputs.withLock { () -> Bool in defer { dirty = false }; return dirty }
            guard changed else { continue }
            let started = MonotonicClock.now()
            reconcile()
            let took = MonotonicClock.now() - started
            usleep(UInt32(min(took / 1000, 1_000_000)))
        }
    }

    private func reconcile() {
        lock.withLock {
            guard let config, !config.virtualServers.isEmpty || !owned.isEmpty else { return }
            let (alive, weight) = inputs.withLock { (self.alive, self.weight) }
            let (desired, quorumUp) = DesiredTable.build(config, alive: alive, weight: weight, quorumWasUp: quorum)
            // quorum_up / quorum_down when a virtual server's quorum changes.
            for (index, up) in quorumUp where (quorum[index] ?? true) != up {
                let vs = config.virtualServers[index]
                logger.warning(up ? "quorum regained" : "quorum lost", metadata: ["ipvs.virtual_server": "\(index)"])
                if let script = up ? vs.quorumUp : vs.quorumDown { scripts.start(script) }
                onQuorumChange?(index, up)
            }
            // The quorum follows the checks even when the kernel cannot be programmed.
            quorum = quorumUp
            let started = Date()
            do {
                let client = try IPVSClient()
                let actual = try known ?? client.read()
                // At start, services matching the configuration are adopted as ours.
                let mine = owned.union(desired.services.keys)
                let changes = IPVSReconciler.changes(desired: desired, actual: actual, owned: mine)
                known = nil
                try client.apply(changes)
                known = IPVSReconciler.applying(desired: desired, to: actual, owned: mine)
                owned = Set(desired.services.keys)
                changesApplied += changes.count
                lastChanges = changes.count
                reconciliations += 1
                lastMilliseconds = Date().timeIntervalSince(started) * 1000
                programmed = (desired.services.count, desired.destinationCount)
                lastError = nil
                logger.info("IPVS programmed", metadata: ["ipvs.services": "\(desired.services.count)",
                                                          "ipvs.destinations": "\(desired.destinationCount)",
                                                          "ipvs.changes": "\(changes.count)"])
            } catch {
                // Said once per distinct error: a kernel without IPVS is not news on every check.
                if lastError != "\(error)" {
                    logger.error("IPVS not programmed; VRRP keeps running", metadata: ["error": "\(error)"])
                }
                lastError = "\(error)"
            }
        }
    }
}
