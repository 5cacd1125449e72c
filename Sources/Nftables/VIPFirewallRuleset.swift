import NetworkTypes

/// The nftables table keepalived builds when an instance's Accept Mode is off
/// (`no_accept`, or strict mode by default), as nft commands: a set `vips`, an input
/// chain that drops what is addressed to a VIP and an output chain that drops what is
/// sourced from one, both filter chains at `priority` (keepalived's -1: before the usual
/// filter chains at 0) with policy accept. A MASTER puts its VIPs into the set while it
/// holds them. Advertisements pass: they go to 224.0.0.18 or a peer, from the primary
/// address, never to or from a VIP.
///
/// Family `ip` (IPv4) as keepalived's own IPv4 table; Overcast has no IPv6 VIPs yet, so
/// keepalived's `ip6` table (with its neighbour-discovery exception and link-local sets)
/// is not built. Pure: the daemon runs the text through `NftablesContext`.
public struct VIPFirewallRuleset: Sendable, Equatable {
    public var table: String
    public var priority: Int32
    /// `nftables_counters`: each drop rule counts what it dropped.
    public var counters: Bool

    public init(table: String, priority: Int32 = -1, counters: Bool = false) {
        self.table = table
        self.priority = priority
        self.counters = counters
    }

    /// Replaces whatever table of that name is there (a crashed daemon's residue) with a
    /// fresh one and an empty set, in one transaction. `add` then `delete` removes the
    /// table whether or not it existed (a bare delete fails when it does not).
    public var installCommands: String {
        let verdict = counters ? "counter drop" : "drop"
        return """
            add table ip \(table)
            delete table ip \(table)
            add table ip \(table)
            add chain ip \(table) in { type filter hook input priority \(priority); policy accept; }
            add chain ip \(table) out { type filter hook output priority \(priority); policy accept; }
            add set ip \(table) vips { type ipv4_addr; }
            add rule ip \(table) in ip daddr @vips \(verdict)
            add rule ip \(table) out ip saddr @vips \(verdict)

            """
    }

    /// Removes the table (at stop), whether or not it is there.
    public var removeCommands: String {
        "add table ip \(table)\ndelete table ip \(table)\n"
    }

    /// Puts `addresses` into the set (nothing when empty: nft refuses `{ }`).
    public func addCommands(_ addresses: [IPv4Address]) -> String { elementCommand("add", addresses) }

    /// Takes `addresses` out of the set; each must be in it (nft refuses otherwise).
    public func deleteCommands(_ addresses: [IPv4Address]) -> String { elementCommand("delete", addresses) }

    /// The command that lists the set, for `elements(inListing:)`.
    public var listSetCommand: String { "list set ip \(table) vips\n" }

    private func elementCommand(_ verb: String, _ addresses: [IPv4Address]) -> String {
        var seen = Set<IPv4Address>()
        let unique = addresses.filter { seen.insert($0).inserted }
        guard !unique.isEmpty else { return "" }
        return "\(verb) element ip \(table) vips { \(unique.map(\.description).joined(separator: ", ")) }\n"
    }

    /// The addresses of `list set`'s output (`elements = { 192.0.2.1, 192.0.2.2 }`,
    /// possibly over several lines); empty when the set has none.
    public static func elements(inListing listing: String) -> [IPv4Address] {
        guard let start = listing.range(of: "elements = {") else { return [] }
        let rest = listing[start.upperBound...]
        let body = rest.prefix { $0 != "}" }
        return body.split(whereSeparator: { $0 == "," || $0.isWhitespace }).compactMap { IPv4Address(String($0)) }
    }
}
