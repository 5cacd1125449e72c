import CNetlink
import NetworkTypes
#if canImport(Glibc)
import Glibc
#endif

/// IPv4 policy-routing rules (`ip rule`) through libnl-route's rule objects: what
/// `virtual_rules` and `static_rules` add and remove. The rule is NetworkTypes'
/// `PolicyRule`, so one read back compares equal to the one configured.
extension NetlinkSocket {
    /// Adds a rule (RTM_NEWRULE, NLM_F_EXCL). One already there is not an error.
    public func addRule(_ rule: PolicyRule) throws(NetlinkError) {
        let rc = withRuleObject(rule) { handle, object in rtnl_rule_add(handle, object, Int32(NLM_F_EXCL)) }
        if rc < 0 && rc != -Int32(NLE_EXIST) { throw NetlinkError(code: rc, operation: "adding the rule \(rule)") }
    }

    /// Removes a rule (RTM_DELRULE; the kernel removes the first rule matching every
    /// attribute given); one already gone is not an error.
    public func removeRule(_ rule: PolicyRule) throws(NetlinkError) {
        let rc = withRuleObject(rule) { handle, object in rtnl_rule_delete(handle, object, 0) }
        if rc < 0 && rc != -Int32(NLE_OBJ_NOTFOUND) && rc != -Int32(NLE_NOADDR) {
            throw NetlinkError(code: rc, operation: "removing the rule \(rule)")
        }
    }

    /// The IPv4 rules of the namespace, in priority order, with the kernel's priorities.
    /// Rules with an action PolicyRule has no word for (nop, ...) are left out.
    public func rules() throws(NetlinkError) -> [PolicyRule] {
        var cache: OpaquePointer?
        let rc = rtnl_rule_alloc_cache(handle, AF_INET, &cache)
        guard rc == 0, let cache else { throw NetlinkError(code: rc, operation: "reading rules") }
        defer { nl_cache_free(cache) }
        var result: [PolicyRule] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            object = nl_cache_get_next(current)
            guard rtnl_rule_get_family(current) == AF_INET else { continue }
            let action: PolicyRule.Action
            switch rtnl_rule_get_action(current) {
            case 1: action = .table(rtnl_rule_get_table(current))
            case 2: action = .goto(rtnl_rule_get_goto(current))
            case 6: action = .blackhole
            case 7: action = .unreachable
            case 8: action = .prohibit
            default: continue
            }
            var rule = PolicyRule(priority: rtnl_rule_get_prio(current), action: action)
            let tos = rtnl_rule_get_dsfield(current)
            rule.tos = tos == 0 ? nil : tos
            var protocolNumber: UInt8 = 0
            if rtnl_rule_get_protocol(current, &protocolNumber) == 0 && protocolNumber != 0 { rule.protocolNumber = protocolNumber }
            rule.from = rtnl_rule_get_src(current).flatMap(Self.network)
            rule.to = rtnl_rule_get_dst(current).flatMap(Self.network)
            rule.inputInterface = rtnl_rule_get_iif(current).map { String(cString: $0) }
            rule.outputInterface = rtnl_rule_get_oif(current).map { String(cString: $0) }
            // libnl reports an absent FRA_FWMARK as 0 with mask 0 (or all ones); a rule
            // written `fwmark 0` is not one Overcast writes.
            let mark = rtnl_rule_get_mark(current), mask = rtnl_rule_get_mask(current)
            if mark != 0 && mark != UInt32.max {
                rule.fwmark = mark
                rule.fwmask = mask == UInt32.max ? nil : mask
            }
            result.append(rule)
        }
        return result.sorted { ($0.priority ?? 0) < ($1.priority ?? 0) }
    }

    private func withRuleObject(_ rule: PolicyRule, _ body: (OpaquePointer, OpaquePointer) -> Int32) -> Int32 {
        guard let object = rtnl_rule_alloc() else { return -Int32(NLE_NOMEM) }
        defer { rtnl_rule_put(object) }
        rtnl_rule_set_family(object, AF_INET)
        if let priority = rule.priority { rtnl_rule_set_prio(object, priority) }
        if let mark = rule.fwmark { rtnl_rule_set_mark(object, mark) }
        if let mask = rule.fwmask { rtnl_rule_set_mask(object, mask) }
        if let tos = rule.tos { rtnl_rule_set_dsfield(object, tos) }
        var rc: Int32 = 0
        for (network, setter) in [(rule.from, rtnl_rule_set_src), (rule.to, rtnl_rule_set_dst)] {
            guard let network else { continue }
            guard let address = Self.nlAddress(network) else { return -Int32(NLE_NOMEM) }
            rc = setter(object, address)
            nl_addr_put(address)
            if rc < 0 { return rc }
        }
        if let name = rule.inputInterface {
            rc = rtnl_rule_set_iif(object, name)
            if rc < 0 { return rc }
        }
        if let name = rule.outputInterface {
            rc = rtnl_rule_set_oif(object, name)
            if rc < 0 { return rc }
        }
        if let protocolNumber = rule.protocolNumber {
            rc = rtnl_rule_set_protocol(object, protocolNumber)
            if rc < 0 { return rc }
        }
        rtnl_rule_set_action(object, rule.action.kernelValue)
        switch rule.action {
        case .table(let table): rtnl_rule_set_table(object, table)
        case .goto(let target): rtnl_rule_set_goto(object, target)
        case .blackhole, .unreachable, .prohibit: break
        }
        return body(handle, object)
    }
}
