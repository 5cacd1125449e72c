import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// Where a check's packets leave from: keepalived's `bindto`, `bind_port`, `bind_if` and
/// `fwmark`. The same socket preparation serves the engine's own sockets and libcurl's
/// (through its socket-option callback), so every kind of check honours all four.
public struct CheckSource: Sendable, Hashable {
    /// `bindto`: the local address, as written.
    public var address: String?
    /// `bind_port`: the local port (with `address`, else the wildcard address).
    public var port: UInt16?
    /// `bind_if`: the interface the socket is bound to (SO_BINDTODEVICE).
    public var interface: String?
    /// `fwmark`: SO_MARK on every packet of the check; 0 or nil is none.
    public var mark: UInt32?

    public init(address: String? = nil, port: UInt16? = nil, interface: String? = nil, mark: UInt32? = nil) {
        self.address = address
        self.port = port
        self.interface = interface
        self.mark = mark
    }

    /// Nothing to set: the kernel chooses.
    public var isDefault: Bool { address == nil && (port ?? 0) == 0 && interface == nil && (mark ?? 0) == 0 }

    /// The local address in network byte order when it is an address of the wanted
    /// family; nil when unset. Throws nothing: a `bindto` of the other family is nil here,
    /// and `PlainEndpoint` refuses it.
    static func addressBytes(_ text: String?, ipv6: Bool) -> [UInt8]? {
        guard let text, let octets = AddressLiteral.octets(text), octets.count == (ipv6 ? 16 : 4) else { return nil }
        return octets
    }

    /// Sets the mark and the interface on a fresh socket, then binds it to the address
    /// and port, in keepalived's order (a link-local address binds only once the socket
    /// has its interface). With a fixed port the socket may share it (SO_REUSEADDR: two
    /// checkers of one port to different servers), and a stream's close resets rather than
    /// lingering in TIME_WAIT, which would hold the port for a minute and refuse the
    /// next check's bind. `describe` names the check in errors.
    func prepare(_ fd: Int32, ipv6: Bool, stream: Bool, bindAddress: Bool = true, context: String) throws(SystemCallError) {
        if let mark, mark != 0 {
            var value = mark
            try option(fd, SOL_SOCKET, SO_MARK, &value, "SO_MARK \(mark)", context)
        }
        if let interface {
            let done = interface.withCString { name in
                setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, socklen_t(strlen(name) + 1))
            }
            if done < 0 { throw SystemCallError("setsockopt SO_BINDTODEVICE \(interface)", errno: errno, context: context) }
        }
        let port = self.port ?? 0
        if port != 0 {
            var on: Int32 = 1
            try option(fd, SOL_SOCKET, SO_REUSEADDR, &on, "SO_REUSEADDR", context)
            if stream {
                var reset = linger(l_onoff: 1, l_linger: 0)
                try option(fd, SOL_SOCKET, SO_LINGER, &reset, "SO_LINGER", context)
            }
        }
        guard bindAddress, address != nil || port != 0 else { return }
        let local = Self.addressBytes(address, ipv6: ipv6) ?? [UInt8](repeating: 0, count: ipv6 ? 16 : 4)
        let bound = PlainEndpoint.withSocketAddress(local, port: port, ipv6: ipv6) { sockaddr, length in Glibc.bind(fd, sockaddr, length) }
        if bound < 0 {
            let what = [address.map { "bindto \($0)" }, port != 0 ? "bind_port \(port)" : nil].compactMap { $0 }.joined(separator: " ")
            throw SystemCallError("bind", errno: errno, context: "\(context) from \(what)")
        }
    }

    private func option<T>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: inout T, _ what: String,
                           _ context: String) throws(SystemCallError) {
        if setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<T>.size)) < 0 {
            throw SystemCallError("setsockopt \(what)", errno: errno, context: context)
        }
    }
}
