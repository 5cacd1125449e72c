import COvercommitExecutor
import Synchronization

/// Swift Concurrency's global executor moved onto libdispatch's overcommit queue, and a
/// sleep that stays off the default executor.
///
/// Why: libdispatch on Linux arms a 1 Hz monitor timer, forever, when the first worker of
/// a non-overcommit global queue starts (the queue Swift's default executor uses). In an
/// idle daemon that timer cost more CPU than keepalived's whole BACKUP process. With every
/// job on the overcommit queue (whose workers are not monitored) the timer never starts.
/// Jobs are short in this daemon (blocking work has threads of its own), so overcommit's
/// lack of a width limit costs nothing here.
///
/// Two paths of the Swift 6.2+ standard library bypass the runtime's hooks and go to the
/// default executor directly: `Task.sleep` and `Task.yield`. Daemon code sleeps through
/// `sleep(for:)` below and does not yield.
public enum OvercommitExecutor {
    /// Installs the hooks; false (and Swift's default executor stays) when libdispatch has
    /// no overcommit queue. Call before the first task is created.
    @discardableResult
    public static func install() -> Bool { overcast_overcommit_executor_install() }

    /// Whether the runtime's global-executor hook is ours.
    public static var isInstalled: Bool { overcast_overcommit_executor_installed() }

    /// The dispatch queue the caller runs on, by its label: what a task is really running
    /// on (`overcast libraries` prints it).
    public static var currentQueueLabel: String { String(cString: overcast_current_queue_label()) }

    /// Suspends for at least `duration` (negative: no wait) on a dispatch timer that fires on
    /// the overcommit queue; counted on the clock that includes suspend, as `Task.sleep(for:)`
    /// counts. Throws `CancellationError` at once when the task is cancelled, before or during
    /// the wait (the timer still fires at its time, and finds nothing to resume).
    public static func sleep(for duration: Duration) async throws {
        let nanoseconds = Self.nanoseconds(duration)
        let sleeper = Sleeper()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                guard sleeper.begin(continuation) else { return }
                overcast_overcommit_after(nanoseconds, Unmanaged.passRetained(sleeper).toOpaque()) { context in
                    guard let context else { return }
                    Unmanaged<Sleeper>.fromOpaque(context).takeRetainedValue().end(throwing: nil)
                }
            }
        } onCancel: {
            sleeper.end(throwing: CancellationError())
        }
    }

    /// A duration as whole nanoseconds, clamped to 0...Int64.max (about 292 years).
    static func nanoseconds(_ duration: Duration) -> UInt64 {
        // Checked on the whole value: a negative duration under a second has seconds 0
        // and negative attoseconds.
        guard duration > .zero else { return 0 }
        let (seconds, attoseconds) = duration.components
        guard seconds < Int64.max / 1_000_000_000 else { return UInt64(Int64.max) }
        return UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
    }
}

/// One sleep's continuation, resumed exactly once: by the timer or by cancellation,
/// whichever comes first (cancellation can also come before the continuation exists).
final class Sleeper: Sendable {
    private enum State {
        case created
        case waiting(CheckedContinuation<Void, any Error>)
        case cancelledEarly
        case ended
    }

    private let state = Mutex(State.created)

    /// Hands the continuation over; false when the task was cancelled already (the
    /// continuation has then been resumed with `CancellationError`).
    func begin(_ continuation: CheckedContinuation<Void, any Error>) -> Bool {
        let cancelled = state.withLock { state -> Bool in
            guard case .cancelledEarly = state else {
                state = .waiting(continuation)
                return false
            }
            state = .ended
            return true
        }
        if cancelled { continuation.resume(throwing: CancellationError()) }
        return !cancelled
    }

    /// Resumes the continuation (with `error`, if any) unless it was resumed already.
    func end(throwing error: (any Error)?) {
        let continuation = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            switch state {
            case .created:
                if error != nil { state = .cancelledEarly }
                return nil
            case .waiting(let continuation):
                state = .ended
                return continuation
            case .cancelledEarly, .ended:
                return nil
            }
        }
        guard let continuation else { return }
        if let error { continuation.resume(throwing: error) } else { continuation.resume() }
    }
}
