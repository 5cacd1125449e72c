import CLinux
import NetworkTypes
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
        /// VRIDs of this daemon's other instances on the same interface: the kernel drops
        /// their advertisements before they reach this socket. Every raw socket for
        /// protocol 112 gets a copy of every VRRP packet, so without this N instances
        /// decode N x N packets per interval; keepalived shares one socket instead.
        /// Unknown VRIDs still arrive, to be counted as `other_vrid`.
        public var siblingRouterIDs: [UInt8]
        /// The classic BPF program that picks the packets this socket takes (a transport's
        /// lane); nil: all of them except the siblings' VRIDs.
        public var filter: [sock_filter]?
        public init(interfaceName: String, interfaceIndex: Int32, source: IPv4Address, ttl: UInt8 = 255, multicast: Bool,
                    siblingRouterIDs: [UInt8] = [], filter: [sock_filter]? = nil) {
            self.interfaceName = interfaceName
            self.interfaceIndex = interfaceIndex
            self.source = source
            self.ttl = ttl
            self.multicast = multicast
            self.siblingRouterIDs = siblingRouterIDs
            self.filter = filter
        }
    }

    public let options: Options
    private let fileDescriptor: FileDescriptor
    /// For poll: readable when a packet waits.
    public var descriptor: Int32 { fileDescriptor.raw }

    public init(_ options: Options) throws(SystemCallError) {
        self.options = options
        let fd = try systemCall("socket(AF_INET, SOCK_RAW, 112)", "opening the VRRP socket (needs root or CAP_NET_RAW)") {
            socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPProtocolNumber.vrrp))
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
            try fileDescriptor.bind(sockaddr_in(options.source), "binding to \(options.source) (is it an address of \(options.interfaceName)?)")
        }
        if let filter = options.filter {
            try attach(filter)
        } else if !options.siblingRouterIDs.isEmpty {
            try attach(SocketFilter.droppingRouterIDs(options.siblingRouterIDs))
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

    /// SO_ATTACH_FILTER with a classic BPF program.
    private func attach(_ program: [sock_filter]) throws(SystemCallError) {
        var instructions = program
        let fd = fileDescriptor.raw
        try instructions.withUnsafeMutableBufferPointer { (buffer) throws(SystemCallError) in
            var fprog = sock_fprog(len: UInt16(buffer.count), filter: buffer.baseAddress)
            try systemCall("setsockopt(SO_ATTACH_FILTER)", "attaching the in-kernel VRRP filter") {
                setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, socklen_t(MemoryLayout<sock_fprog>.size))
            }
        }
    }

    /// Sends one VRRP message to `destination`.
    public func send(_ payload: [UInt8], to destination: IPv4Address) throws(SystemCallError) {
        try fileDescriptor.send(payload, to: sockaddr_in(destination), "sending VRRP to \(destination)")
    }

    /// Waits up to `timeoutMilliseconds` for one packet; nil on timeout. The bytes are
    /// the whole IPv4 packet.
    /// With a zero timeout (the event loops, which polled already) it is one recv(2).
    public func receive(timeoutMilliseconds: Int32) throws(SystemCallError) -> [UInt8]? {
        if timeoutMilliseconds != 0 {
            guard try fileDescriptor.waitReadable(timeoutMilliseconds: timeoutMilliseconds) else { return nil }
        }
        let fd = fileDescriptor.raw
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if count < 0 {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return nil }
            throw SystemCallError("recv", errno: code, context: "receiving VRRP on \(options.interfaceName)")
        }
        return Array(buffer[0..<count])
    }

    /// Packets the kernel dropped because this socket's queue was full (SO_MEMINFO's
    /// drop count): under a flood, what the daemon could not read is still counted.
    public var queueDrops: Int {
        var info = [UInt32](repeating: 0, count: 9)   // SK_MEMINFO_VARS; SK_MEMINFO_DROPS is the 9th
        var size = socklen_t(MemoryLayout<UInt32>.size * info.count)
        let soMeminfo: Int32 = 55
        guard getsockopt(fileDescriptor.raw, SOL_SOCKET, soMeminfo, &info, &size) == 0,
              Int(size) >= MemoryLayout<UInt32>.size * 9 else { return 0 }
        return Int(info[8])
    }

    /// Reused by every receive: one socket is read by one event loop.
    private var buffer = [UInt8](repeating: 0, count: 4096)
}
