import Config

/// Where each keyword of one node's file stands, so a finding can point at the line
/// that says `priority 100` rather than only at the `vrrp_instance` block. The typed
/// model keeps a location per block and per address; this index, built from the same
/// statements Config read (includes followed, `@ID` lines resolved), keeps one per
/// keyword.
///
/// A keyword is found by its path of enclosing blocks. A block that has a name
/// (`vrrp_instance VI_1`, `vrrp_sync_group G`, `overlay ovc0`) is written with its name;
/// a line inside a list block (`unicast_peer { 10.0.0.2 }`) is found by its first word.
/// When a keyword is written twice the last one is kept, since keepalived's last value
/// wins.
public struct KeywordLocations: Sendable {
    private var byPath: [[String]: SourceLocation] = [:]

    public init(_ statements: [Statement]) {
        index(statements, under: [])
    }

    /// The location of `keywords` inside `vrrp_instance NAME`, nil when not written.
    public func instance(_ name: String, _ keywords: String...) -> SourceLocation? {
        instance(name, path: keywords)
    }

    public func instance(_ name: String, path keywords: [String]) -> SourceLocation? {
        byPath[["vrrp_instance \(name)"] + keywords]
    }

    public func syncGroup(_ name: String, _ keywords: String...) -> SourceLocation? {
        byPath[["vrrp_sync_group \(name)"] + keywords]
    }

    public func overlay(_ name: String, _ keywords: String...) -> SourceLocation? {
        byPath[["overlay \(name)"] + keywords]
    }

    public func globalDefs(_ keyword: String) -> SourceLocation? {
        byPath[["global_defs", keyword]]
    }

    private mutating func index(_ statements: [Statement], under path: [String]) {
        for statement in statements {
            guard let keyword = statement.words.first else { continue }
            var component = keyword.text
            if statement.block != nil, let name = statement.words.dropFirst().first {
                component += " " + name.text
            }
            let here = path + [component]
            byPath[here] = statement.location
            if let block = statement.block { index(block, under: here) }
        }
    }
}
