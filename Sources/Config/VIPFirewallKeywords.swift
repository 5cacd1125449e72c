/// The global keywords of keepalived's nftables table, which drops the VIP traffic of a
/// MASTER whose Accept Mode is off (docs/accept-mode.md).
enum VIPFirewallKeywords {
    static func install(_ s: inout Schema<GlobalDefs>) {
        s.value("nftables") { g, st, r in
            guard let args = r.arguments(st, 0...1) else { return }
            guard let name = args.first else { return }
            // The name goes into nft's command text: only nft's plain identifiers.
            if isTableName(name.text) {
                g.vipFirewall.table = name.text
            } else {
                r.error(name.location, "nftables: '\(name.text)' is not a table name (a letter, then letters, digits or _, at most 64)")
            }
        }
        s.note("nftables", "the table that drops a non-accepting MASTER's VIP traffic; IPv4 (family ip) only")
        s.value("nftables_priority") { g, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            if let priority = Int32(token.text) { g.vipFirewall.priority = priority } else {
                r.error(token.location, "nftables_priority: '\(token.text)' is not a chain priority (a 32-bit integer)")
            }
        }
        s.value("nftables_counters") { g, st, r in g.vipFirewall.counters = r.flag(st) }
        s.ignore(["nftables_ifindex"], "it chooses how IPv6 link-local VIPs are matched, and Overcast has no IPv6 VIPs yet")
        s.ignore(["vrrp_iptables", "vrrp_ipsets"],
                 "Overcast drops a non-accepting MASTER's VIP traffic with nftables (table keepalived), never iptables/ipset; "
                 + "replace these with `nftables` (and `nftables_priority` to place its chains)")
    }

    /// nft's identifiers as keepalived's table names use them; nothing that nft's
    /// command language could read as more than a name.
    static func isTableName(_ text: String) -> Bool {
        func isLetter(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("A"..."Z").contains(c) }
        guard let first = text.unicodeScalars.first, isLetter(first), text.utf8.count <= 64 else { return false }
        return text.unicodeScalars.allSatisfy { isLetter($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
