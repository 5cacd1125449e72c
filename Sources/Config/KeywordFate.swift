/// What Overcast does with a keyword in one kind of block. Each keyword of keepalived
/// 2.2.7 and 2.3.4 has one (docs/keywords.md lists them), so that nothing in a
/// keepalived file is read and dropped without a word.
public enum KeywordFate: Hashable, Sendable {
    /// Acted on, with keepalived's meaning; the note says more where needed.
    case implemented(String?)
    /// Accepted with a warning that says why and what to use instead.
    case ignored(String)
    /// Inside a block that is ignored with a warning; it shares that block's fate.
    case ignoredWithBlock(String)

    public var isImplemented: Bool { if case .implemented = self { true } else { false } }
}

/// One keyword of one block and its fate: a row of the registry.
public struct KeywordEntry: Hashable, Sendable {
    public var keyword: String
    /// The block it is read in (`vrrp_instance`, `global_defs`, `the top level`, ...).
    public var block: String
    public var fate: KeywordFate
}

/// A statement read and not acted on (an ignored or unknown keyword): `dump-config`
/// shows it as not in effect.
public struct IgnoredStatement: Hashable, Sendable, Codable {
    public var keyword: String
    public var location: SourceLocation
    public var reason: String
}
