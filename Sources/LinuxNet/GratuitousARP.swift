import CLinux
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// Sends gratuitous ARP for addresses a new MASTER took over, through a packet socket,
/// so that switches and neighbours learn the new owner (RFC 5798 §6.4.3 "broadcast a
/// gratuitous ARP request"). On a cloud network nothing listens, but it costs nothing
/// and keeps behaviour identical to keepalived on a LAN.
public final class GratuitousARPSender: @unchecked Sendable {
    private let descriptor: FileDescriptor
    private let interfaceIndex: Int32
    private let hardwareAddress: [UInt8]

    public init(interfaceIndex: Int32, hardwareAddress: [UInt8]) throws(SystemCallError) {
        guard hardwareAddress.count == 6 else {
            throw SystemCallError("gratuitous ARP", errno: EINVAL, context: "interface \(interfaceIndex) has no Ethernet address")
        }
        let fd = try systemCall("socket(AF_PACKET)", "opening the ARP socket") {
            socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(UInt16(ETH_P_ARP).bigEndian))
        }
        descriptor = FileDescriptor(fd)
        self.interfaceIndex = interfaceIndex
        self.hardwareAddress = hardwareAddress
    }

    /// The Ethernet frame of a gratuitous ARP request for `address`: sender and target
    /// protocol address are both the VIP, sent to the broadcast address.
    public static func frame(for address: IPv4Address, from mac: [UInt8]) -> [UInt8] {
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        var frame = broadcast + mac + [0x08, 0x06]        // Ethernet: dst, src, ARP
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01] // Ethernet/IPv4, request
        frame += mac + address.octets + broadcast + address.octets
        return frame
    }

    public func announce(_ address: IPv4Address) throws(SystemCallError) {
        let frame = Self.frame(for: address, from: hardwareAddress)
        var link = sockaddr_ll()
        link.sll_family = UInt16(AF_PACKET)
        link.sll_protocol = UInt16(ETH_P_ARP).bigEndian
        link.sll_ifindex = interfaceIndex
        link.sll_halen = 6
        withUnsafeMutableBytes(of: &link.sll_addr) { for i in 0..<6 { $0[i] = 0xFF } }
        try descriptor.send(frame, to: link, "sending gratuitous ARP for \(address)")
    }
}
