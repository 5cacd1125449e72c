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

    /// Asks the daemon of this network namespace for its status (JSON), waiting at most
    /// `timeout` seconds for each read.
    public static func query(timeout seconds: Double = 5) throws -> Data {
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
        let wait = max(0.001, min(seconds, 3600))
        var timeout = timeval(tv_sec: Int(wait), tv_usec: Int((wait - wait.rounded(.down)) * 1e6))
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

/// Serves the status socket: root only (SO_PEERCRED), one JSON reply per connection.
enum StatusServer {
    static func make(logger: Logger, snapshot: @escaping @Sendable () -> Data) throws -> SocketServer {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
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
        return SocketServer(fd: fd, threadName: "status") { client in
            var credentials = overcast_ucred()
            var size = socklen_t(MemoryLayout<overcast_ucred>.size)
            if getsockopt(client, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0 && credentials.uid == 0 {
                var timeout = timeval(tv_sec: 2, tv_usec: 0)
                setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                SocketServer.writeAll(client, [UInt8](snapshot()))
            } else {
                logger.warning("status request refused: not root", metadata: ["uid": "\(credentials.uid)"])
            }
        }
    }
}
