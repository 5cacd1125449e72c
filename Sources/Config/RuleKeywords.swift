import NetworkTypes

/// `virtual_rules` and `static_rules` lines (see RoutingKeywords for the shared readers).
extension RoutingKeywords {
    static func rules(_ st: Statement, _ r: inout ValueReader) -> [VirtualRule] {
        (st.block ?? []).compactMap { rule($0, &r) }
    }

    /// `[from ADDR[/LEN]] [to ADDR[/LEN]] [iif IF] [oif IF] [fwmark N[/MASK]] [tos N]
    /// [priority|preference|pref N] [protocol P] [table T | goto N | blackhole | unreachable |
    /// prohibit] [no_track]`.
    static func rule(_ line: Statement, _ r: inout ValueReader) -> VirtualRule? {
        if line.block != nil { r.error(line.location, "a rule takes no { } block") }
        let text = line.words.map(\.text).joined(separator: " ")
        var rule = PolicyRule()
        var noTrack = false
        var action: PolicyRule.Action?
        var givenProtocol: (number: UInt8, token: Token)?
        var failed = false
        func fail(_ at: SourceLocation, _ message: String) {
            r.error(at, message)
            failed = true
        }
        var words = line.words.makeIterator()
        while let word = words.next() {
            func value() -> Token? {
                guard let next = words.next() else {
                    fail(word.location, "rule option '\(word.text)' needs a value")
                    return nil
                }
                return next
            }
            func setAction(_ new: PolicyRule.Action) {
                if action != nil { fail(word.location, "rule has a second action '\(word.text)'") } else { action = new }
            }
            switch word.text {
            case "from":
                guard let token = value() else { continue }
                if token.text == "all" { continue }
                rule.from = network(token, what: "rule from", &r)
                if rule.from == nil { failed = true }
            case "to":
                guard let token = value() else { continue }
                if token.text == "all" { continue }
                rule.to = network(token, what: "rule to", &r)
                if rule.to == nil { failed = true }
            case "iif", "dev": rule.inputInterface = value()?.text
            case "oif": rule.outputInterface = value()?.text
            case "fwmark":
                guard let token = value() else { continue }
                let parts = token.text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                guard let mark = number(parts[0]), parts.count == 1 || number(parts[1]) != nil else {
                    fail(token.location, "rule fwmark: '\(token.text)' is not N or N/MASK (decimal or 0x hex)"); continue
                }
                rule.fwmark = mark
                rule.fwmask = parts.count == 2 ? number(parts[1]) : nil
            case "priority", "preference", "pref", "order":
                guard let token = value() else { continue }
                guard let priority = UInt32(token.text) else {
                    fail(token.location, "rule \(word.text): '\(token.text)' is not a number 0-4294967295"); continue
                }
                rule.priority = priority
            case "table", "lookup":
                guard let token = value() else { continue }
                if let table = table(token, &r) { setAction(.table(table)) } else { failed = true }
            case "goto":
                guard let token = value() else { continue }
                guard let target = UInt32(token.text) else { fail(token.location, "rule goto: '\(token.text)' is not a rule priority"); continue }
                setAction(.goto(target))
            case "blackhole": setAction(.blackhole)
            case "unreachable": setAction(.unreachable)
            case "prohibit": setAction(.prohibit)
            case "no_track": noTrack = true
            case "inet": break
            case "track_group":
                _ = value()
                r.warning(word.location, "rule option 'track_group' is not supported by Overcast (no instance tracks this rule); ignored")
            case "protocol", "proto":
                guard let token = value() else { continue }
                guard let number = RoutingNames.routeProtocol(token.text) else {
                    fail(token.location, "rule \(word.text): '\(token.text)' is not a protocol name or 0-255"); continue
                }
                givenProtocol = (number, token)
            case "tos", "dsfield":
                guard let token = value() else { continue }
                guard let tos = tos(token, &r) else { failed = true; continue }
                rule.tos = tos
            case "realms":
                _ = value()
                r.warning(word.location, "rule option '\(word.text)' is not supported by Overcast; ignored (the rule is added without it)")
            default:
                fail(word.location, ["not", "inet6", "uidrange", "ip_proto", "sport", "dport", "l3mdev", "nat", "map-to", "tun_id",
                                     "suppress_prefixlength", "suppress_ifgroup"]
                    .contains(word.text) ? "rule option '\(word.text)' is not supported by Overcast" : "unknown rule option '\(word.text)'")
                return nil  // what follows cannot be read with any certainty
            }
        }
        guard !failed else { return nil }
        // `ip rule add` without an action looks up the main table.
        rule.action = action ?? .table(254)
        rule.protocolNumber = protocolNumber(givenProtocol, noTrack: noTrack, what: "rule", &r)
        var result = VirtualRule(rule: rule, text: text, location: line.location)
        result.noTrack = noTrack
        return result
    }

    /// keepalived gives a rule without a priority the next one down from 16384, in the
    /// order the rules are read, and warns: without one, the order rules are added in
    /// (MASTER transitions) would decide their order.
    static func assignPriorities(_ rules: inout [VirtualRule], in config: OvercastConfiguration, _ r: inout ValueReader) {
        var used = (config.staticRules + config.instances.flatMap(\.virtualRules)).count { $0.assignedPriority }
        for index in rules.indices where rules[index].rule.priority == nil {
            let priority = UInt32(max(0, 16384 - used))
            used += 1
            rules[index].rule.priority = priority
            rules[index].assignedPriority = true
            r.warning(rules[index].location, "rule has no priority; set to \(priority), as keepalived does (give each rule its own priority)")
        }
    }
}
