#if canImport(Glibc)
import Glibc
#endif

/// Where a plain check connects and what it sends, worked out once per checker from its
/// URL: an address literal, a port, and for HTTP_GET the whole request.
///
/// "Plain" is HTTP_GET without TLS and TCP_CHECK. The engine runs those on its own
/// sockets, as keepalived's checker does; libcurl runs SSL_GET (and any URL this does not
/// take). libcurl's per-transfer machinery cost 78,000 instructions for a connect alone
/// and ~40 clock reads per check (callgrind, strace), which at 1,000 real servers a second
/// put the checker above keepalived's in CPU; a plain check needs a socket, a connect,
/// one write and a read or two.
public struct PlainEndpoint: Sendable, Hashable {
    /// How the check talks: a TCP stream, UDP datagrams, or ICMP echo.
    public enum Transport: Sendable, Hashable { case stream, datagram, icmp }
    public var transport: Transport
    public var ipv6: Bool
    /// The address in network byte order: 4 bytes, or 16 for IPv6.
    public var address: [UInt8]
    public var port: UInt16
    /// The request to send: nil for TCP_CHECK, which only connects.
    public var request: [UInt8]?
    /// `ADDR:PORT` (`[ADDR]:PORT` for IPv6), for messages.
    public var name: String
    /// Where the check leaves from: `bindto`, `bind_port`, `bind_if`, `fwmark`.
    public var source: CheckSource

    /// nil when the URL is not plain (https, a host name, or bytes that have no place in
    /// a request line): libcurl takes those, and its error says what is wrong.
    /// A `bindto` that is not an address of the destination's family gives nil too: the
    /// configuration reader refuses one, and libcurl reports the bind it cannot make.
    public init?(url: String, virtualHost: String?, kind: CheckTarget.Kind, bindTo: String?) {
        self.init(url: url, virtualHost: virtualHost, kind: kind, source: CheckSource(address: bindTo))
    }

    public init?(url: String, virtualHost: String?, kind: CheckTarget.Kind, source: CheckSource = CheckSource()) {
        var rest: Substring
        let schemes: [String]
        switch kind {
        case .http: (schemes, transport) = (["http://"], .stream)
        case .tcpConnect: (schemes, transport) = (["tcp://", "http://"], .stream)
        case .smtp: (schemes, transport) = (["smtp://"], .stream)
        case .udp: (schemes, transport) = (["udp://"], .datagram)
        case .dns: (schemes, transport) = (["dns://"], .datagram)
        case .ping: (schemes, transport) = (["icmp://"], .icmp)
        }
        guard let scheme = schemes.first(where: { url.hasPrefix($0) }) else { return nil }
        rest = url.dropFirst(scheme.count)
        let host: Substring
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            rest = rest[rest.index(after: close)...]
        } else {
            let end = rest.firstIndex { $0 == ":" || $0 == "/" } ?? rest.endIndex
            host = rest[..<end]
            rest = rest[end...]
        }
        var port = 80
        if rest.first == ":" {
            let digits = rest.dropFirst().prefix { $0 != "/" }
            guard !digits.isEmpty, digits.count <= 5, let value = Int(digits), (1...65535).contains(value) else { return nil }
            port = value
            rest = rest.dropFirst(1 + digits.count)
        } else if case .http = kind {
        } else if case .ping = kind {
            port = 0
        } else {
            return nil   // every other check names its port
        }
        guard let bytes = AddressLiteral.octets(String(host)) else { return nil }
        ipv6 = bytes.count == 16
        address = bytes
        if source.address != nil && CheckSource.addressBytes(source.address, ipv6: ipv6) == nil { return nil }
        self.source = source
        self.port = UInt16(port)
        let shown = ipv6 ? "[\(host)]" : String(host)
        if case .ping = kind { name = String(host) } else { name = "\(shown):\(port)" }
        guard case .http = kind else {
            guard rest.isEmpty else { return nil }
            request = nil
            return
        }
        var path = rest.prefix { $0 != "#" }   // a fragment is not sent, as libcurl does not send it
        if path.isEmpty { path = "/" }
        guard path.first == "/" else { return nil }
        let hostHeader = virtualHost ?? (port == 80 ? shown : name)
        guard Self.fitsARequest(path), Self.fitsARequest(Substring(hostHeader)), !hostHeader.isEmpty else { return nil }
        // keepalived's request: HTTP/1.0, so the answer ends at its length or at the close.
        request = Array("GET \(path) HTTP/1.0\r\nHost: \(hostHeader)\r\nUser-Agent: Overcast\r\nConnection: close\r\n\r\n".utf8)
    }

    /// Visible ASCII only: anything else could split the request line or a header.
    private static func fitsARequest(_ text: Substring) -> Bool {
        text.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }


    /// Calls `body` with this endpoint as a `sockaddr` and its length.
    func withSocketAddress<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        Self.withSocketAddress(address, port: port, ipv6: ipv6, body)
    }

    /// Calls `body` with `address` and `port` as a `sockaddr` and its length.
    static func withSocketAddress<T>(_ address: [UInt8], port: UInt16, ipv6: Bool, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        if ipv6 {
            var a = sockaddr_in6()
            a.sin6_family = sa_family_t(AF_INET6)
            a.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &a.sin6_addr) { $0.copyBytes(from: address.prefix(16)) }
            return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        }
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        withUnsafeMutableBytes(of: &a.sin_addr) { $0.copyBytes(from: address.prefix(4)) }
        return withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    }
}
