/// A word of keepalived.conf with where it stands.
public struct Token: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case word, quoted, openBrace, closeBrace, newline }
    public var kind: Kind
    public var text: String
    public var location: SourceLocation
}

/// Splits keepalived.conf text into tokens, the way keepalived reads it:
/// - words are separated by blanks; `{` and `}` are tokens of their own even when
///   they touch a word (`virtual_ipaddress{`);
/// - `!` or `#` outside quotes starts a comment that runs to the end of the line;
/// - `"..."` is one word (with `\"` and `\\` escapes), so script paths may hold spaces;
/// - a backslash before the newline continues the line;
/// - a line that starts with `@ID` is read only when the config id is ID, one that starts
///   with `@^ID` only when it is not (keepalived's `-i`).
///
/// It works on bytes in one pass, so a 10 MB file takes linear time, and reports bad
/// bytes (NUL, invalid UTF-8) with their location instead of failing.
public struct Lexer {
    public private(set) var diagnostics = Diagnostics()
    private let bytes: [UInt8]
    private let file: String
    private let configID: String?

    public init(bytes: [UInt8], file: String, configID: String? = nil) {
        self.bytes = bytes
        self.file = file
        self.configID = configID
    }

    public mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        var i = 0
        var line = 1
        var lineStart = 0
        var atLineStart = true
        var reportedBinary = false
        func location(_ at: Int) -> SourceLocation { SourceLocation(file: file, line: line, column: at - lineStart + 1) }

        while i < bytes.count {
            let b = bytes[i]
            switch b {
            case UInt8(ascii: "\n"):
                tokens.append(Token(kind: .newline, text: "\n", location: location(i)))
                i += 1
                line += 1
                lineStart = i
                atLineStart = true
                continue
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                i += 1
                continue
            case UInt8(ascii: "\\") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n"):
                i += 2
                line += 1
                lineStart = i
                continue
            case UInt8(ascii: "!"), UInt8(ascii: "#"):
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                continue
            case UInt8(ascii: "@") where atLineStart:
                let start = i
                while i < bytes.count && !Self.isBlank(bytes[i]) && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                let tag = String(decoding: bytes[(start + 1)..<i], as: UTF8.self)
                let selected = tag.hasPrefix("^") ? configID != String(tag.dropFirst()) : configID == tag
                if !selected {
                    while i < bytes.count && bytes[i] != UInt8(ascii: "\n") { i += 1 }
                }
                atLineStart = false
                continue
            case UInt8(ascii: "{"):
                tokens.append(Token(kind: .openBrace, text: "{", location: location(i)))
                i += 1
            case UInt8(ascii: "}"):
                tokens.append(Token(kind: .closeBrace, text: "}", location: location(i)))
                i += 1
            case UInt8(ascii: "\""):
                let start = i
                var text: [UInt8] = []
                i += 1
                var closed = false
                while i < bytes.count && bytes[i] != UInt8(ascii: "\n") {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count,
                       bytes[i + 1] == UInt8(ascii: "\"") || bytes[i + 1] == UInt8(ascii: "\\") {
                        text.append(bytes[i + 1])
                        i += 2
                        continue
                    }
                    if bytes[i] == UInt8(ascii: "\"") { closed = true; i += 1; break }
                    text.append(bytes[i])
                    i += 1
                }
                if !closed { diagnostics.error(location(start), "unterminated quoted string") }
                tokens.append(Token(kind: .quoted, text: decode(text, at: location(start), reported: &reportedBinary),
                                    location: location(start)))
            default:
                let start = i
                while i < bytes.count {
                    let c = bytes[i]
                    if Self.isBlank(c) || c == UInt8(ascii: "\n") || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")
                        || c == UInt8(ascii: "!") || c == UInt8(ascii: "#") || c == UInt8(ascii: "\"") { break }
                    i += 1
                }
                tokens.append(Token(kind: .word, text: decode(bytes[start..<i], at: location(start), reported: &reportedBinary),
                                    location: location(start)))
            }
            atLineStart = false
        }
        tokens.append(Token(kind: .newline, text: "\n", location: location(i)))
        return tokens
    }

    private static func isBlank(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == 0x0B || c == 0x0C
    }

    /// Decodes a word; NUL and other control bytes or invalid UTF-8 are reported once per
    /// file (a binary file would otherwise give thousands of lines).
    private mutating func decode(_ word: some Collection<UInt8>, at location: SourceLocation, reported: inout Bool) -> String {
        let text = String(decoding: word, as: UTF8.self)
        let bad = text.unicodeScalars.contains { $0 == "\u{FFFD}" || ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }
        if bad && !reported {
            reported = true
            diagnostics.error(location, "binary data or invalid UTF-8; is this a keepalived.conf?")
        }
        return text
    }
}
