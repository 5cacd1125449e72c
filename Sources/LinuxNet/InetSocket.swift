import CLinux
import NetworkTypes
#if canImport(Glibc)
import Glibc
#endif

/// IPv4 socket addresses and TCP sockets, built in one place: the daemon's VRRP
/// sockets, the labs' relays and servers and the benchmarks' probes all need them.
extension sockaddr_in {
    /// `address` (the wildcard when nil) and `port`, in network byte order.
    public init(_ address: IPv4Address?, port: UInt16 = 0) {
        self.init()
        sin_family = sa_family_t(AF_INET)
        sin_port = port.bigEndian
        sin_addr.s_addr = (address?.value ?? 0).bigEndian
    }
}

extension FileDescriptor {
    /// bind(2) to an IPv4 socket address.
    public func bind(_ address: sockaddr_in, _ context: @autoclosure () -> String) throws(SystemCallError) {
        var local = address
        let fd = raw
        try systemCall("bind", context()) {
            withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }

    /// A TCP socket listening on `address`:`port` (the wildcard when nil), with
    /// SO_REUSEADDR so a lab can rebind at once; `nonBlocking` for poll loops.
    public static func tcpListener(_ address: IPv4Address? = nil, port: UInt16, backlog: Int32 = 128,
                                   nonBlocking: Bool = false) throws(SystemCallError) -> FileDescriptor {
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | (nonBlocking ? Int32(SOCK_NONBLOCK.rawValue) : 0)
        let socket = FileDescriptor(try systemCall("socket(AF_INET, SOCK_STREAM)") { Glibc.socket(AF_INET, flags, 0) })
        try socket.setOption(SOL_SOCKET, SO_REUSEADDR, Int32(1), "SO_REUSEADDR")
        let name = "\(address?.description ?? "0.0.0.0"):\(port)"
        try socket.bind(sockaddr_in(address, port: port), "binding \(name)")
        let fd = socket.raw
        try systemCall("listen", "listening on \(name)") { Glibc.listen(fd, backlog) }
        return socket
    }

    /// A non-blocking TCP connect to `address`:`port` given `timeoutMilliseconds` to
    /// complete; true when the handshake completed.
    public static func tcpConnects(to address: IPv4Address, port: UInt16, timeoutMilliseconds: Int32) -> Bool {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var remote = sockaddr_in(address, port: port)
        let rc = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc == 0 { return true }
        guard errno == EINPROGRESS else { return false }
        var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)]
        guard poll(&fds, 1, timeoutMilliseconds) == 1 else { return false }
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        return error == 0
    }
}
