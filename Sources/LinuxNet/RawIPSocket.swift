import CLinux
#if canImport(Glibc)
import Glibc
#endif
import NetworkTypes

/// Sends whole IPv4 packets, header included (IPPROTO_RAW: the kernel sends the header as
/// given, source address and TTL too). For multicast it names the interface and keeps the
/// multicast loopback on, so this node's own listeners receive a copy on that interface:
/// how the replicator hands a restored VRRP multicast to a local keepalived.
public final class RawIPSocket: @unchecked Sendable {
    private let fileDescriptor: FileDescriptor

    public init(multicastInterfaceIndex: Int32) throws(SystemCallError) {
        let fd = try systemCall("socket(AF_INET, SOCK_RAW, IPPROTO_RAW)", "opening a raw IP socket (needs root or CAP_NET_RAW)") {
            socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW))
        }
        fileDescriptor = FileDescriptor(fd)
        var request = ip_mreqn()
        request.imr_ifindex = multicastInterfaceIndex
        try fileDescriptor.setOption(Int32(IPPROTO_IP), IP_MULTICAST_IF, request, "IP_MULTICAST_IF")
        try fileDescriptor.setOption(Int32(IPPROTO_IP), IP_MULTICAST_LOOP, UInt8(1), "IP_MULTICAST_LOOP")
    }

    /// Sends `packet` (an IPv4 packet with its header) to `destination`.
    public func send(_ packet: [UInt8], to destination: IPv4Address) throws(SystemCallError) {
        try fileDescriptor.send(packet, to: sockaddr_in(destination), "sending a raw IP packet to \(destination)")
    }
}
