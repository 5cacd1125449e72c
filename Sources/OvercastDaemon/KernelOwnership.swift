import Foundation

/// What one owner (a MASTER instance, or the daemon's static state) has in the kernel
/// now, as `KernelWatch` sees it from its own thread. The owner says `installed` after
/// putting entries in and `withdrawing` before taking them out, each step bumping the
/// generation: the watch acts on a missing entry only if the generation it read before
/// the kernel tables is still current, so the owner's own removals never count as
/// someone else's deletion.
final class KernelOwnership: @unchecked Sendable {
    private let lock = NSLock()
    private var generation = 0
    private var state: KernelState?
    /// The generation whose deletion was last reported: one deletion, one report.
    private var reported = 0

    /// The entries now in the kernel, with the generation they belong to (nil: none).
    var snapshot: (generation: Int, state: KernelState?) { lock.withLock { (generation, state) } }

    func isCurrent(_ generation: Int) -> Bool { lock.withLock { self.generation == generation } }

    /// True once for a current generation: the watch reports its deletion then, and not
    /// again on the next wake-up before the owner has acted.
    func claimReport(_ generation: Int) -> Bool {
        lock.withLock {
            guard self.generation == generation, reported != generation else { return false }
            reported = generation
            return true
        }
    }

    func installed(_ state: KernelState) {
        lock.withLock {
            generation += 1
            self.state = state
        }
    }

    func withdrawing() {
        lock.withLock {
            generation += 1
            state = nil
        }
    }

    /// Runs `body` on the state if `generation` is still current, holding the record so
    /// no owner step can come in between (the static state's reinstatement against a
    /// reload); what `body` returns is what is in from then on (an entry the kernel
    /// refused to take back is not tried again until the next reload).
    func ifCurrent(_ generation: Int, _ body: (KernelState) -> KernelState) {
        lock.lock()
        defer { lock.unlock() }
        guard self.generation == generation, let current = state else { return }
        state = body(current)
    }

    /// An owner's change under the record's lock (the static state's reload).
    func changing(_ body: () -> KernelState?) {
        lock.lock()
        defer { lock.unlock() }
        generation += 1
        state = body()
    }
}
