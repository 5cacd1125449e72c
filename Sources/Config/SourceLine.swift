/// One line as the lexer reads it, after `$NAME` substitution and `~SEQ`: its bytes, and
/// for each stretch of them where it was written. A line read straight from a file has
/// one stretch; each substitution adds the stretch of the definition's text and resumes
/// the line's own after it, so a token points at the text it was made of.
struct SourceLine: Sendable {
    /// A stretch of the line from `offset` on: written at `location` (columns counting
    /// on from there), `depth` substitutions deep. `literal` bytes are word bytes even
    /// when they are `#`, `!` or `"` (`${_HASH}`, `${_BANG}`).
    struct Origin: Sendable {
        var offset: Int
        var location: SourceLocation
        var depth: Int
        var literal: Bool = false
    }

    var bytes: [UInt8]
    var origins: [Origin]

    init(bytes: [UInt8], origins: [Origin]) {
        self.bytes = bytes
        self.origins = origins
    }

    /// A line of a file, as written at `location`.
    init(bytes: [UInt8], at location: SourceLocation, depth: Int = 0) {
        self.bytes = bytes
        self.origins = [Origin(offset: 0, location: location, depth: depth)]
    }

    var hasLiterals: Bool { origins.contains { $0.literal } }

    func isLiteral(at offset: Int) -> Bool { origins[originIndex(at: offset)].literal }

    /// The index of the stretch holding byte `offset` (the last one at or before it).
    func originIndex(at offset: Int) -> Int {
        if origins.count == 1 { return 0 }
        var low = 0, high = origins.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if origins[middle].offset <= offset { low = middle } else { high = middle - 1 }
        }
        return low
    }

    func location(at offset: Int) -> SourceLocation {
        guard !origins.isEmpty else { return SourceLocation(file: "", line: 1, column: 1) }
        let origin = origins[originIndex(at: offset)]
        var location = origin.location
        location.column += max(0, offset - origin.offset)
        return location
    }

    func depth(at offset: Int) -> Int { origins.isEmpty ? 0 : origins[originIndex(at: offset)].depth }

    /// The bytes from `start` on, with their origins.
    func suffix(from start: Int) -> SourceLine {
        let start = min(max(0, start), bytes.count)
        var kept: [Origin] = []
        for (index, origin) in origins.enumerated() {
            let end = index + 1 < origins.count ? origins[index + 1].offset : bytes.count
            guard end > start || (index == origins.count - 1) else { continue }
            var moved = origin
            if moved.offset < start { moved.location.column += start - moved.offset; moved.offset = start }
            moved.offset -= start
            kept.append(moved)
        }
        return SourceLine(bytes: Array(bytes[start...]), origins: kept)
    }

    /// The bytes before `end`, with their origins.
    func prefix(upTo end: Int) -> SourceLine {
        let end = min(max(0, end), bytes.count)
        let kept = origins.filter { $0.offset < end || $0.offset == 0 }
        return SourceLine(bytes: Array(bytes[..<end]), origins: kept)
    }

    /// This line with `range` replaced by `insert`; what follows resumes its own origin.
    func replacing(_ range: Range<Int>, with insert: SourceLine) -> SourceLine {
        let head = prefix(upTo: range.lowerBound)
        let tail = suffix(from: range.upperBound)
        var result = head
        result.append(insert)
        result.append(tail)
        return result
    }

    mutating func append(_ other: SourceLine) {
        let base = bytes.count
        bytes += other.bytes
        for var origin in other.origins {
            origin.offset += base
            if let last = origins.last, last.offset == origin.offset { origins.removeLast() }
            origins.append(origin)
        }
    }

    /// Without blanks at both ends (keepalived trims every line it reads).
    func trimmed() -> SourceLine {
        var start = 0, end = bytes.count
        while start < end && Self.isBlank(bytes[start]) { start += 1 }
        while end > start && Self.isBlank(bytes[end - 1]) { end -= 1 }
        return suffix(from: start).prefix(upTo: end - start)
    }

    static func isBlank(_ c: UInt8) -> Bool {
        c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") || c == 0x0B || c == 0x0C
    }

    /// Where a `!` or `#` comment starts (outside `"..."`), or nil.
    func commentStart() -> Int? {
        var quoted = false
        var i = 0
        let literal = hasLiterals
        while i < bytes.count {
            let c = bytes[i]
            if literal && isLiteral(at: i) { i += 1; continue }
            if quoted && c == UInt8(ascii: "\\") && i + 1 < bytes.count
                && (bytes[i + 1] == UInt8(ascii: "\"") || bytes[i + 1] == UInt8(ascii: "\\")) { i += 2; continue }
            if c == UInt8(ascii: "\"") { quoted.toggle() }
            if !quoted && (c == UInt8(ascii: "!") || c == UInt8(ascii: "#")) { return i }
            i += 1
        }
        return nil
    }

    func starts(with text: String) -> Bool { bytes.starts(with: Array(text.utf8)) }
}
