import Foundation

/// One statement of keepalived.conf: the words of one line, and the block that follows
/// when the line ends with `{`.
public struct Statement: Hashable, Sendable {
    public var words: [Token]
    public var block: [Statement]?
    public var keyword: Token { words[0] }
    public var arguments: ArraySlice<Token> { words.dropFirst() }
    public var location: SourceLocation { words[0].location }
}

/// Reads files into statement trees and follows `include` (globs, paths relative to the
/// including file), so that every statement keeps the file and line it came from.
public struct ConfigSource {
    /// keepalived's `-i` config id for `@ID` lines.
    public var configID: String?
    public private(set) var diagnostics = Diagnostics()
    /// The `$NAME=value` definitions so far, shared with included files as keepalived does.
    var parameters: Parameters
    /// Every file read, in order; `dump-config` and reload compare these.
    public private(set) var files: [String] = []

    static let maximumNesting = 64
    static let maximumIncludeDepth = 32
    /// Larger files are refused: a keepalived.conf is kilobytes, and reading a wrong
    /// path (a disk image, a log) should fail fast rather than fill memory.
    public static let maximumFileSize = 64 << 20

    /// `expansionBudget` bounds what `$NAME` and `~SEQ` may produce in all (bytes).
    public init(configID: String? = nil, expansionBudget: Int = 16 << 20) {
        self.configID = configID
        parameters = Parameters(configID: configID, budget: expansionBudget)
    }

    /// Reads `path` and everything it includes.
    public mutating func read(path: String) -> [Statement] {
        var stack: [String] = []
        return readFile(path, from: nil, stack: &stack)
    }

    /// Parses text given directly (tests, stdin); includes resolve against `directory`.
    public mutating func parse(text: String, file: String) -> [Statement] {
        var stack: [String] = []
        return parse(bytes: Array(text.utf8), file: file, stack: &stack)
    }

    private mutating func readFile(_ path: String, from include: Token?, stack: inout [String]) -> [Statement] {
        let canonical = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let here = include?.location ?? SourceLocation(file: path, line: 1, column: 1)
        if stack.contains(canonical) {
            diagnostics.error(here, "include loop: " + (stack + [canonical]).joined(separator: " -> "))
            return []
        }
        if stack.count >= Self.maximumIncludeDepth {
            diagnostics.error(here, "includes nested more than \(Self.maximumIncludeDepth) deep")
            return []
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            diagnostics.error(here, include == nil ? "cannot read \(path): no such file" : "included file \(path) does not exist")
            return []
        }
        guard !isDirectory.boolValue else {
            diagnostics.error(here, "\(path) is a directory, not a configuration file")
            return []
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            diagnostics.error(here, "cannot read \(path): permission denied")
            return []
        }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: Self.maximumFileSize + 1)) ?? Data()
        guard data.count <= Self.maximumFileSize else {
            diagnostics.error(here, "\(path) is larger than \(Self.maximumFileSize >> 20) MiB; not a keepalived.conf")
            return []
        }
        files.append(path)
        stack.append(canonical)
        defer { stack.removeLast() }
        return parse(bytes: [UInt8](data), file: path, stack: &stack)
    }

    private mutating func parse(bytes: [UInt8], file: String, stack: inout [String]) -> [Statement] {
        parameters.configID = configID
        var stream = TokenStream(bytes: bytes, file: file, configID: configID)
        var position = 0
        let statements = parseBlock(&stream, &position, opener: nil, depth: 0, stack: &stack)
        diagnostics.append(contentsOf: stream.lexer.diagnostics.all)
        return statements
    }

    /// Statements up to the matching `}` (or the end, at top level). An `include` is read
    /// as soon as its line is: the included file sees the definitions made before it.
    private mutating func parseBlock(_ tokens: inout TokenStream, _ i: inout Int, opener: Token?, depth: Int,
                                     stack: inout [String]) -> [Statement] {
        var statements: [Statement] = []
        while let token = tokens.token(i, &parameters, &diagnostics) {
            switch token.kind {
            case .newline:
                i += 1
            case .closeBrace:
                i += 1
                if opener != nil { return statements }
                diagnostics.error(token.location, "unexpected '}' with no open block")
            case .openBrace:
                i += 1
                diagnostics.error(token.location, "'{' without a keyword before it")
                _ = parseNested(&tokens, &i, opener: token, depth: depth, stack: &stack)
            case .word, .quoted:
                var words: [Token] = []
                while let word = tokens.token(i, &parameters, &diagnostics), word.kind == .word || word.kind == .quoted {
                    words.append(word)
                    i += 1
                }
                if token.text == "include" {
                    statements += include(Statement(words: words, block: nil), from: tokens.file, stack: &stack)
                    continue
                }
                // A block may open on the same line or on the next non-empty line.
                var j = i
                while let next = tokens.token(j, &parameters, &diagnostics), next.kind == .newline { j += 1 }
                var block: [Statement]?
                if let brace = tokens.token(j, &parameters, &diagnostics), brace.kind == .openBrace {
                    i = j + 1
                    block = parseNested(&tokens, &i, opener: brace, depth: depth, stack: &stack)
                }
                statements.append(Statement(words: words, block: block))
            }
        }
        if let opener {
            diagnostics.error(opener.location, "'{' is never closed (missing '}' before the end of \(opener.location.file))")
        }
        return statements
    }

    private mutating func parseNested(_ tokens: inout TokenStream, _ i: inout Int, opener: Token, depth: Int,
                                      stack: inout [String]) -> [Statement] {
        guard depth + 1 < Self.maximumNesting else {
            diagnostics.error(opener.location, "blocks nested more than \(Self.maximumNesting) deep")
            // Skip to the matching brace without recursing.
            var level = 1
            while level > 0, let token = tokens.token(i, &parameters, &diagnostics) {
                if token.kind == .openBrace { level += 1 }
                if token.kind == .closeBrace { level -= 1 }
                i += 1
            }
            return []
        }
        return parseBlock(&tokens, &i, opener: opener, depth: depth + 1, stack: &stack)
    }

    /// The statements of the files an `include PATH-OR-GLOB` names, relative to the
    /// including file.
    private mutating func include(_ statement: Statement, from file: String, stack: inout [String]) -> [Statement] {
        let arguments = Array(statement.arguments)
        guard arguments.count == 1 else {
            diagnostics.error(statement.location, "include takes one path or pattern, got \(arguments.count)")
            return []
        }
        let pattern = arguments[0].text
        let base = (file as NSString).deletingLastPathComponent
        let absolute = pattern.hasPrefix("/") ? pattern : (base.isEmpty ? pattern : base + "/" + pattern)
        guard pattern.contains(where: { "*?[".contains($0) }) else {
            return readFile(absolute, from: arguments[0], stack: &stack)
        }
        let matches = Self.glob(absolute)
        if matches.isEmpty { diagnostics.warning(arguments[0].location, "include pattern \(pattern) matches no file") }
        var result: [Statement] = []
        for match in matches { result += readFile(match, from: arguments[0], stack: &stack) }
        return result
    }

    static func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}

/// The tokens of one file, lexed a line at a time as the parser asks for them, so that
/// what the parser does at a line (an `include`) happens before the next line is read.
struct TokenStream {
    var lexer: Lexer
    let file: String
    private var preprocessor: Preprocessor
    private var tokens: [Token] = []
    private var ended = false
    private var last: SourceLocation

    init(bytes: [UInt8], file: String, configID: String?) {
        lexer = Lexer(bytes: [], file: file, configID: configID)
        self.file = file
        preprocessor = Preprocessor(bytes: bytes, file: file)
        last = SourceLocation(file: file, line: 1, column: 1)
    }

    /// Token `i`, reading lines until there is one; nil after the end.
    mutating func token(_ i: Int, _ parameters: inout Parameters, _ diagnostics: inout Diagnostics) -> Token? {
        while i >= tokens.count && !ended {
            if let line = preprocessor.next(&parameters, &diagnostics) {
                lexer.tokenize(line, into: &tokens)
                last = tokens.last?.location ?? last
            } else {
                ended = true
                tokens.append(Token(kind: .newline, text: "\n", location: last))
            }
        }
        return i < tokens.count ? tokens[i] : nil
    }
}
