import NetworkTypes
/// Why a VRRP packet was not accepted. Codec reasons come from the packet alone;
/// policy reasons from comparing it with the receiving router. Every reason has its own
/// counter in `VRRPCounters`, as FRR's `VRRP_PKT_VCHECK` and OpenBSD's `carps_bad*`
/// counters do, so an operator can tell a misconfigured peer from an attack.
public enum VRRPRejection: String, Hashable, Sendable, CaseIterable, CustomStringConvertible, Codable, CodingKeyRepresentable {
    // The packet itself
    case truncated = "truncated"
    case badVersion = "bad_version"
    case badType = "bad_type"
    case badLength = "bad_length"
    case badAddressCount = "bad_address_count"
    case badInterval = "bad_interval"
    case badChecksum = "bad_checksum"
    case badIPHeader = "bad_ip_header"
    case notVRRP = "not_vrrp"
    // The packet compared with the receiving router
    case otherVirtualRouter = "other_vrid"
    case versionMismatch = "version_mismatch"
    case badTTL = "bad_ttl"
    case authTypeMismatch = "auth_type_mismatch"
    case authFailure = "auth_failure"
    case replayed = "replayed"
    case intervalMismatch = "interval_mismatch"
    case unknownSource = "unknown_source"
    case ownAdvertisement = "own_advertisement"

    public var description: String { rawValue }
}

/// A rejection with the detail needed for a useful log line (which field, which value).
public struct VRRPPacketError: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: VRRPRejection
    public var detail: String
    public init(_ reason: VRRPRejection, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }
    public var description: String { "\(reason): \(detail)" }
}

extension VRRPAdvertisement {
    /// Decodes one VRRP message (the IP payload) and checks what the packet says about
    /// itself, including its checksum against `pseudoHeader` (used by v3 only).
    public init(parsing bytes: some Collection<UInt8>, pseudoHeader: PseudoHeader) throws(VRRPPacketError) {
        try self.init(parsingUnchecked: bytes)
        let payload = Array(bytes)
        guard Self.checksumIsValid(payload, version: version, pseudoHeader: pseudoHeader) else {
            let found = UInt16(payload[6]) << 8 | UInt16(payload[7])
            throw VRRPPacketError(.badChecksum, "checksum 0x\(String(found, radix: 16)) does not verify"
                + (version == .v3 ? " (pseudo-header \(pseudoHeader.source) -> \(pseudoHeader.destination))" : ""))
        }
    }

    /// Decodes without checking the checksum: for dumps, and for receivers that accept
    /// more than one pseudo-header destination and check it themselves.
    public init(parsingUnchecked bytes: some Collection<UInt8>) throws(VRRPPacketError) {
        let b = Array(bytes)
        guard b.count >= 8 else {
            throw VRRPPacketError(.truncated, "\(b.count) bytes, a VRRP header needs 8")
        }
        let versionNibble = b[0] >> 4
        guard let version = VRRPVersion(rawValue: versionNibble) else {
            throw VRRPPacketError(.badVersion, "version field \(versionNibble), expected 2 or 3")
        }
        let type = b[0] & 0x0F
        guard type == Self.typeAdvertisement else {
            throw VRRPPacketError(.badType, "type field \(type), expected 1 (ADVERTISEMENT)")
        }
        let count = Int(b[3])
        let expected = 8 + 4 * count + (version == .v2 ? Self.v2AuthenticationDataLength : 0)
        guard b.count >= expected else {
            throw VRRPPacketError(.badAddressCount,
                                  "address count \(count) needs \(expected) bytes, packet has \(b.count)")
        }
        guard b.count == expected else {
            throw VRRPPacketError(.badLength, "\(b.count) bytes, address count \(count) means \(expected)")
        }
        let interval: Centiseconds
        switch version {
        case .v2: interval = .seconds(Int(b[5]))
        case .v3: interval = Centiseconds(Int(b[4] & 0x0F) << 8 | Int(b[5]))
        }
        guard interval.value > 0 else {
            throw VRRPPacketError(.badInterval, "advertisement interval 0")
        }
        var addresses: [IPv4Address] = []
        addresses.reserveCapacity(count)
        for i in 0..<count {
            let o = 8 + 4 * i
            addresses.append(IPv4Address(UInt32(b[o]) << 24 | UInt32(b[o + 1]) << 16
                                         | UInt32(b[o + 2]) << 8 | UInt32(b[o + 3])))
        }
        let authEnd = 8 + 4 * count
        self.init(version: version, virtualRouterID: b[1], priority: b[2], advertisementInterval: interval,
                  addresses: addresses,
                  authType: version == .v2 ? VRRPAuthType(rawValue: b[4]) : .none,
                  authenticationData: version == .v2 ? Array(b[authEnd...]) : nil)
    }

    /// Encodes the message with its checksum. v2 must have a whole-second interval of
    /// 1-255 s; v3 an interval of 1-4095 cs.
    public func encode(into buffer: inout [UInt8], pseudoHeader: PseudoHeader) throws(VRRPPacketError) {
        guard addresses.count <= 255 else {
            throw VRRPPacketError(.badAddressCount, "\(addresses.count) addresses, at most 255 fit")
        }
        let start = buffer.count
        buffer.reserveCapacity(start + encodedLength)
        buffer.append(version.rawValue << 4 | Self.typeAdvertisement)
        buffer.append(virtualRouterID)
        buffer.append(priority)
        buffer.append(UInt8(addresses.count))
        switch version {
        case .v2:
            guard advertisementInterval.value % 100 == 0, (1...255).contains(advertisementInterval.value / 100) else {
                throw VRRPPacketError(.badInterval, "VRRPv2 carries whole seconds 1-255, not \(advertisementInterval)")
            }
            buffer.append(authType.rawValue)
            buffer.append(UInt8(advertisementInterval.value / 100))
        case .v3:
            guard (1...0xFFF).contains(advertisementInterval.value) else {
                throw VRRPPacketError(.badInterval, "VRRPv3 carries 1-4095 centiseconds, not \(advertisementInterval.value)")
            }
            buffer.append(UInt8(advertisementInterval.value >> 8))
            buffer.append(UInt8(truncatingIfNeeded: advertisementInterval.value))
        }
        buffer.append(0)
        buffer.append(0)
        for address in addresses { buffer.append(contentsOf: address.octets) }
        if version == .v2 { buffer.append(contentsOf: authenticationData) }
        let checksum = Self.checksum(buffer[start...], version: version, pseudoHeader: pseudoHeader)
        buffer[start + 6] = UInt8(checksum >> 8)
        buffer[start + 7] = UInt8(truncatingIfNeeded: checksum)
    }

    public func encoded(pseudoHeader: PseudoHeader) throws(VRRPPacketError) -> [UInt8] {
        var buffer: [UInt8] = []
        try encode(into: &buffer, pseudoHeader: pseudoHeader)
        return buffer
    }

    /// The checksum of a VRRP message whose checksum field holds zero (or, when
    /// verifying, the received value: then a correct packet sums to zero).
    /// v2: over the VRRP message only (RFC 3768 §5.3.8). v3: over the IPv4
    /// pseudo-header (source, destination, zero, protocol 112, VRRP length) and the
    /// message (RFC 5798 §5.2.8).
    public static func checksum(_ message: some Collection<UInt8>, version: VRRPVersion,
                                pseudoHeader: PseudoHeader) -> UInt16 {
        var sum = InternetChecksum()
        if version == .v3 {
            sum.add(pseudoHeader.source.octets)
            sum.add(pseudoHeader.destination.octets)
            sum.add([0, ipProtocolNumber])
            sum.add(word: UInt16(truncatingIfNeeded: message.count))
        }
        sum.add(message)
        return sum.value
    }

    public static func checksumIsValid(_ message: [UInt8], version: VRRPVersion, pseudoHeader: PseudoHeader) -> Bool {
        checksum(message, version: version, pseudoHeader: pseudoHeader) == 0
    }
}
