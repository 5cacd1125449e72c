import Foundation
import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// A listening socket served one client at a time on a thread of its own: the status
/// socket and the metrics endpoint. Both answer in well under a millisecond, so one
/// thread that sleeps in `poll` until a client (or `stop()`) is all they need, and an
/// idle daemon's server threads never wake.
final class SocketServer: @unchecked Sendable {
    private let fd: Int32
    private let threadName: String
    private let handle: (Int32) -> Void
    private let lock = NSLock()
    private var stopped = false
    private let wakeup = Wakeup()
    private let finished = DispatchSemaphore(value: 0)
    private var running = false

    /// Takes ownership of `fd`, a socket already bound and listening. `handle` gets each
    /// accepted client; the server closes it afterwards.
    init(fd: Int32, threadName: String, handle: @escaping (Int32) -> Void) {
        self.fd = fd
        self.threadName = threadName
        self.handle = handle
    }

    deinit { if !running { close(fd) } }

    func start() {
        lock.withLock { running = true }
        let thread = Thread.named(threadName) { [self] in
            serve()
            close(fd)
            finished.signal()
        }
        thread.start()
    }

    /// Stops serving and returns once the socket is closed, so its address can be bound
    /// again at once (a reload that moves the metrics endpoint back and forth).
    func stop() {
        let wasRunning = lock.withLock { () -> Bool in
            defer { stopped = true }
            return running && !stopped
        }
        guard wasRunning else { return }
        wakeup.signal()
        finished.wait()
    }

    private func serve() {
        while !lock.withLock({ stopped }) {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeup.readEnd, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, -1) > 0, fds[0].revents != 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)   // never inherited by a notify script
            handle(client)
            close(client)
        }
    }

    /// Writes all of `bytes` unless the peer goes away or a send timeout expires.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let n = send(fd, base + offset, buffer.count - offset, Int32(MSG_NOSIGNAL))
                if n <= 0 { break }
                offset += n
            }
        }
    }
}
