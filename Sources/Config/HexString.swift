/// keepalived's hex strings (UDP_CHECK's `payload` and `require_reply`): hex digits,
/// optionally in space-separated groups, two digits to an octet; a group's odd last digit
/// is an octet of its own (`1 2ab` is 01 02 ab). With wildcards allowed, an `x` or `X`
/// nibble matches anything: its bits are set in the mask.
public struct HexString: Hashable, Sendable {
    public var bytes: [UInt8]
    /// One byte per octet, the wildcard bits set; nil when there is no wildcard.
    public var mask: [UInt8]?

    /// Why a word is not a hex string: the word and what was wrong in it.
    public struct Failure: Error, Hashable, Sendable {
        public var word: Int
        public var reason: String
    }

    /// Parses the words of a statement, each a group.
    public static func parse(_ words: [String], wildcards: Bool) -> Result<HexString, Failure> {
        var bytes: [UInt8] = []
        var mask: [UInt8] = []
        for (index, word) in words.enumerated() {
            var nibbles: [(value: UInt8, wild: Bool)] = []
            for character in word {
                if let value = character.hexDigitValue {
                    nibbles.append((UInt8(value), false))
                } else if wildcards && (character == "x" || character == "X") {
                    nibbles.append((0, true))
                } else {
                    let allowed = wildcards ? "hex digits and x wildcards" : "hex digits"
                    return .failure(Failure(word: index, reason: "'\(character)' in '\(word)' is not one of \(allowed)"))
                }
            }
            var i = 0
            while i < nibbles.count {
                if i + 1 < nibbles.count {
                    bytes.append(nibbles[i].value << 4 | nibbles[i + 1].value)
                    mask.append((nibbles[i].wild ? 0xF0 : 0) | (nibbles[i + 1].wild ? 0x0F : 0))
                    i += 2
                } else {
                    bytes.append(nibbles[i].value)
                    mask.append(nibbles[i].wild ? 0x0F : 0)
                    i += 1
                }
            }
        }
        guard !bytes.isEmpty else { return .failure(Failure(word: 0, reason: "no hex digits")) }
        guard bytes.count <= maximumLength else {
            return .failure(Failure(word: 0, reason: "\(bytes.count) octets is more than a UDP datagram holds (\(maximumLength))"))
        }
        return .success(HexString(bytes: bytes, mask: mask.contains { $0 != 0 } ? mask : nil))
    }

    /// The most a UDP datagram over IPv4 carries.
    public static let maximumLength = 65_507
}
