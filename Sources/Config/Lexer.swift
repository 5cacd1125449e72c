/// A word of keepalived.conf with where it stands.
public struct Token: Hashable, Sendable {
    public enum Kind: Hashable, Sendable { case word, quoted, openBrace, closeBrace, newline }
    public var kind: Kind
    public var text: String
    public var location: SourceLocation
}

/// Splits the lines of keepalived.conf into tokens, the way keepalived reads them:
/// - words are separated by blanks; `{` and `}` are tokens of their own even when
///   they touch a word (`virtual_ipaddress{`);
/// - `!` or `#` outside quotes starts a comment that runs to the end of the line;
/// - `"..."` is one word (with `\"` and `\\` escapes), so script paths may hold spaces;
/// - a backslash at the end of a line continues it on the next.
/// Lines come from the `Preprocessor` (`@ID` lines, `$NAME` substitution, `~SEQ`), so a
/// token's location is where its first byte was written.
///
/// It works on bytes in one pass, so a 10 MB file takes linear time, and reports bad
/// bytes (NUL, invalid UTF-8) with their location instead of failing.
public struct Lexer {
    public private(set) var diagnostics = Diagnostics()
    private let bytes: [UInt8]
    private let file: String
    private let configID: String?
    private var reportedBinary = false

    public init(bytes: [UInt8], file: String, configID: String? = nil) {
        self.bytes = bytes
        self.file = file
        self.configID = configID
    }

    /// The tokens of the whole file (`include` is not followed here; `ConfigSource` does).
    public mutating func tokenize() -> [Token] {
        var preprocessor = Preprocessor(bytes: bytes, file: file)
        var parameters = Parameters(configID: configID)
        var tokens: [Token] = []
        var lineDiagnostics = Diagnostics()
        var last = SourceLocation(file: file, line: 1, column: 1)
        while let line = preprocessor.next(&parameters, &lineDiagnostics) {
            tokenize(line, into: &tokens)
            last = tokens.last?.location ?? last
        }
        diagnostics.append(contentsOf: lineDiagnostics.all)
        tokens.append(Token(kind: .newline, text: "\n", location: last))
        return tokens
    }

    /// Appends the tokens of one line, and the newline that ends it unless the line ends
    /// with a continuing backslash.
    mutating func tokenize(_ line: SourceLine, into tokens: inout [Token]) {
        let bytes = line.bytes
        // Most lines have no `${_HASH}`/`${_BANG}`: the per-byte check is skipped for them.
        let literals = line.hasLiterals
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if literals && line.isLiteral(at: i) {
                wordToken(line, &i, into: &tokens, literals: literals)
                continue
            }
            switch b {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), 0x0B, 0x0C:
                i += 1
            case UInt8(ascii: "\\") where i + 1 == bytes.count:
                return
            case UInt8(ascii: "!"), UInt8(ascii: "#"):
                i = bytes.count
            case UInt8(ascii: "{"):
                tokens.append(Token(kind: .openBrace, text: "{", location: line.location(at: i)))
                i += 1
            case UInt8(ascii: "}"):
                tokens.append(Token(kind: .closeBrace, text: "}", location: line.location(at: i)))
                i += 1
            case UInt8(ascii: "\""):
                let start = i
                var text: [UInt8] = []
                i += 1
                var closed = false
                while i < bytes.count {
                    if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count,
                       bytes[i + 1] == UInt8(ascii: "\"") || bytes[i + 1] == UInt8(ascii: "\\") {
                        text.append(bytes[i + 1])
                        i += 2
                        continue
                    }
                    if bytes[i] == UInt8(ascii: "\"") && !(literals && line.isLiteral(at: i)) { closed = true; i += 1; break }
                    text.append(bytes[i])
                    i += 1
                }
                let location = line.location(at: start)
                if !closed { diagnostics.error(location, "unterminated quoted string") }
                tokens.append(Token(kind: .quoted, text: decode(text, at: location), location: location))
            default:
                wordToken(line, &i, into: &tokens, literals: literals)
            }
        }
        tokens.append(Token(kind: .newline, text: "\n", location: line.location(at: bytes.count)))
    }

    private mutating func wordToken(_ line: SourceLine, _ i: inout Int, into tokens: inout [Token], literals: Bool) {
        let bytes = line.bytes
        let start = i
        while i < bytes.count {
            let c = bytes[i]
            if !(literals && line.isLiteral(at: i)) && (Self.isBlank(c) || c == UInt8(ascii: "{") || c == UInt8(ascii: "}")
                || c == UInt8(ascii: "!") || c == UInt8(ascii: "#") || c == UInt8(ascii: "\"")) { break }
            i += 1
        }
        let location = line.location(at: start)
        tokens.append(Token(kind: .word, text: decode(bytes[start..<i], at: location), location: location))
    }

    private static func isBlank(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == 0x0B || c == 0x0C
    }

    /// Decodes a word; NUL and other control bytes or invalid UTF-8 are reported once per
    /// file (a binary file would otherwise give thousands of lines).
    private mutating func decode(_ word: some Collection<UInt8>, at location: SourceLocation) -> String {
        let text = String(decoding: word, as: UTF8.self)
        let bad = text.unicodeScalars.contains { $0 == "\u{FFFD}" || ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }
        if bad && !reportedBinary {
            reportedBinary = true
            diagnostics.error(location, "binary data or invalid UTF-8; is this a keepalived.conf?")
        }
        return text
    }
}
