import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// A raw IPv4 socket for IP protocol 112 on one interface: what every Overcast VRRP
/// transport sends and receives through. The kernel builds the IP header (source,
/// TTL, TOS) from the socket options; received packets come with their IP header, so
/// the receive checks can see TTL and destination.
public final class VRRPSocket: @unchecked Sendable {
    public struct Options: Sendable {
        public var interfaceName: String
        public var interfaceIndex: Int32
        /// Source address for sending (unicast_src_ip or the interface's primary address).
        public var source: IPv4Address
        public var ttl: UInt8 = 255
        /// Join 224.0.0.18 on the interface and send multicast from it.
        public var multicast: Bool
        public init(interfaceName: String, interfaceIndex: Int32, source: IPv4Address, ttl: UInt8 = 255, multicast: Bool) {
            self.interfaceName = interfaceName
            self.interfaceIndex = interfaceIndex
            self.source = source
            self.ttl = ttl
            self.multicast = multicast
        }
    }

    public let options: Options
    private let fileDescriptor: FileDescriptor
    /// For poll: readable when a packet waits.
    public var descriptor: Int32 { fileDescriptor.raw }

    public init(_ options: Options) throws(SystemCallError) {
        self.options = options
        let fd = try systemCall("socket(AF_INET, SOCK_RAW, 112)", "opening the VRRP socket (needs root or CAP_NET_RAW)") {
            socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(VRRPAdvertisement.ipProtocolNumber))
        }
        fileDescriptor = FileDescriptor(fd)
        var name = Array(options.interfaceName.utf8CString)
        try systemCall("setsockopt(SO_BINDTODEVICE)", "binding to \(options.interfaceName)") {
            setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, &name, socklen_t(name.count))
        }
        try fileDescriptor.setOption(Int32(IPPROTO_IP), IP_TOS, Int32(0xC0), "IP_TOS")   // network control, as keepalived
        try fileDescriptor.setOption(Int32(IPPROTO_IP), IP_TTL, Int32(options.ttl), "IP_TTL")
        if !options.multicast {
            // Unicast: bind to the source address. A raw socket bound to an address
            // receives only packets addressed to it, which is right here and wrong for
            // multicast, where the source is set by IP_MULTICAST_IF instead.
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = options.source.value.bigEndian
            try systemCall("bind", "binding to \(options.source) (is it an address of \(options.interfaceName)?)") {
                withUnsafePointer(to: &local) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        }
        if options.multicast {
            try fileDescriptor.setOption(Int32(IPPROTO_IP), IP_MULTICAST_TTL, UInt8(options.ttl), "IP_MULTICAST_TTL")
            try fileDescriptor.setOption(Int32(IPPROTO_IP), IP_MULTICAST_LOOP, UInt8(0), "IP_MULTICAST_LOOP")
            var request = ip_mreqn()
            request.imr_multiaddr.s_addr = IPv4Address.vrrpMulticastGroup.value.bigEndian
            request.imr_address.s_addr = options.source.value.bigEndian
            request.imr_ifindex = options.interfaceIndex
            try fileDescriptor.setOption(Int32(IPPROTO_IP), IP_MULTICAST_IF, request, "IP_MULTICAST_IF")
            try fileDescriptor.setOption(Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, request, "IP_ADD_MEMBERSHIP 224.0.0.18")
        }
    }

    /// Sends one VRRP message to `destination`.
    public func send(_ payload: [UInt8], to destination: IPv4Address) throws(SystemCallError) {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = destination.value.bigEndian
        try fileDescriptor.send(payload, to: address, "sending VRRP to \(destination)")
    }

    /// Waits up to `timeoutMilliseconds` for one packet; nil on timeout. The bytes are
    /// the whole IPv4 packet.
    public func receive(timeoutMilliseconds: Int32) throws(SystemCallError) -> [UInt8]? {
        guard try fileDescriptor.waitReadable(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let fd = fileDescriptor.raw
        let count = try systemCall("recv", "receiving VRRP on \(options.interfaceName)") {
            buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        }
        return Array(buffer.prefix(count))
    }
}
