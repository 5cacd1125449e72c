/// Where a token came from: file, line and column, all 1-based, as compilers print them.
/// Text that a `$NAME` put on a line points where the definition wrote it, and
/// `expansion` says through which use (`$NAME at FILE:LINE:COL`).
public struct SourceLocation: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int
    public var expansion: String?
    public init(file: String, line: Int, column: Int, expansion: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.expansion = expansion
    }
    public var description: String { "\(file):\(line):\(column)" }
    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// One problem found in a configuration, printed as `FILE:LINE:COL: error: message`
/// (the form `keepalived -t` users and editors understand).
public struct Diagnostic: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Severity: String, Sendable, Codable { case error, warning }
    public var severity: Severity
    public var location: SourceLocation
    public var message: String

    public init(_ severity: Severity, _ location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    public var description: String {
        "\(location): \(severity.rawValue): \(message)" + (location.expansion.map { " (through \($0))" } ?? "")
    }
}

/// Collects diagnostics; readers never stop at the first problem.
public struct Diagnostics: Sendable {
    public private(set) var all: [Diagnostic] = []
    public init() {}
    public mutating func error(_ at: SourceLocation, _ message: String) { all.append(Diagnostic(.error, at, message)) }
    public mutating func warning(_ at: SourceLocation, _ message: String) { all.append(Diagnostic(.warning, at, message)) }
    public mutating func append(contentsOf other: [Diagnostic]) { all.append(contentsOf: other) }
    public var errors: [Diagnostic] { all.filter { $0.severity == .error } }
    public var warnings: [Diagnostic] { all.filter { $0.severity == .warning } }
    public var hasErrors: Bool { all.contains { $0.severity == .error } }
}
