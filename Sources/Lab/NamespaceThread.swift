import CLinux
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs a closure on a thread of its own that has joined a named network namespace
/// (`ip netns`), so a test can ask a daemon or the kernel inside the namespace without
/// starting a process: in the kernel-tier VM every process start costs seconds.
public func inNetworkNamespace<T: Sendable>(_ name: String, _ body: @escaping @Sendable () throws -> T) throws -> T {
    let box = ResultBox<T>()
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        defer { done.signal() }
        let fd = open("/var/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { box.result = .failure(ChildProcessError("no network namespace \(name)")); return }
        defer { close(fd) }
        guard overcast_setns_net(fd) == 0 else {
            box.result = .failure(ChildProcessError("setns \(name): \(String(cString: strerror(errno)))"))
            return
        }
        box.result = Result { try body() }
    }
    thread.start()
    done.wait()
    guard let result = box.result else { throw ChildProcessError("namespace thread for \(name) ended without a result") }
    return try result.get()
}

/// Carries a result from the namespace thread back to the caller.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}
