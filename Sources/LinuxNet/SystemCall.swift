#if canImport(Glibc)
import Glibc
#endif

/// An errno from a failed system call, with the call and what it was for.
public struct SystemCallError: Error, CustomStringConvertible, Sendable, Equatable {
    public var call: String
    public var errno: Int32
    public var context: String
    public init(_ call: String, errno: Int32, context: String = "") {
        self.call = call
        self.errno = errno
        self.context = context
    }
    public var description: String {
        "\(context.isEmpty ? "" : context + ": ")\(call): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// The one funnel for system calls (swift-nio's `SystemCalls`, swift-system's `Errno`):
/// retries EINTR and turns -1 into a typed error.
@discardableResult
public func systemCall<T: BinaryInteger>(_ name: String, _ context: @autoclosure () -> String = "",
                                         _ body: () -> T) throws(SystemCallError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(name, errno: code, context: context())
    }
}

/// A file descriptor closed in `deinit`.
public final class FileDescriptor: @unchecked Sendable {
    public let raw: Int32
    public init(_ raw: Int32) { self.raw = raw }
    deinit { close(raw) }

    public func setOption<T>(_ level: Int32, _ name: Int32, _ value: T, _ what: String) throws(SystemCallError) {
        var v = value
        try systemCall("setsockopt(\(what))") {
            withUnsafeBytes(of: &v) { setsockopt(raw, level, name, $0.baseAddress, socklen_t($0.count)) }
        }
    }

    /// sendto(2) with any sockaddr_* structure as the destination.
    public func send<Address>(_ bytes: [UInt8], to address: Address, _ context: @autoclosure () -> String) throws(SystemCallError) {
        var destination = address
        let fd = raw
        try systemCall("sendto", context()) {
            bytes.withUnsafeBytes { buffer in
                withUnsafePointer(to: &destination) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(fd, buffer.baseAddress, buffer.count, 0, $0, socklen_t(MemoryLayout<Address>.size))
                    }
                }
            }
        }
    }

    /// Waits until readable or `timeoutMilliseconds` pass; true when readable.
    public func waitReadable(timeoutMilliseconds: Int32) throws(SystemCallError) -> Bool {
        var descriptor = pollfd(fd: raw, events: Int16(POLLIN), revents: 0)
        let ready = try systemCall("poll") { poll(&descriptor, 1, timeoutMilliseconds) }
        return ready > 0
    }
}
