import NetworkTypes
/// The IPv4 header around a VRRP message. Raw IP sockets and packet captures hand the
/// daemon whole IP packets, and the l3 replicator rewrites their destination, so the
/// core decodes and re-encodes the header itself (RFC 791), options kept verbatim.
public struct IPv4Header: Hashable, Sendable {
    public var typeOfService: UInt8
    /// Total length of header and payload as the header states it.
    public var totalLength: UInt16
    public var identification: UInt16
    /// Flags (3 bits) and fragment offset (13 bits), as on the wire.
    public var flagsAndFragmentOffset: UInt16
    public var timeToLive: UInt8
    public var protocolNumber: UInt8
    public var headerChecksum: UInt16
    public var source: IPv4Address
    public var destination: IPv4Address
    public var options: [UInt8]

    public init(typeOfService: UInt8 = 0xC0, totalLength: UInt16 = 0, identification: UInt16 = 0,
                flagsAndFragmentOffset: UInt16 = 0, timeToLive: UInt8 = 255,
                protocolNumber: UInt8 = VRRPAdvertisement.ipProtocolNumber, headerChecksum: UInt16 = 0,
                source: IPv4Address, destination: IPv4Address, options: [UInt8] = []) {
        self.typeOfService = typeOfService
        self.totalLength = totalLength
        self.identification = identification
        self.flagsAndFragmentOffset = flagsAndFragmentOffset
        self.timeToLive = timeToLive
        self.protocolNumber = protocolNumber
        self.headerChecksum = headerChecksum
        self.source = source
        self.destination = destination
        self.options = options
    }

    public var headerLength: Int { 20 + options.count }

    /// True when the packet is a fragment (more-fragments set or a non-zero offset):
    /// VRRP never fragments, so a receiver drops these.
    public var isFragment: Bool { flagsAndFragmentOffset & 0x3FFF != 0 }
}

/// A decoded IPv4 packet: its header and the payload the header's length covers.
public struct IPv4Packet: Hashable, Sendable {
    public var header: IPv4Header
    public var payload: [UInt8]

    public init(header: IPv4Header, payload: [UInt8]) {
        self.header = header
        self.payload = payload
    }

    /// Decodes and checks version, header length, total length and header checksum.
    /// Bytes after `totalLength` (Ethernet padding) are ignored.
    public init(parsing bytes: some Collection<UInt8>) throws(VRRPPacketError) {
        let b = Array(bytes)
        guard b.count >= 20 else {
            throw VRRPPacketError(.truncated, "\(b.count) bytes, an IPv4 header needs 20")
        }
        guard b[0] >> 4 == 4 else {
            throw VRRPPacketError(.badIPHeader, "IP version field \(b[0] >> 4), expected 4")
        }
        let headerLength = Int(b[0] & 0x0F) * 4
        let totalLength = Int(b[2]) << 8 | Int(b[3])
        guard headerLength >= 20, headerLength <= totalLength else {
            throw VRRPPacketError(.badIPHeader, "IHL \(headerLength / 4) with total length \(totalLength)")
        }
        guard totalLength <= b.count else {
            throw VRRPPacketError(.truncated, "IP total length \(totalLength), captured \(b.count) bytes")
        }
        guard InternetChecksum.of(b[0..<headerLength]) == 0 else {
            throw VRRPPacketError(.badIPHeader, "IP header checksum does not verify")
        }
        func word(_ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
        func address(_ i: Int) -> IPv4Address {
            IPv4Address(UInt32(word(i)) << 16 | UInt32(word(i + 2)))
        }
        header = IPv4Header(typeOfService: b[1], totalLength: UInt16(totalLength), identification: word(4),
                            flagsAndFragmentOffset: word(6), timeToLive: b[8], protocolNumber: b[9],
                            headerChecksum: word(10), source: address(12), destination: address(16),
                            options: Array(b[20..<headerLength]))
        payload = Array(b[headerLength..<totalLength])
    }

    /// Encodes the packet. The total length and header checksum are recomputed from the
    /// header and payload, so a rewritten destination gets a valid header.
    public func encoded() -> [UInt8] {
        var h = header
        h.totalLength = UInt16(truncatingIfNeeded: h.headerLength + payload.count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(h.headerLength + payload.count)
        bytes.append(0x40 | UInt8(truncatingIfNeeded: h.headerLength / 4))
        bytes.append(h.typeOfService)
        bytes.append(contentsOf: [UInt8(h.totalLength >> 8), UInt8(truncatingIfNeeded: h.totalLength)])
        bytes.append(contentsOf: [UInt8(h.identification >> 8), UInt8(truncatingIfNeeded: h.identification)])
        bytes.append(contentsOf: [UInt8(h.flagsAndFragmentOffset >> 8),
                                  UInt8(truncatingIfNeeded: h.flagsAndFragmentOffset)])
        bytes.append(h.timeToLive)
        bytes.append(h.protocolNumber)
        bytes.append(contentsOf: [0, 0])
        bytes.append(contentsOf: h.source.octets)
        bytes.append(contentsOf: h.destination.octets)
        bytes.append(contentsOf: h.options)
        let checksum = InternetChecksum.of(bytes)
        bytes[10] = UInt8(checksum >> 8)
        bytes[11] = UInt8(truncatingIfNeeded: checksum)
        bytes.append(contentsOf: payload)
        return bytes
    }
}
