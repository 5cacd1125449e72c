/// UDP_CHECK's datagram and what its answer must be, with keepalived's rules
/// (check_udp.c): without `require_reply`, silence for connect_timeout is success and only
/// an ICMP error (port unreachable) fails; with it, a reply must come, and when reply bytes
/// are given the reply's length must be within the bounds and its first octets must match
/// them (masked nibbles are wildcards). keepalived compares only as many octets as both
/// have, so a shorter reply within the bounds matches.
public struct UDPProbe: Sendable, Hashable {
    public var payload: [UInt8]
    public var requireReply: Bool
    public var replyData: [UInt8]?
    /// Wildcard bits per octet of `replyData`; nil when none.
    public var replyMask: [UInt8]?
    public var minReplyLength: Int
    public var maxReplyLength: Int

    public init(payload: [UInt8]? = nil, requireReply: Bool = false, replyData: [UInt8]? = nil, replyMask: [UInt8]? = nil,
                minReplyLength: Int = 0, maxReplyLength: Int = 255) {
        self.payload = payload ?? Self.filler
        self.requireReply = requireReply
        self.replyData = replyData
        self.replyMask = replyMask
        self.minReplyLength = minReplyLength
        self.maxReplyLength = maxReplyLength
    }

    /// keepalived's datagram when no payload is configured: 32 octets of
    /// "keepalived check - " repeated, so a server sees the same probe from either.
    public static let filler: [UInt8] = Array(String(repeating: "keepalived check - ", count: 2).utf8.prefix(32))

    /// The result of a reply datagram.
    public func judge<Bytes: Collection>(reply: Bytes) -> CheckResult where Bytes.Element == UInt8 {
        guard let expected = replyData else { return .success }
        guard reply.count >= minReplyLength, reply.count <= maxReplyLength else {
            return .failure("reply of \(reply.count) octets, outside min_reply_length \(minReplyLength) - max_reply_length \(maxReplyLength)")
        }
        for (offset, (got, want)) in zip(reply, expected).enumerated() {
            let wild = replyMask.flatMap { offset < $0.count ? $0[offset] : nil } ?? 0
            if (got ^ want) & ~wild != 0 {
                return .failure("reply octet \(offset) is \(Self.hex(got)), expected \(Self.hex(want))\(wild != 0 ? " (mask \(Self.hex(~wild)))" : "")")
            }
        }
        return .success
    }

    /// What silence for connect_timeout means: success unless a reply is required.
    public var silenceResult: CheckResult? { requireReply ? nil : .success }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "0x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 0x0F)])
    }
}
