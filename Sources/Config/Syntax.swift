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
    /// Every file read, in order; `dump-config` and reload compare these.
    public private(set) var files: [String] = []

    static let maximumNesting = 64
    static let maximumIncludeDepth = 32
    /// Larger files are refused: a keepalived.conf is kilobytes, and reading a wrong
    /// path (a disk image, a log) should fail fast rather than fill memory.
    public static let maximumFileSize = 64 << 20

    public init(configID: String? = nil) { self.configID = configID }

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
        var lexer = Lexer(bytes: bytes, file: file, configID: configID)
        let tokens = lexer.tokenize()
        diagnostics.append(contentsOf: lexer.diagnostics.all)
        var position = 0
        let statements = parseBlock(tokens, &position, opener: nil, depth: 0)
        return expandIncludes(statements, file: file, stack: &stack)
    }

    /// Statements up to the matching `}` (or the end, at top level).
    private mutating func parseBlock(_ tokens: [Token], _ i: inout Int, opener: Token?, depth: Int) -> [Statement] {
        var statements: [Statement] = []
        while i < tokens.count {
            let token = tokens[i]
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
                _ = parseNested(tokens, &i, opener: token, depth: depth)
            case .word, .quoted:
                var words: [Token] = []
                while i < tokens.count, tokens[i].kind == .word || tokens[i].kind == .quoted {
                    words.append(tokens[i])
                    i += 1
                }
                // A block may open on the same line or on the next non-empty line.
                var j = i
                while j < tokens.count && tokens[j].kind == .newline { j += 1 }
                var block: [Statement]?
                if j < tokens.count && tokens[j].kind == .openBrace {
                    let brace = tokens[j]
                    i = j + 1
                    block = parseNested(tokens, &i, opener: brace, depth: depth)
                }
                statements.append(Statement(words: words, block: block))
            }
        }
        if let opener {
            diagnostics.error(opener.location, "'{' is never closed (missing '}' before the end of \(opener.location.file))")
        }
        return statements
    }

    private mutating func parseNested(_ tokens: [Token], _ i: inout Int, opener: Token, depth: Int) -> [Statement] {
        guard depth + 1 < Self.maximumNesting else {
            diagnostics.error(opener.location, "blocks nested more than \(Self.maximumNesting) deep")
            // Skip to the matching brace without recursing.
            var level = 1
            while i < tokens.count && level > 0 {
                if tokens[i].kind == .openBrace { level += 1 }
                if tokens[i].kind == .closeBrace { level -= 1 }
                i += 1
            }
            return []
        }
        return parseBlock(tokens, &i, opener: opener, depth: depth + 1)
    }

    private mutating func expandIncludes(_ statements: [Statement], file: String, stack: inout [String]) -> [Statement] {
        var result: [Statement] = []
        for var statement in statements {
            if let block = statement.block {
                statement.block = expandIncludes(block, file: file, stack: &stack)
            }
            guard statement.keyword.text == "include" else {
                result.append(statement)
                continue
            }
            let arguments = Array(statement.arguments)
            guard arguments.count == 1 else {
                diagnostics.error(statement.location, "include takes one path or pattern, got \(arguments.count)")
                continue
            }
            let pattern = arguments[0].text
            let base = (file as NSString).deletingLastPathComponent
            let absolute = pattern.hasPrefix("/") ? pattern : (base.isEmpty ? pattern : base + "/" + pattern)
            if pattern.contains(where: { "*?[".contains($0) }) {
                let matches = Self.glob(absolute)
                if matches.isEmpty { diagnostics.warning(arguments[0].location, "include pattern \(pattern) matches no file") }
                for match in matches { result += readFile(match, from: arguments[0], stack: &stack) }
            } else {
                result += readFile(absolute, from: arguments[0], stack: &stack)
            }
        }
        return result
    }

    static func glob(_ pattern: String) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        guard Glibc.glob(pattern, 0, nil, &matches) == 0 else { return [] }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }
}
