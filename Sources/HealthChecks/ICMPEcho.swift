/// PING_CHECK's packets: an ICMP (or ICMPv6) echo request and the test of what comes back.
/// Pure, so the checker's socket code only sends and receives.
///
/// On a raw socket the reply is matched by identifier and sequence (a raw socket sees every
/// ICMP packet from the address it is connected to, its own echo requests to a local
/// address included) and an IPv4 packet arrives with its IP header. On an unprivileged
/// ICMP datagram socket the kernel sets the identifier and strips the header, so only the
/// sequence is compared.
public enum ICMPEcho {
    /// What a received packet is to this check.
    public enum Reply: Equatable, Sendable {
        /// The echo reply to our request.
        case ours
        /// Something else (another socket's reply, our own request looped back): ignored.
        case notOurs
        /// Malformed: the reason.
        case malformed(String)
    }

    /// The echo request: type 8 (IPv4) or 128 (IPv6), code 0, the identifier and sequence,
    /// keepalived's filler as data. The IPv4 checksum is computed here; the kernel fills in
    /// ICMPv6's, which covers a pseudo-header only it knows.
    public static func request(ipv6: Bool, identifier: UInt16, sequence: UInt16) -> [UInt8] {
        var packet: [UInt8] = [ipv6 ? 128 : 8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF),
                               UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        packet += UDPProbe.filler
        if !ipv6 {
            let sum = checksum(packet)
            packet[2] = UInt8(sum >> 8)
            packet[3] = UInt8(sum & 0xFF)
        }
        return packet
    }

    /// The Internet checksum (RFC 1071) over `bytes`.
    public static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// Classifies a received packet. `identifier` nil: not compared (datagram socket).
    public static func classify(_ packet: [UInt8], ipv6: Bool, hasIPHeader: Bool, identifier: UInt16?, sequence: UInt16) -> Reply {
        var start = 0
        if hasIPHeader {
            guard let first = packet.first else { return .malformed("an empty packet") }
            let headerLength = Int(first & 0x0F) * 4
            guard first >> 4 == 4, headerLength >= 20 else {
                return .malformed("IP header of version \(first >> 4), length \(headerLength), is not IPv4's")
            }
            guard packet.count >= headerLength else {
                return .malformed("\(packet.count) octets, shorter than its IP header (\(headerLength))")
            }
            start = headerLength
        }
        let icmp = packet.count - start
        guard icmp >= 8 else { return .malformed("ICMP message of \(icmp) octets, shorter than an echo header (8)") }
        guard packet[start] == (ipv6 ? 129 : 0) else { return .notOurs }
        let gotIdentifier = UInt16(packet[start + 4]) << 8 | UInt16(packet[start + 5])
        let gotSequence = UInt16(packet[start + 6]) << 8 | UInt16(packet[start + 7])
        if let identifier, gotIdentifier != identifier { return .notOurs }
        return gotSequence == sequence ? .ours : .notOurs
    }
}
