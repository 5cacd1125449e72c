/// What a tracked file says, read as keepalived reads it: its first 127 bytes are a number
/// for strtol with base 0 (leading blanks and a sign, then `0x` hex, `0` octal or
/// decimal; whatever follows the digits is ignored). An empty or missing file, or one
/// with no digits, reads 0; a number outside Int32 keeps the last value, and says so.
enum TrackedFileContent: Equatable {
    case value(Int)
    /// Out of range: the text it was.
    case invalid(String)

    /// At most this much of a file is read (keepalived's 128-byte buffer).
    static let readLimit = 127

    static func parse(_ bytes: some Collection<UInt8>) -> TrackedFileContent {
        let text = Array(bytes.prefix(readLimit))
        var i = text.startIndex
        while i < text.endIndex, [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D].contains(text[i]) { i += 1 }
        var negative = false
        if i < text.endIndex, text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
            negative = text[i] == UInt8(ascii: "-")
            i += 1
        }
        var base = 10
        if i < text.endIndex, text[i] == UInt8(ascii: "0") {
            let next = i + 1
            if next + 1 < text.endIndex, text[next] | 0x20 == UInt8(ascii: "x"), digit(text[next + 1], base: 16) != nil {
                base = 16
                i = next + 1
            } else {
                base = 8
            }
        }
        var magnitude = 0
        var overflow = false
        while i < text.endIndex, let d = digit(text[i], base: base) {
            if !overflow {
                let (m, o1) = magnitude.multipliedReportingOverflow(by: base)
                let (s, o2) = m.addingReportingOverflow(d)
                overflow = o1 || o2
                magnitude = s
            }
            i += 1
        }
        let limit = negative ? Int(Int32.max) + 1 : Int(Int32.max)
        guard !overflow, magnitude <= limit else {
            return .invalid(String(decoding: text.prefix(while: { $0 >= 0x20 && $0 < 0x7F }), as: UTF8.self))
        }
        return .value(negative ? -magnitude : magnitude)
    }

    private static func digit(_ byte: UInt8, base: Int) -> Int? {
        let value: Int
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(byte - UInt8(ascii: "a")) + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(byte - UInt8(ascii: "A")) + 10
        default: return nil
        }
        return value < base ? value : nil
    }
}
