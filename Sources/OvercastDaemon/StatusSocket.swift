import CLinux
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The local control socket behind `overcast status`. It is an abstract Unix socket
/// (`@overcast/status`): abstract names belong to the network namespace, so one daemon
/// per namespace runs beside the others with no flags and no files, and `overcast
/// status` inside a namespace reaches that namespace's daemon. Only root may ask
/// (SO_PEERCRED), and nothing secret is ever in a reply.
public enum StatusSocket {
    public static let name = "overcast/status"

    static func address() -> (sockaddr_un, socklen_t) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path[0] = 0   // abstract namespace
            for (i, byte) in bytes.enumerated() { path[i + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        return (address, length)
    }

    /// Asks the daemon of this network namespace for its status (JSON).
    public static func query() throws -> Data {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StatusError("socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var (address, length) = address()
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        guard rc == 0 else {
            throw StatusError(errno == ECONNREFUSED ? "no overcast daemon is running in this network namespace"
                                                    : "cannot reach the daemon: \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var reply = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n > 0 { reply.append(contentsOf: buffer[0..<n]) } else { break }
        }
        guard !reply.isEmpty else { throw StatusError("the daemon closed the connection (only root may ask for status)") }
        return reply
    }

    public struct StatusError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}

/// Serves the status socket on a thread of its own.
final class StatusServer: @unchecked Sendable {
    private let fd: Int32
    private let logger: Logger
    private let snapshot: @Sendable () -> Data
    private let lock = NSLock()
    private var stopped = false
    private let wakeup = Wakeup()

    init(logger: Logger, snapshot: @escaping @Sendable () -> Data) throws {
        self.logger = logger
        self.snapshot = snapshot
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StatusSocket.StatusError("status socket: \(String(cString: strerror(errno)))") }
        var (address, length) = StatusSocket.address()
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0, listen(fd, 16) == 0 else {
            let reason = errno == EADDRINUSE ? "another overcast daemon already runs in this network namespace"
                                             : String(cString: strerror(errno))
            close(fd)
            throw StatusSocket.StatusError("status socket @\(StatusSocket.name): \(reason)")
        }
    }

    deinit { close(fd) }

    func start() {
        let thread = Thread { [self] in serve() }
        thread.name = "overcast-status"
        thread.start()
    }

    func stop() {
        lock.withLock { stopped = true }
        wakeup.signal()
    }

    /// Sleeps until a client or `stop()`: an idle daemon's status thread never wakes.
    private func serve() {
        while !lock.withLock({ stopped }) {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeup.readEnd, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, -1) > 0, fds[0].revents != 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            var credentials = overcast_ucred()
            var size = socklen_t(MemoryLayout<overcast_ucred>.size)
            if getsockopt(client, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 && credentials.uid == 0 {
                let reply = snapshot()
                reply.withUnsafeBytes { bytes in
                    var offset = 0
                    while offset < bytes.count {
                        let n = write(client, bytes.baseAddress! + offset, bytes.count - offset)
                        if n <= 0 { break }
                        offset += n
                    }
                }
            } else {
                logger.warning("status request refused: not root", metadata: ["uid": "\(credentials.uid)"])
            }
            close(client)
        }
    }
}
