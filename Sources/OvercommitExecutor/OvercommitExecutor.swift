@_spi(ExperimentalCustomExecutors) import _Concurrency
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Swift Concurrency's default executor moved off libdispatch's monitored pool, through
/// the runtime's executor factory (`ExecutorFactory`, Swift 6.2+).
///
/// Why: libdispatch on Linux arms a 1 Hz monitor timer, forever, when the first worker of
/// a non-overcommit global queue starts (the queue Swift's default executor uses). In an
/// idle daemon that timer cost more CPU than keepalived's whole BACKUP process. Tasks here
/// run on a serial queue (`SerialQueueExecutor`), which libdispatch drains on its
/// overcommit pool, whose workers are not monitored. `Task.sleep` and `Task.yield` go
/// through the same executor, so plain Swift code stays off the monitored pool.
///
/// Why the factory and not the runtime's global-executor hooks it replaced
/// (`swift_task_enqueueGlobal_hook` and its delay and deadline forms): Swift 6.3's
/// `Task.sleep` and `Task.yield` already went past those hooks, so the daemon needed a
/// sleep of its own and could not yield, and the hooks needed C for the Swift calling
/// convention and libdispatch's private overcommit flag. The idle figures are the same
/// (BENCHMARKS.md, idle).
///
/// The factory is experimental in Swift 6.3 (`@_spi(ExperimentalCustomExecutors)`, not
/// yet through Swift Evolution): a change there breaks the build, or `overcast libraries`
/// and its test (IntegrationTests/CLITests), instead of waking the idle daemon unnoticed.
/// The compiler's own hook for it (a `DefaultExecutorFactory` typealias in the main
/// module, which replaced the `-executor-factory` flag) is ignored on Linux by Swift 6.3.1
/// unless availability checking is turned off for the whole module, so `install()` calls
/// the runtime entry point the compiler would call (`swift_createExecutors`).
public enum OvercommitExecutor {
    /// Makes the serial queue Swift's default executor. Call first in an async `main`,
    /// before the first `await`: the first hop off the main actor already uses the
    /// default executor.
    public static func install() {
        if #available(macOS 26.4, *) { _createExecutors(factory: OvercastExecutorFactory.self) }
    }

    /// Whether Swift's default executor is the serial queue.
    public static var isInstalled: Bool {
        if #available(macOS 26.4, *) { return Task.defaultExecutor is SerialQueueExecutor }
        return false
    }

    /// The queue the caller runs on when that is the serial queue ("overcast.tasks"), and
    /// "" anywhere else.
    public static var currentQueueLabel: String {
        if #available(macOS 26.4, *) { return DispatchQueue.getSpecific(key: SerialQueueExecutor.labelKey) ?? "" }
        return ""
    }

    /// The calling thread's kernel name: libdispatch names a worker after its pool
    /// ("-qos.overcommit" for the overcommit one, "oot.default-qos" for the monitored one;
    /// the tail of the root queue's label, 15 bytes).
    public static var currentThreadName: String {
        let fd = open("/proc/thread-self/comm", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return "" }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = read(fd, &bytes, bytes.count)
        return String(decoding: bytes.prefix(max(0, count)).filter { $0 != 0x0A }, as: UTF8.self)
    }

    /// Where the caller runs, as `overcast libraries` prints it: "QUEUE on THREAD".
    public static var placement: String {
        let queue = currentQueueLabel
        return "\(queue.isEmpty ? "(not overcast's queue)" : queue) on \(currentThreadName)"
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
