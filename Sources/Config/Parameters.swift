import Foundation

/// keepalived's parameter substitution (keepalived.conf(5), "Parameter substitution"):
/// the `$NAME=value` definitions made so far, shared by a file and the files it includes
/// (one table for the whole read, as keepalived keeps one), and the substitution of
/// `$NAME` (followed by a blank, `,`, `)` or the end of the line) and `${NAME}` in a line.
///
/// Substitution happens when a line is used, not when it is defined, and rescans what it
/// put in, so a value may use names defined later. A name that is not defined stays as
/// written, as keepalived leaves it (scripts hold `$` too); a `${NAME}` outside quotes
/// that is not defined gets a warning. Outside input is bounded: substitutions nest at
/// most `maximumDepth` deep (a definition that uses itself), a line grows to at most
/// `maximumLineLength` bytes and takes at most `maximumSubstitutions`, and everything
/// that substitution and `~SEQ` produce together is at most `budget` bytes.
struct Parameters {
    struct Definition {
        /// The value's lines: one for `$NAME=value`, several for a multi-line one.
        var lines: [SourceLine]
        var multiline: Bool
    }

    private(set) var definitions: [String: Definition] = [:]
    var configID: String?
    /// The directory of the file being read: `${_PWD}`.
    var directory = ""
    /// Bytes that expansion may still produce.
    var budget: Int
    private let limit: Int
    private(set) var budgetExhausted = false
    private var warned: Set<SourceLocation> = []

    static let maximumDepth = 32
    static let maximumLineLength = 16 << 10
    static let maximumSubstitutions = 4096
    static let defaultBudget = 16 << 20

    init(configID: String?, budget: Int = Parameters.defaultBudget) {
        self.configID = configID
        self.budget = budget
        limit = budget
    }

    var isEmpty: Bool { definitions.isEmpty }

    mutating func define(_ name: String, _ definition: Definition) { definitions[name] = definition }

    /// A one-line value set by `~SEQ` or `~LST`, written at `location`.
    mutating func define(_ name: String, value: String, at location: SourceLocation, depth: Int) {
        definitions[name] = Definition(lines: [SourceLine(bytes: Array(value.utf8), at: location, depth: depth)], multiline: false)
    }

    /// Takes `cost` bytes from the budget; false (reported once, at `location`) when it is spent.
    mutating func charge(_ cost: Int, at location: SourceLocation, _ diagnostics: inout Diagnostics) -> Bool {
        guard !budgetExhausted else { return false }
        budget -= cost
        if budget < 0 {
            budgetExhausted = true
            diagnostics.error(location, "parameter substitution and ~SEQ/~LST produce more than \(limit >> 10) KiB; "
                              + "the rest of the configuration is not read")
            return false
        }
        return true
    }

    /// What substituting a line gave: the line, and the further lines of a multi-line
    /// definition it ended with, in order. Nil when a limit was hit (reported).
    struct Substituted {
        var line: SourceLine
        var following: [SourceLine]
        var changed: Bool
    }

    mutating func substitute(_ input: SourceLine, _ diagnostics: inout Diagnostics) -> Substituted? {
        var line = input
        var following: [SourceLine] = []
        var changed = false
        var count = 0
        var i = 0
        while let dollar = line.bytes[i...].firstIndex(of: UInt8(ascii: "$")) {
            guard let reference = Reference(line.bytes, at: dollar) else {
                if let problem = Reference.unterminatedBrace(line.bytes, at: dollar), !Self.quoted(line, before: dollar) {
                    warnOnce(line.location(at: dollar), problem, &diagnostics)
                }
                i = dollar + 1
                continue
            }
            let use = line.location(at: dollar)
            guard let value = lookUp(reference, endsLine: reference.range.upperBound == line.bytes.count, at: use,
                                     quoted: Self.quoted(line, before: dollar), &diagnostics) else {
                i = dollar + 1
                continue
            }
            let depth = line.depth(at: dollar)
            guard depth < Self.maximumDepth, count < Self.maximumSubstitutions else {
                diagnostics.error(use, depth >= Self.maximumDepth
                    ? "$\(reference.name) nests substitutions more than \(Self.maximumDepth) deep; does a definition use itself?"
                    : "more than \(Self.maximumSubstitutions) substitutions on one line")
                return nil
            }
            count += 1
            let through = "$\(reference.name) at \(use)"
            let lines = value.map { Self.rebased($0, depth: depth + 1, through: through) }
            let first = lines.first ?? SourceLine(bytes: [], at: use, depth: depth + 1)
            guard line.bytes.count - reference.range.count + first.bytes.count <= Self.maximumLineLength else {
                diagnostics.error(use, "substituting $\(reference.name) makes the line longer than \(Self.maximumLineLength >> 10) KiB")
                return nil
            }
            line = line.replacing(reference.range, with: first)
            following = Array(lines.dropFirst()) + following
            changed = true
            i = dollar
        }
        return Substituted(line: line, following: following, changed: changed)
    }

    /// A definition's value, or a predefined one's; nil leaves the reference as written.
    private mutating func lookUp(_ reference: Reference, endsLine: Bool, at use: SourceLocation, quoted: Bool,
                                 _ diagnostics: inout Diagnostics) -> [SourceLine]? {
        if let definition = definitions[reference.name], reference.parameters.isEmpty {
            if definition.multiline && !endsLine {
                warnOnce(use, "$\(reference.name) is a multi-line definition and is substituted only at the end of a line; left as written", &diagnostics)
                return nil
            }
            return definition.lines
        }
        if let value = predefined(reference, at: use, &diagnostics) { return [value] }
        if reference.braced && !quoted && definitions[reference.name] == nil {
            warnOnce(use, "${\(reference.name)} is not defined; left as written", &diagnostics)
        }
        return nil
    }

    /// keepalived's predefined `_PWD`, `_INSTANCE`, `_RANDOM [MIN [MAX]]`, `_ENV NAME`,
    /// `_HASH` and `_BANG`.
    private func predefined(_ reference: Reference, at use: SourceLocation, _ diagnostics: inout Diagnostics) -> SourceLine? {
        func text(_ value: String, literal: Bool = false) -> SourceLine {
            var line = SourceLine(bytes: Array(value.utf8), at: use)
            line.origins[0].literal = literal
            return line
        }
        let parameters = reference.parameters
        switch reference.name {
        case "_PWD" where parameters.isEmpty: return text(directory)
        case "_INSTANCE" where parameters.isEmpty:
            return text(configID ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "")
        case "_HASH" where parameters.isEmpty: return text("#", literal: true)
        case "_BANG" where parameters.isEmpty: return text("!", literal: true)
        case "_ENV" where parameters.count == 1: return text(ProcessInfo.processInfo.environment[parameters[0]] ?? "")
        case "_RANDOM" where parameters.count <= 2:
            let numbers = parameters.map { UInt32($0) }
            guard !numbers.contains(nil) else { return nil }
            let low = numbers.first.flatMap { $0 } ?? 0, high = numbers.count == 2 ? numbers[1] ?? 32767 : 32767
            return text(String(UInt32.random(in: min(low, high)...max(low, high))))
        default: return nil
        }
    }

    private mutating func warnOnce(_ location: SourceLocation, _ message: String, _ diagnostics: inout Diagnostics) {
        if warned.insert(location).inserted { diagnostics.warning(location, message) }
    }

    /// A value's line as put in at a use: one substitution deeper, saying through which use.
    private static func rebased(_ line: SourceLine, depth: Int, through: String) -> SourceLine {
        var line = line
        for index in line.origins.indices {
            line.origins[index].depth = depth
            if line.origins[index].location.expansion == nil { line.origins[index].location.expansion = through }
        }
        return line
    }

    /// Whether `offset` is inside `"..."`.
    private static func quoted(_ line: SourceLine, before offset: Int) -> Bool {
        var quoted = false
        var i = 0
        while i < offset {
            if quoted && line.bytes[i] == UInt8(ascii: "\\") && i + 1 < offset { i += 2; continue }
            if line.bytes[i] == UInt8(ascii: "\"") { quoted.toggle() }
            i += 1
        }
        return quoted
    }
}

/// A `$NAME` or `${NAME}` / `${NAME PARAM...}` in a line.
struct Reference {
    var name: String
    var parameters: [String]
    var braced: Bool
    var range: Range<Int>

    static func isNameStart(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == UInt8(ascii: "_") }
    static func isNameByte(_ c: UInt8) -> Bool { isNameStart(c) || (c >= 0x30 && c <= 0x39) }

    /// The reference at the `$` at `start`, or nil when there is none (keepalived's rules).
    init?(_ bytes: [UInt8], at start: Int) {
        var i = start + 1
        braced = i < bytes.count && bytes[i] == UInt8(ascii: "{")
        if braced { i += 1 }
        guard i < bytes.count, Self.isNameStart(bytes[i]) else { return nil }
        let nameStart = i
        while i < bytes.count && Self.isNameByte(bytes[i]) { i += 1 }
        name = String(decoding: bytes[nameStart..<i], as: UTF8.self)
        parameters = []
        if braced {
            let rest = i
            while i < bytes.count && (bytes[i] == UInt8(ascii: " ") || bytes[i] == UInt8(ascii: "\t") || Self.isNameByte(bytes[i])) { i += 1 }
            guard i < bytes.count, bytes[i] == UInt8(ascii: "}"), i == rest || Self.isNameByte(bytes[i - 1]) else { return nil }
            parameters = String(decoding: bytes[rest..<i], as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            i += 1
        } else if i < bytes.count {
            let c = bytes[i]
            guard c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: ",") || c == UInt8(ascii: ")") else { return nil }
        }
        range = start..<i
    }

    /// "unterminated ${" when a `${` never closes on its line.
    static func unterminatedBrace(_ bytes: [UInt8], at start: Int) -> String? {
        guard start + 1 < bytes.count, bytes[start + 1] == UInt8(ascii: "{"),
              !bytes[(start + 2)...].contains(UInt8(ascii: "}")) else { return nil }
        return "'${' is never closed with '}'; left as written"
    }
}
