import Foundation

/// keepalived's line-level reading of one file (keepalived.conf(5), "Advanced
/// configuration"), before the words: each line loses its comment and surrounding
/// blanks, then
/// - `@ID rest` keeps `rest` only when the config id is ID (`@^ID` when it is not);
/// - `$NAME=value` defines NAME; a value ending in `\` goes on over the following lines
///   (each one a line of the value) until one that does not, or an empty line;
/// - `~SEQ(...)` / `~LST(...)` repeats the rest of the line (see `Repetition`);
/// - `$NAME` and `${NAME}` are substituted (see `Parameters`); a multi-line value gives
///   its lines one after another, each read again as a line of the file, so it may
///   define, repeat and substitute in turn.
/// Lines come out one at a time, so an `include` is read when its line is reached and
/// sees exactly the definitions made before it.
struct Preprocessor {
    private enum Frame {
        case lines([SourceLine], next: Int)
        case repetition(Repetition, depth: Int, at: SourceLocation)
    }

    private let bytes: [UInt8]
    private let file: String
    private let directory: String
    private var position = 0
    private var lineNumber = 0
    private var frames: [Frame] = []
    private var collecting: (name: String, definition: Parameters.Definition)?

    init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
        let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        directory = URL(fileURLWithPath: absolute).standardizedFileURL.deletingLastPathComponent().path
    }

    /// The next line to read words from, or nil at the end of the file. A line that is
    /// all comment, a definition or a `~SEQ` header comes out empty.
    mutating func next(_ parameters: inout Parameters, _ diagnostics: inout Diagnostics) -> SourceLine? {
        parameters.directory = directory
        while true {
            var candidate: SourceLine
            var expanded = false
            if let top = frames.last {
                switch top {
                case .lines(let lines, let next):
                    guard next < lines.count else { frames.removeLast(); continue }
                    frames[frames.count - 1] = .lines(lines, next: next + 1)
                    candidate = lines[next]
                case .repetition(var repetition, let depth, let location):
                    guard let values = repetition.next() else { frames.removeLast(); continue }
                    frames[frames.count - 1] = .repetition(repetition, depth: depth, at: location)
                    for (variable, value) in zip(repetition.variables, values) {
                        parameters.define(variable, value: value, at: location, depth: depth + 1)
                    }
                    candidate = repetition.body
                    for index in candidate.origins.indices { candidate.origins[index].depth = depth + 1 }
                }
                expanded = true
                guard parameters.charge(candidate.bytes.count + 1, at: candidate.location(at: 0), &diagnostics) else {
                    frames.removeAll()
                    position = bytes.count
                    return nil
                }
            } else {
                guard position < bytes.count else {
                    finishDefinition(&parameters)
                    return nil
                }
                // One pass over the line's bytes finds its end and whether it holds a `$`
                // (most lines do not, and go to the lexer as they are).
                var end = position
                var hasDollar = false
                let text = bytes.withUnsafeBufferPointer { buffer -> [UInt8] in
                    while end < buffer.count && buffer[end] != UInt8(ascii: "\n") {
                        if buffer[end] == UInt8(ascii: "$") { hasDollar = true }
                        end += 1
                    }
                    return Array(UnsafeBufferPointer(rebasing: buffer[position..<end]))
                }
                lineNumber += 1
                candidate = SourceLine(bytes: text, at: SourceLocation(file: file, line: lineNumber, column: 1))
                position = end + 1
                if collecting == nil && !hasDollar && !Self.startsWithMarker(text) { return candidate }
            }
            if collecting != nil {
                collect(candidate, &parameters)
                continue
            }
            if !expanded && !Self.needsProcessing(candidate.bytes) { return candidate }
            return process(candidate, &parameters, &diagnostics)
        }
    }

    /// A line without `$` that does not start with `@` or `~` goes to the lexer as it is.
    private static func needsProcessing(_ line: [UInt8]) -> Bool {
        line.contains(UInt8(ascii: "$")) || startsWithMarker(line)
    }

    /// Whether the first byte that is not blank is `@` or `~`.
    private static func startsWithMarker(_ line: [UInt8]) -> Bool {
        var i = 0
        while i < line.count && SourceLine.isBlank(line[i]) { i += 1 }
        return i < line.count && (line[i] == UInt8(ascii: "@") || line[i] == UInt8(ascii: "~"))
    }

    private mutating func process(_ input: SourceLine, _ parameters: inout Parameters, _ diagnostics: inout Diagnostics) -> SourceLine {
        var line = input
        if let comment = line.commentStart() { line = line.prefix(upTo: comment) }
        line = line.trimmed()
        let empty = SourceLine(bytes: [], at: input.location(at: 0))
        if line.starts(with: "@") {
            guard let kept = conditional(line, parameters.configID) else { return empty }
            line = kept
        }
        if line.starts(with: "$"), let (name, value) = Self.definition(line) {
            if value.bytes.last == UInt8(ascii: "\\") {
                let first = value.prefix(upTo: value.bytes.count - 1).trimmed()
                collecting = (name, Parameters.Definition(lines: first.bytes.isEmpty ? [] : [first], multiline: true))
            } else {
                parameters.define(name, Parameters.Definition(lines: [value], multiline: false))
            }
            return empty
        }
        if line.starts(with: "~SEQ") || line.starts(with: "~LST") {
            let depth = line.depth(at: 0)
            guard depth < Parameters.maximumDepth else {
                diagnostics.error(line.location(at: 0), "~SEQ/~LST nested more than \(Parameters.maximumDepth) deep")
                return empty
            }
            switch Repetition.parse(line, substitute: { parameters.substitute($0, &diagnostics)?.line }) {
            case .success(let repetition): frames.append(.repetition(repetition, depth: depth, at: line.location(at: 0)))
            case .failure(let error): diagnostics.error(line.location(at: 0), error.message)
            }
            return empty
        }
        guard !line.starts(with: "~"), line.bytes.contains(UInt8(ascii: "$")) else { return line }
        guard let result = parameters.substitute(line, &diagnostics) else { return empty }
        if !result.following.isEmpty { frames.append(.lines(result.following, next: 0)) }
        guard result.changed else { return line }
        line = result.line
        // What substitution made counts against the budget too: many lines of the file
        // each growing to the line limit must not add up to gigabytes.
        guard parameters.charge(line.bytes.count, at: line.location(at: 0), &diagnostics) else {
            frames.removeAll()
            position = bytes.count
            return empty
        }
        if let comment = line.commentStart() { line = line.prefix(upTo: comment) }
        line = line.trimmed()
        // What a substitution put at the start of the line is read as written there.
        if line.starts(with: "@") || line.starts(with: "~SEQ") || line.starts(with: "~LST") {
            return process(line, &parameters, &diagnostics)
        }
        return line
    }

    /// The rest of an `@ID rest` line when it is for this config id.
    private func conditional(_ line: SourceLine, _ configID: String?) -> SourceLine? {
        guard let blank = line.bytes.firstIndex(where: SourceLine.isBlank) else { return nil }
        let tag = String(decoding: line.bytes[1..<blank], as: UTF8.self)
        let selected = tag.hasPrefix("^") ? configID != String(tag.dropFirst()) : configID == tag
        return selected ? line.suffix(from: blank).trimmed() : nil
    }

    /// `$NAME=value`: the name, and the value without the blanks before it.
    private static func definition(_ line: SourceLine) -> (String, SourceLine)? {
        let bytes = line.bytes
        guard bytes.count > 1, Reference.isNameStart(bytes[1]) else { return nil }
        var i = 2
        while i < bytes.count && Reference.isNameByte(bytes[i]) { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { return nil }
        return (String(decoding: bytes[1..<i], as: UTF8.self), line.suffix(from: i + 1).trimmed())
    }

    /// A line of a multi-line definition: an empty line or one not ending in `\` ends it;
    /// lines that are only a comment are left out.
    private mutating func collect(_ input: SourceLine, _ parameters: inout Parameters) {
        guard !input.bytes.isEmpty, !(input.bytes.count == 1 && input.bytes[0] == UInt8(ascii: "\r")) else {
            finishDefinition(&parameters)
            return
        }
        var line = input
        if let comment = line.commentStart() { line = line.prefix(upTo: comment) }
        line = line.trimmed()
        guard !line.bytes.isEmpty else { return }
        let continues = line.bytes.last == UInt8(ascii: "\\")
        if continues { line = line.prefix(upTo: line.bytes.count - 1).trimmed() }
        if !line.bytes.isEmpty { collecting?.definition.lines.append(line) }
        if !continues { finishDefinition(&parameters) }
    }

    private mutating func finishDefinition(_ parameters: inout Parameters) {
        guard var (name, definition) = collecting else { return }
        collecting = nil
        if definition.lines.isEmpty { definition.multiline = false }
        parameters.define(name, definition)
    }
}
