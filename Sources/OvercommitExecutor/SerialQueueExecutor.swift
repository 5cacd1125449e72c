@_spi(ExperimentalCustomExecutors) @_spi(ExperimentalScheduling) import _Concurrency
import Dispatch
import Synchronization

/// Swift Concurrency's default executor in `overcast`: one serial dispatch queue, for
/// jobs and for timed jobs (`Task.sleep` on the continuous and suspending clocks).
///
/// Why a serial queue: it is the one kind of queue that public libdispatch API puts on
/// the overcommit pool (a queue made without attributes targets the overcommit root
/// queue; a concurrent one targets the monitored pool, whose first worker arms the 1 Hz
/// monitor for the life of the process). One lane is enough in this program: its tasks
/// only coordinate (start threads, wait on continuations that threads resume); every
/// blocking wait is on a thread of its own.
@available(macOS 26.4, *)
final class SerialQueueExecutor: TaskExecutor, SchedulingExecutor {
    static let shared = SerialQueueExecutor()
    static let label = "overcast.tasks"
    /// Set on the queue, so code can tell that it runs there (dispatch has no public
    /// "current queue" in Swift).
    static let labelKey = DispatchSpecificKey<String>()

    private let queue: DispatchQueue
    private let timed = Atomic(0)

    /// Timed jobs enqueued so far: how a test tells that a sleep's timer came here.
    var timedJobCount: Int { timed.load(ordering: .relaxed) }

    private init() {
        queue = DispatchQueue(label: Self.label)
        queue.setSpecific(key: Self.labelKey, value: Self.label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// A timed job: a dispatch timer on the queue, for the time left until `instant` as
    /// the clock reads it now (a timer on uptime: a system suspend during the wait
    /// lengthens a continuous-clock wait by the suspension). `tolerance` is left to
    /// libdispatch, which allows a tenth of the delay. A clock whose durations are not
    /// `Duration` (the standard library has none) runs the job at once.
    func enqueue<C: Clock>(_ job: consuming ExecutorJob, at instant: C.Instant, tolerance: C.Duration?, clock: C) {
        let job = UnownedJob(job)
        timed.add(1, ordering: .relaxed)
        let nanoseconds = (clock.now.duration(to: instant) as? Duration).map(OvercommitExecutor.nanoseconds) ?? 0
        let run: @Sendable () -> Void = { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        guard nanoseconds > 0 else { return queue.async(execute: run) }
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds)), execute: run)
    }
}

/// The executors `OvercommitExecutor.install()` hands the runtime: Swift's own main
/// executor (the main thread's dispatch main queue, off the monitored pool already) and
/// the serial queue for everything else.
@available(macOS 26.4, *)
struct OvercastExecutorFactory: ExecutorFactory {
    static let mainExecutor: any MainExecutor = PlatformExecutorFactory.mainExecutor
    static let defaultExecutor: any TaskExecutor = SerialQueueExecutor.shared
}
