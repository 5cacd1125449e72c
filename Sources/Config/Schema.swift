import Foundation
import NetworkTypes

/// Reads typed values out of statements. Each reader reports the exact token that is
/// wrong and returns nil, so the caller keeps the default and reading goes on.
public struct ValueReader {
    public var diagnostics = Diagnostics()
    /// Whether `auth_key_file` is opened and checked while reading. Off for `simulate`,
    /// which reads other nodes' files on one machine where their keys are absent: the
    /// path is kept and the cluster check reads what it can.
    public var verifiesAuthKeyFiles = true
    public init() {}

    /// Checks the number of arguments; reports at the keyword when wrong.
    mutating func arguments(_ s: Statement, _ range: ClosedRange<Int>) -> [Token]? {
        let args = Array(s.arguments)
        guard range.contains(args.count) else {
            let expected = range.lowerBound == range.upperBound ? "\(range.lowerBound)" : "\(range.lowerBound)-\(range.upperBound)"
            if args.count < range.lowerBound {
                error(s.location, "'\(s.keyword.text)' needs \(expected) value\(range.upperBound == 1 ? "" : "s")")
            } else {
                error(args[range.upperBound].location,
                      "'\(s.keyword.text)' takes \(expected) value\(range.upperBound == 1 ? "" : "s"); unexpected '\(args[range.upperBound].text)'")
            }
            return nil
        }
        return args
    }

    mutating func string(_ s: Statement) -> String? { arguments(s, 1...1)?[0].text }

    mutating func int(_ s: Statement, _ range: ClosedRange<Int>) -> Int? {
        guard let token = arguments(s, 1...1)?[0] else { return nil }
        return int(token, range, what: s.keyword.text)
    }

    mutating func int(_ token: Token, _ range: ClosedRange<Int>, what: String) -> Int? {
        guard let value = Int(token.text) else {
            error(token.location, "\(what): '\(token.text)' is not a whole number")
            return nil
        }
        guard range.contains(value) else {
            error(token.location, "\(what) \(value) is out of range \(range.lowerBound)-\(range.upperBound)")
            return nil
        }
        return value
    }

    mutating func seconds(_ s: Statement, _ range: ClosedRange<Double>) -> Double? {
        guard let token = arguments(s, 1...1)?[0] else { return nil }
        return seconds(token, range, what: s.keyword.text)
    }

    mutating func seconds(_ token: Token, _ range: ClosedRange<Double>, what: String) -> Double? {
        guard let value = Double(token.text), value.isFinite else {
            error(token.location, "\(what): '\(token.text)' is not a number of seconds")
            return nil
        }
        guard range.contains(value) else {
            error(token.location, "\(what) \(token.text) is out of range \(range.lowerBound.formatted)-\(range.upperBound.formatted) seconds")
            return nil
        }
        return value
    }

    /// A keyword with no value, or keepalived's optional `true|false|on|off|yes|no`.
    mutating func flag(_ s: Statement) -> Bool {
        guard let args = arguments(s, 0...1) else { return true }
        guard let word = args.first else { return true }
        switch word.text.lowercased() {
        case "true", "on", "yes", "1": return true
        case "false", "off", "no", "0": return false
        default:
            error(word.location, "'\(s.keyword.text)': '\(word.text)' is not true/false")
            return true
        }
    }

    /// A script command line: all the words, as keepalived joins them.
    mutating func command(_ s: Statement) -> String? {
        guard let args = arguments(s, 1...Int.max) else { return nil }
        return args.map { $0.kind == .quoted && $0.text.contains(" ") && args.count > 1 ? "\"\($0.text)\"" : $0.text }
            .joined(separator: " ")
    }

    /// One word out of a fixed set (case-insensitive as keepalived reads them).
    mutating func choice(_ s: Statement, _ choices: [String]) -> String? {
        guard let word = arguments(s, 1...1)?[0] else { return nil }
        guard let match = choices.first(where: { $0.caseInsensitiveCompare(word.text) == .orderedSame }) else {
            error(word.location, "'\(s.keyword.text)': '\(word.text)' is not one of \(choices.joined(separator: ", "))")
            return nil
        }
        return match
    }

    mutating func ipv4(_ token: Token, what: String) -> IPv4Address? {
        guard let address = IPv4Address(token.text) else {
            error(token.location, "\(what): '\(token.text)' is not an IPv4 address")
            return nil
        }
        return address
    }

    /// Statements read and not acted on: `dump-config` lists them as not in effect.
    public private(set) var ignored: [IgnoredStatement] = []

    /// Warns about a statement that has no effect and records it as ignored.
    mutating func ignore(_ statement: Statement, _ message: String, reason: String) {
        warning(statement.location, message)
        ignored.append(IgnoredStatement(keyword: statement.keyword.text, location: statement.location, reason: reason))
    }

    mutating func error(_ at: SourceLocation, _ message: String) { diagnostics.error(at, message) }
    mutating func warning(_ at: SourceLocation, _ message: String) { diagnostics.warning(at, message) }
}

/// Address syntax checks through the C library, so they agree with what the kernel takes.
enum IPText {
    static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }
    static func isIPv6(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, text, &address) == 1
    }
}

extension Double {
    var formatted: String { self == rounded() ? String(Int(self)) : String(self) }
}

/// keepalived's `install_keyword`: for one kind of block, what each keyword does. Every
/// name here has a fate (`KeywordFate`) that `KeywordRegistry` lists: implemented
/// (`value`, `block`), or accepted and warned (`ignore`). A name with neither is unknown:
/// a warning with a "did you mean", as keepalived logs and goes on, so a keyword from a
/// newer keepalived never keeps a node from starting (`check-config --strict` makes it
/// an error).
struct Schema<Model>: Sendable {
    enum Shape: Sendable { case value, block, valueOrBlock }
    struct Keyword: Sendable {
        var shape: Shape
        var apply: @Sendable (inout Model, Statement, inout ValueReader) -> Void
    }

    let context: String
    var keywords: [String: Keyword] = [:]
    /// keepalived keywords ignored with a warning, with what to know about each.
    var unsupported: [String: String] = [:]
    /// For an implemented keyword whose behaviour needs a word in the registry (for
    /// example one that is always on in Overcast).
    var notes: [String: String] = [:]
    /// keepalived keywords that exist only inside an ignored block: they share its fate.
    var nested: [String: [String]] = [:]
    /// Handles a statement no keyword matched; returns false to report it as unknown.
    var fallback: (@Sendable (inout Model, Statement, inout ValueReader) -> Bool)?

    init(_ context: String) { self.context = context }

    mutating func value(_ names: String..., apply: @escaping @Sendable (inout Model, Statement, inout ValueReader) -> Void) {
        for name in names { keywords[name] = Keyword(shape: .value, apply: apply) }
    }

    mutating func block(_ names: String..., apply: @escaping @Sendable (inout Model, Statement, inout ValueReader) -> Void) {
        for name in names { keywords[name] = Keyword(shape: .block, apply: apply) }
    }

    mutating func ignore(_ names: [String], _ note: String, containing inner: [String] = []) {
        for name in names {
            unsupported[name] = note
            if !inner.isEmpty { nested[name] = inner }
        }
    }

    mutating func note(_ name: String, _ text: String) { notes[name] = text }

    /// The fate of every name this block knows, for the registry.
    var entries: [KeywordEntry] {
        keywords.keys.map { KeywordEntry(keyword: $0, block: context, fate: .implemented(notes[$0])) }
            + unsupported.map { KeywordEntry(keyword: $0.key, block: context, fate: .ignored($0.value)) }
            + nested.flatMap { block, inner in
                inner.map { KeywordEntry(keyword: $0, block: "\(block) (in \(context))", fate: .ignoredWithBlock(block)) }
            }
    }

    func apply(_ statements: [Statement], to model: inout Model, _ reader: inout ValueReader) {
        for statement in statements {
            let name = statement.keyword.text
            if let keyword = keywords[name] {
                switch (keyword.shape, statement.block) {
                case (.block, nil):
                    reader.error(statement.location, "'\(name)' needs a { } block")
                    continue
                case (.value, .some):
                    reader.error(statement.location, "'\(name)' takes no { } block")
                    continue
                default:
                    keyword.apply(&model, statement, &reader)
                }
            } else if let fallback, fallback(&model, statement, &reader) {
                continue
            } else if let note = unsupported[name] {
                reader.ignore(statement, "keepalived keyword '\(name)' is not supported by Overcast; ignored (\(note))", reason: note)
            } else {
                var message = "unknown keyword '\(name)' in \(context); ignored"
                if let suggestion = suggestion(for: name) { message += "; did you mean '\(suggestion)'?" }
                reader.ignore(statement, message, reason: "unknown keyword")
            }
        }
    }

    private func suggestion(for word: String) -> String? {
        let candidates = Array(keywords.keys) + Array(unsupported.keys)
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }),
              best.1 <= max(2, word.count / 4) else { return nil }
        return best.0
    }
}

/// Levenshtein distance, for "did you mean" suggestions (short words only).
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.prefix(64)), b = Array(b.prefix(64))
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
