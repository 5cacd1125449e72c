import CLinux
import NetworkTypes
#if canImport(Glibc)
import Glibc
#endif

/// A packet socket for ARP on one interface. It sends gratuitous ARP for addresses a
/// new MASTER took over, so that switches and neighbours learn the new owner (RFC 5798
/// §6.4.3 "broadcast a gratuitous ARP request"), asks for peers' MACs for the
/// replicator, and reads the ARP frames that answer (the kernel ignores replies it did
/// not ask for, so the replicator learns them here).
public final class ARPSocket: @unchecked Sendable {
    private let fileDescriptor: FileDescriptor
    private let interfaceIndex: Int32
    private let hardwareAddress: [UInt8]

    public init(interfaceIndex: Int32, hardwareAddress: [UInt8]) throws(SystemCallError) {
        guard hardwareAddress.count == 6 else {
            throw SystemCallError("gratuitous ARP", errno: EINVAL, context: "interface \(interfaceIndex) has no Ethernet address")
        }
        let fd = try systemCall("socket(AF_PACKET)", "opening the ARP socket") {
            socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(UInt16(ETH_P_ARP).bigEndian))
        }
        fileDescriptor = FileDescriptor(fd)
        self.interfaceIndex = interfaceIndex
        self.hardwareAddress = hardwareAddress
    }

    /// The Ethernet frame of a broadcast ARP request for `target` from `sender`. A
    /// gratuitous ARP is the request where both are the VIP (target MAC all ones, as
    /// keepalived sends it); a plain request leaves the target MAC zero.
    public static func requestFrame(for target: IPv4Address, from sender: IPv4Address, mac: [UInt8],
                                    gratuitous: Bool = false) -> [UInt8] {
        let broadcast = [UInt8](repeating: 0xFF, count: 6)
        var frame = broadcast + mac + [0x08, 0x06]          // Ethernet: dst, src, ARP
        frame += [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]   // Ethernet/IPv4, request
        frame += mac + sender.octets + (gratuitous ? broadcast : [UInt8](repeating: 0, count: 6)) + target.octets
        return frame
    }

    /// The sender's IPv4 and MAC address of an ARP frame (request or reply), if it is one.
    public static func sender(of frame: [UInt8]) -> (IPv4Address, [UInt8])? {
        guard frame.count >= 42, frame[12] == 0x08, frame[13] == 0x06, frame[14] == 0, frame[15] == 1,
              frame[16] == 0x08, frame[17] == 0x00, frame[18] == 6, frame[19] == 4 else { return nil }
        let mac = Array(frame[22..<28])
        let ip = IPv4Address(frame[28], frame[29], frame[30], frame[31])
        return (ip, mac)
    }

    /// For poll: readable when ARP frames wait.
    public var descriptor: Int32 { fileDescriptor.raw }

    /// The next ARP frame's sender, or nil when none waits (non-blocking).
    public func receiveSender() -> (IPv4Address, [UInt8])? {
        var buffer = [UInt8](repeating: 0, count: 128)
        let fd = fileDescriptor.raw
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard n > 0 else { return nil }
            if let sender = Self.sender(of: Array(buffer.prefix(n))) { return sender }
        }
    }

    /// Asks who has `target` (to learn a peer's MAC the kernel does not know yet).
    public func request(_ target: IPv4Address, from sender: IPv4Address) throws(SystemCallError) {
        try send(Self.requestFrame(for: target, from: sender, mac: hardwareAddress), "asking ARP for \(target)")
    }

    public func announce(_ address: IPv4Address) throws(SystemCallError) {
        try send(Self.requestFrame(for: address, from: address, mac: hardwareAddress, gratuitous: true),
                 "sending gratuitous ARP for \(address)")
    }

    private func send(_ frame: [UInt8], _ context: @autoclosure () -> String) throws(SystemCallError) {
        var link = sockaddr_ll()
        link.sll_family = UInt16(AF_PACKET)
        link.sll_protocol = UInt16(ETH_P_ARP).bigEndian
        link.sll_ifindex = interfaceIndex
        link.sll_halen = 6
        withUnsafeMutableBytes(of: &link.sll_addr) { for i in 0..<6 { $0[i] = 0xFF } }
        try fileDescriptor.send(frame, to: link, context())
    }
}
