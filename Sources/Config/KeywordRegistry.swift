/// Every keyword the reader knows, block by block, with its fate: the source of
/// docs/keywords.md (`overcast keywords --markdown`), which a test keeps equal to it.
public enum KeywordRegistry {
    /// Every block's entries, sorted by keyword then block.
    public static let entries: [KeywordEntry] = {
        let all = TopLevelKeywords.schema.entries + GlobalKeywords.schema.entries + VRRPScriptKeywords.schema.entries
            + SyncGroupKeywords.schema.entries + VRRPInstanceKeywords.schema.entries + AuthenticationKeywords.schema.entries
            + VirtualServerKeywords.schema.entries + VirtualServerKeywords.realServerSchema.entries
            + VirtualServerKeywords.checkerSchema.entries + VirtualServerKeywords.urlSchema.entries
            + VirtualServerKeywords.pingSchema.entries + VirtualServerKeywords.udpSchema.entries
            + VirtualServerKeywords.dnsSchema.entries + VirtualServerKeywords.smtpSchema.entries
            + VirtualServerKeywords.smtpHostSchema.entries
            + OverlayKeywords.schema.entries + EC2Keywords.schema.entries + ParserKeywords.entries
        return all.sorted { ($0.keyword, $0.block) < ($1.keyword, $1.block) }
    }()

    /// The fates of `keyword` in every block that knows it.
    public static func fates(of keyword: String) -> [KeywordEntry] { entries.filter { $0.keyword == keyword } }

    /// Keywords of a keepalived release that have no fate here (the registry's test wants none).
    public static func missing(from keepalived: [String]) -> [String] {
        let known = Set(entries.map(\.keyword))
        return keepalived.filter { !known.contains($0) }
    }
}

/// Words the reader itself handles before any block sees them.
enum ParserKeywords {
    static let entries = [
        KeywordEntry(keyword: "include", block: "any block", fate: .implemented("files and globs, relative to the including file")),
    ]
}
