/// keepalived's sequence and list blocks (keepalived.conf(5), "Sequence blocks", "List
/// blocks"): a line starting `~SEQ(VAR, START, STEP, END)` (`~SEQx` for hexadecimal;
/// STEP or START and STEP may be left out) or `~LST(VAR, V1, V2, ...)` /
/// `~LST({A, B}, {1, 2}, {3, 4})` stands for the rest of the line once per value, with
/// `$VAR` set to it. The rest may itself start with `~SEQ` or `~LST`: the loops nest.
struct Repetition {
    enum Values {
        case numbers(next: Int, step: Int, last: Int, hex: Bool)
        case lists([[String]], next: Int)
    }

    var variables: [String]
    var values: Values
    /// The rest of the line, read once per value.
    var body: SourceLine
    var finished = false

    /// The next values of the variables, or nil when all were given.
    mutating func next() -> [String]? {
        guard !finished else { return nil }
        switch values {
        case .numbers(let current, let step, let last, let hex):
            let (following, overflow) = current.addingReportingOverflow(step)
            finished = overflow || (step > 0 ? following > last : following < last)
            values = .numbers(next: following, step: step, last: last, hex: hex)
            return [hex ? String(current, radix: 16) : String(current)]
        case .lists(let sets, let index):
            guard index < sets.count else { finished = true; return nil }
            values = .lists(sets, next: index + 1)
            finished = index + 1 >= sets.count
            return sets[index]
        }
    }

    /// Reads the `~SEQ(...)` or `~LST(...)` at the start of `line`; the error says what is
    /// wrong. `substitute` replaces parameters in ~SEQ's numbers (keepalived allows
    /// `~SEQ(I, 1, $COUNT)`).
    static func parse(_ line: SourceLine, substitute: (SourceLine) -> SourceLine?) -> Result<Repetition, RepetitionError> {
        var cursor = Cursor(bytes: line.bytes, at: 4)
        let isList = line.starts(with: "~LST")
        let what = isList ? "~LST" : "~SEQ"
        let hex = !isList && cursor.take("x")
        cursor.skipBlanks()
        guard cursor.take("(") else { return .failure(.init("\(what) needs '(' after it")) }
        cursor.skipBlanks()
        if isList { return parseList(line, &cursor) }
        let variable = cursor.word(stoppingAt: " \t,)")
        cursor.skipBlanks()
        guard !variable.isEmpty, variable.utf8.allSatisfy(Reference.isNameByte), cursor.take(",") else {
            return .failure(.init("~SEQ needs a variable name and its numbers: ~SEQ(VAR, START, STEP, END)"))
        }
        guard let close = line.bytes[cursor.offset...].firstIndex(of: UInt8(ascii: ")")) else {
            return .failure(.init("~SEQ is missing its closing ')'"))
        }
        guard let numbersLine = substitute(line.suffix(from: cursor.offset).prefix(upTo: close - cursor.offset)) else {
            return .failure(.init("~SEQ's numbers could not be substituted"))
        }
        let words = String(decoding: numbersLine.bytes, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingBlanks() }
        let numbers = words.map(integer)
        guard (1...3).contains(numbers.count), !numbers.contains(nil) else {
            return .failure(.init("~SEQ takes one to three integers (START, STEP, END), got '\(words.joined(separator: ","))'"))
        }
        let given = numbers.compactMap { $0 }
        var start: Int, step: Int, end: Int
        switch given.count {
        case 1: end = given[0]; step = end < 1 ? -1 : 1; start = end < 0 ? -1 : 1
        case 2: start = given[0]; end = given[1]; step = start <= end ? 1 : -1
        default:
            start = given[0]; step = given[1]; end = given[2]
            guard step != 0, !(start < end && step < 0), !(start > end && step > 0) else {
                return .failure(.init("~SEQ step \(step) never goes from \(start) to \(end)"))
            }
        }
        if hex && (start < 0 || end < 0) { return .failure(.init("~SEQx is only for numbers that are not negative")) }
        var body = Cursor(bytes: line.bytes, at: close + 1)
        body.skipBlanks()
        return .success(Repetition(variables: [variable], values: .numbers(next: start, step: step, last: end, hex: hex),
                                   body: line.suffix(from: body.offset)))
    }

    private static func parseList(_ line: SourceLine, _ cursor: inout Cursor) -> Result<Repetition, RepetitionError> {
        let usage = RepetitionError("~LST is ~LST(VAR, V1, V2, ...) or ~LST({VAR1, VAR2}, {V1, V2}, ...)")
        guard let variables = cursor.group(stoppingAt: " \t,})"),
              !variables.isEmpty, variables.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Reference.isNameByte) }) else {
            return .failure(usage)
        }
        var sets: [[String]] = []
        while true {
            cursor.skipBlanks()
            if cursor.take(")") { break }
            guard cursor.take(",") else { return .failure(usage) }
            cursor.skipBlanks()
            guard var values = cursor.group(stoppingAt: " \t,})") else { return .failure(usage) }
            guard values.count <= variables.count else {
                return .failure(.init("~LST has more values in a set than the \(variables.count) variables"))
            }
            values += Array(repeating: "", count: variables.count - values.count)
            sets.append(values)
        }
        guard !sets.isEmpty else { return .failure(.init("~LST needs at least one value")) }
        cursor.skipBlanks()
        return .success(Repetition(variables: variables, values: .lists(sets, next: 0), body: line.suffix(from: cursor.offset)))
    }

    /// strtol(base 0): decimal, 0x hexadecimal, 0 octal, with a sign.
    static func integer(_ text: String) -> Int? {
        var digits = Substring(text)
        let negative = digits.hasPrefix("-")
        if negative || digits.hasPrefix("+") { digits = digits.dropFirst() }
        var radix = 10
        if digits.lowercased().hasPrefix("0x") { radix = 16; digits = digits.dropFirst(2) }
        else if digits.count > 1 && digits.hasPrefix("0") { radix = 8; digits = digits.dropFirst() }
        // One sign only: Int(_:radix:) would take a second one (and "-0x-8000000000000000"
        // would then overflow when negated).
        guard let first = digits.first, first.isHexDigit, let magnitude = Int(digits, radix: radix) else { return nil }
        return negative ? 0 - magnitude : magnitude
    }
}

struct RepetitionError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

/// Reads the header of a `~SEQ`/`~LST` byte by byte.
private struct Cursor {
    let bytes: [UInt8]
    var offset: Int
    init(bytes: [UInt8], at offset: Int) {
        self.bytes = bytes
        self.offset = min(offset, bytes.count)
    }

    mutating func skipBlanks() {
        while offset < bytes.count && (bytes[offset] == UInt8(ascii: " ") || bytes[offset] == UInt8(ascii: "\t")) { offset += 1 }
    }

    mutating func take(_ c: Unicode.Scalar) -> Bool {
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: c) else { return false }
        offset += 1
        return true
    }

    mutating func word(stoppingAt stops: String) -> String {
        let start = offset
        let stopBytes = Array(stops.utf8)
        while offset < bytes.count && !stopBytes.contains(bytes[offset]) { offset += 1 }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    /// `{A, B}` or a single `A`; nil when a `{` is not closed.
    mutating func group(stoppingAt stops: String) -> [String]? {
        guard take("{") else { return [word(stoppingAt: stops)] }
        var words: [String] = []
        while true {
            skipBlanks()
            words.append(word(stoppingAt: stops))
            skipBlanks()
            if take("}") { return words }
            guard take(",") else { return nil }
        }
    }
}

extension Substring {
    func trimmingBlanks() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
