import NetworkTypes

/// A human-readable form of the effective configuration for `dump-config` without
/// `--json`: one line per fact, defaults included.
public enum ConfigurationSummary {
    public static func text(_ c: OvercastConfiguration) -> String {
        var lines: [String] = []
        let g = c.globalDefs
        lines.append("global_defs: router_id \(g.routerID ?? "-") vrrp_version \(g.vrrpVersion) script_security \(g.enableScriptSecurity ? "on" : "off")"
                     + (g.metricsListen.map { " metrics \($0)" } ?? ""))
        for i in c.instances {
            lines.append("vrrp_instance \(i.name): vrid \(i.virtualRouterID.map(String.init) ?? "?") on \(i.interface ?? "?"), "
                         + "VRRPv\(i.version ?? g.vrrpVersion), priority \(i.priority), advert_int \(i.advertInt.formatted)s, "
                         + "state \(i.state.rawValue), \(i.nopreempt ? "nopreempt" : "preempt")"
                         + (i.preemptDelay > 0 ? " after \(i.preemptDelay.formatted)s" : ""))
            lines.append("  transport \(i.transport?.rawValue ?? "?")"
                         + (i.unicastPeers.isEmpty ? "" : " peers \(i.unicastPeers.map(\.description).joined(separator: ",")) from \(i.unicastSrcIP?.description ?? "the interface address") ttl \(i.unicastTTL)")
                         + (i.transport == .replicate ? " mode \(i.replicateMode.rawValue)" : ""))
            lines.append("  auth \(i.authType?.rawValue ?? "none")")
            for vip in i.virtualIPAddresses {
                lines.append("  vip \(vip.address)/\(vip.prefixLength)" + (vip.device.map { " dev \($0)" } ?? "")
                             + (vip.label.map { " label \($0)" } ?? "") + (vip.scope.map { " scope \($0)" } ?? ""))
            }
            for vip in i.virtualIPAddressesExcluded {
                lines.append("  excluded vip \(vip.address)/\(vip.prefixLength) dev \(vip.device ?? i.interface ?? "?")")
            }
            lines += i.virtualRoutes.map { "  route \($0.effective)" } + i.virtualRules.map { "  rule \($0.rule)" }
            if i.promoteSecondaries { lines.append("  promote_secondaries on \(i.interface ?? "?")") }
            if i.noVirtualIPAddress { lines.append("  no_virtual_ipaddress: addresses are not added to interfaces") }
            for t in i.trackInterfaces { lines.append("  track_interface \(t.name) weight \(t.weight)" + (t.reverse ? " reverse" : "")) }
            for t in i.trackScripts {
                lines.append("  track_script \(t.name)" + (t.weight.map { " weight \($0)" } ?? "") + direction(t.reverse))
            }
            for t in i.trackFiles { lines.append("  track_file \(t.name)" + trackedFile(t, c)) }
            if let ec2 = i.ec2RouteFailover {
                lines.append("  ec2_route_failover \(ec2.routeTables.joined(separator: ",")) target \(ec2.target.rawValue) refresh \(ec2.refresh.formatted)s")
            }
        }
        for s in c.vrrpScripts {
            lines.append("vrrp_script \(s.name): \(s.script) every \(s.interval.formatted)s weight \(s.weight) rise \(s.rise) fall \(s.fall)")
        }
        for f in c.trackFiles {
            lines.append("track_file \(f.name): \(f.path) weight \(f.weight)\(f.reverse ? " reverse" : "")"
                         + (f.initialValue.map { " init_file \($0)\(f.initialOverwrite ? " overwrite" : "")" } ?? ""))
        }
        for g in c.syncGroups {
            lines.append("vrrp_sync_group \(g.name): \(g.group.joined(separator: ", "))")
            for t in g.trackFiles { lines.append("  track_file \(t.name)" + trackedFile(t, c)) }
        }
        for v in c.virtualServers {
            let key: String
            switch v.key {
            case .address(let a, let p): key = "\(a) \(p)"
            case .fwmark(let m): key = "fwmark \(m)"
            case .group(let n): key = "group \(n)"
            }
            lines.append("virtual_server \(key): \(v.protocolName) \(v.scheduler) \(v.forwardingMethod) delay_loop \(v.delayLoop.formatted)s quorum \(v.quorum)")
            for r in v.realServers {
                lines.append("  real_server \(r.address) \(r.port.map(String.init) ?? "-") weight \(r.weight) checks \(r.checkers.map(\.kind.rawValue).joined(separator: ","))")
                for t in r.fileChecks { lines.append("    FILE_CHECK track_file \(t.name)" + trackedFile(t, c)) }
            }
        }
        for a in c.staticAddresses {
            lines.append("static address \(a.address)/\(a.prefixLength) dev \(a.device ?? g.defaultInterface)")
        }
        lines += c.staticRoutes.map { "static route \($0.effective)" } + c.staticRules.map { "static rule \($0.rule)" }
        for o in c.overlays {
            lines.append("overlay \(o.name): local \(o.local?.description ?? "?") peers \(o.peers.map(\.description).joined(separator: ",")) address \(o.address ?? "?") mtu \(o.mtu.map(String.init) ?? "auto")")
        }
        return lines.joined(separator: "\n")
    }

    private static func direction(_ reverse: Bool?) -> String {
        reverse.map { $0 ? " reverse" : " noreverse" } ?? ""
    }

    /// A tracking line's weight and direction in effect (the block's unless the line sets them).
    private static func trackedFile(_ t: TrackedFile, _ c: OvercastConfiguration) -> String {
        guard let file = c.trackFiles.first(where: { $0.name == t.name }) else { return "" }
        let (weight, reverse) = t.resolved(file)
        return " weight \(weight)\(reverse ? " reverse" : "")"
    }
}
