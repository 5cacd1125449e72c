/// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's
/// complement sum of 16-bit words. VRRPv2 sums the VRRP message alone; VRRPv3 and the
/// IPv4 header use it too, so it is written once here and fed in pieces.
public struct InternetChecksum: Sendable {
    private var sum: UInt32 = 0
    /// A byte left over from an odd-length piece, waiting for its partner.
    private var pendingHighByte: UInt8?

    public init() {}

    public mutating func add<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            if let high = pendingHighByte {
                sum &+= UInt32(high) << 8 | UInt32(byte)
                pendingHighByte = nil
                // Fold early so that the sum never overflows, whatever the input length.
                if sum > 0xFFFF_0000 { sum = (sum & 0xFFFF) + (sum >> 16) }
            } else {
                pendingHighByte = byte
            }
        }
    }

    public mutating func add(word: UInt16) {
        add([UInt8(truncatingIfNeeded: word >> 8), UInt8(truncatingIfNeeded: word)])
    }

    /// The checksum of everything added so far; an odd trailing byte is padded with zero.
    public var value: UInt16 {
        var total = sum
        if let high = pendingHighByte { total &+= UInt32(high) << 8 }
        while total > 0xFFFF { total = (total & 0xFFFF) + (total >> 16) }
        return ~UInt16(truncatingIfNeeded: total)
    }

    public static func of<Bytes: Collection>(_ bytes: Bytes) -> UInt16 where Bytes.Element == UInt8 {
        var checksum = InternetChecksum()
        checksum.add(bytes)
        return checksum.value
    }
}
