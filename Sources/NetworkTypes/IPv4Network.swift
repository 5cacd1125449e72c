/// An IPv4 network in CIDR notation (`172.31.0.0/16`). VPCs, subnets, routes and
/// security-group rules are all written this way; the lab's fabric and `overcast doctor`
/// decide with it which address belongs where.
public struct IPv4Network: Codable, Hashable, Sendable, CustomStringConvertible {
    /// The first address (host bits cleared).
    public var address: IPv4Address
    public var prefixLength: Int

    public init?(_ address: IPv4Address, prefixLength: Int) {
        guard (0...32).contains(prefixLength) else { return nil }
        self.address = IPv4Address(address.value & Self.mask(prefixLength))
        self.prefixLength = prefixLength
    }

    /// The /32 of one address.
    public init(host address: IPv4Address) {
        self.address = address
        self.prefixLength = 32
    }

    /// Parses `A.B.C.D/N` (a bare address is a /32). Host bits are cleared, as EC2 does.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPv4Address(parts[0]) else { return nil }
        var length = 32
        if parts.count == 2 {
            guard let n = Int(parts[1]), parts[1].allSatisfy(\.isASCII) else { return nil }
            length = n
        }
        self.init(address, prefixLength: length)
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << UInt32(32 - length) }

    public var mask: UInt32 { Self.mask(prefixLength) }

    /// The last address (all host bits set): a subnet's broadcast address.
    public var lastAddress: IPv4Address { IPv4Address(address.value | ~mask) }

    public func contains(_ other: IPv4Address) -> Bool { other.value & mask == address.value }

    /// Whether the two networks share any address.
    public func overlaps(_ other: IPv4Network) -> Bool {
        let shorter = min(prefixLength, other.prefixLength)
        return address.value & Self.mask(shorter) == other.address.value & Self.mask(shorter)
    }

    /// The address `n` places after the first (AWS's VPC router is the subnet's first + 1).
    public func address(at n: UInt32) -> IPv4Address? {
        let (value, overflow) = address.value.addingReportingOverflow(n)
        guard !overflow, contains(IPv4Address(value)) else { return nil }
        return IPv4Address(value)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
