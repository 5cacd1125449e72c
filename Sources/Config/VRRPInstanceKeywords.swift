import NetworkTypes

/// `vrrp_instance NAME { ... }`.
enum VRRPInstanceKeywords {
    static let schema: Schema<VRRPInstance> = {
        var s = Schema<VRRPInstance>("vrrp_instance")
        s.value("state") { i, st, r in
            i.keywordLocations["state"] = st.location
            if let state = r.choice(st, ["MASTER", "BACKUP"]) { i.state = VRRPInstance.InitialState(rawValue: state) ?? .backup }
        }
        s.value("interface") { i, st, r in i.interface = r.string(st) }
        s.value("virtual_router_id") { i, st, r in i.virtualRouterID = r.int(st, 1...255) }
        s.value("priority") { i, st, r in i.priority = r.int(st, 1...255) ?? i.priority }
        s.value("advert_int") { i, st, r in i.advertInt = r.seconds(st, 0.01...255) ?? i.advertInt }
        s.value("version") { i, st, r in i.version = r.int(st, 2...3) }
        s.value("nopreempt") { i, st, r in i.nopreempt = r.flag(st) }
        s.value("preempt") { i, st, r in i.nopreempt = !r.flag(st) }
        s.value("preempt_delay") { i, st, r in
            i.preemptDelay = r.seconds(st, 0...1000) ?? 0
            i.keywordLocations["preempt_delay"] = st.location
        }
        s.block("authentication") { i, st, r in
            i.keywordLocations["authentication"] = st.location
            AuthenticationKeywords.schema.apply(st.block ?? [], to: &i, &r)
        }
        s.block("virtual_ipaddress") { i, st, r in i.virtualIPAddresses += (st.block ?? []).compactMap { vip($0, &r) } }
        s.block("virtual_ipaddress_excluded") { i, st, r in
            i.virtualIPAddressesExcluded += (st.block ?? []).compactMap { vip($0, &r) }
        }
        s.block("virtual_routes") { i, st, r in i.virtualRoutes += RoutingKeywords.routes(st, &r) }
        s.block("virtual_rules") { i, st, r in i.virtualRules += RoutingKeywords.rules(st, &r) }
        s.value("promote_secondaries") { i, st, r in i.promoteSecondaries = r.flag(st) }
        s.value("unicast_src_ip") { i, st, r in
            if let token = r.arguments(st, 1...1)?[0] { i.unicastSrcIP = r.ipv4(token, what: "unicast_src_ip") }
        }
        s.block("unicast_peer") { i, st, r in
            i.keywordLocations["unicast_peer"] = st.location
            for line in st.block ?? [] {
                if line.block != nil { r.error(line.location, "a peer takes no { } block") }
                guard let address = r.ipv4(line.keyword, what: "unicast_peer") else { continue }
                i.unicastPeers.append(address)
                var rest = line.arguments.makeIterator()
                while let option = rest.next() {
                    if ["min_ttl", "max_ttl"].contains(option.text) {
                        _ = rest.next()
                        r.warning(option.location, "unicast_peer option '\(option.text)' is not supported by Overcast; ignored")
                    } else {
                        r.error(option.location, "unknown unicast_peer option '\(option.text)'")
                    }
                }
            }
        }
        s.value("unicast_ttl") { i, st, r in i.unicastTTL = r.int(st, 1...255) ?? i.unicastTTL }
        s.value("mcast_src_ip") { i, st, r in
            if let token = r.arguments(st, 1...1)?[0] { i.mcastSrcIP = r.ipv4(token, what: "mcast_src_ip") }
        }
        s.block("track_interface") { i, st, r in i.trackInterfaces += TrackKeywords.interfaces(st, &r) }
        s.block("track_script") { i, st, r in i.trackScripts += TrackKeywords.lines(st, &r) }
        s.block("track_file") { i, st, r in i.trackFiles += TrackKeywords.lines(st, &r) }
        s.value("garp_master_delay") { i, st, r in i.garpMasterDelay = r.seconds(st, 0...255) }
        s.value("garp_master_repeat") { i, st, r in i.garpMasterRepeat = r.int(st, 1...255) }
        s.value("garp_master_refresh") { i, st, r in i.garpMasterRefresh = r.seconds(st, 0...86400) }
        s.value("garp_master_refresh_repeat") { i, st, r in i.garpMasterRefreshRepeat = r.int(st, 1...255) }
        NotifyKeywords.install(&s, \.notify)
        s.value("accept") { i, st, r in
            i.accept = r.flag(st)
            i.keywordLocations["accept"] = st.location
        }
        s.value("no_accept") { i, st, r in
            _ = r.arguments(st, 0...0)
            i.accept = false
            i.keywordLocations["accept"] = st.location
        }
        s.note("no_accept", "a MASTER that is not the address owner drops traffic to and from its VIPs (nftables; docs/accept-mode.md)")
        s.value("strict_mode") { i, st, r in
            i.strictMode = r.flag(st)
            i.keywordLocations["strict_mode"] = st.location
        }
        s.note("strict_mode", "keepalived's strict checks and resets (docs/accept-mode.md); receive checks are the RFC's always")
        s.value("skip_check_adv_addr") { _, st, r in _ = r.flag(st) }
        s.note("skip_check_adv_addr", "always in effect: an advertisement is never dropped for its address list")
        s.value("check_unicast_src") { _, st, r in _ = r.flag(st) }
        s.note("check_unicast_src", "always in effect: a unicast advertisement from a source not in unicast_peer is dropped")
        s.value("no_virtual_ipaddress") { i, st, r in
            i.noVirtualIPAddress = r.flag(st)
            i.keywordLocations["no_virtual_ipaddress"] = st.location
        }
        s.value("dont_track_primary") { i, st, r in i.dontTrackPrimary = r.flag(st) }
        // Overcast's own keywords.
        s.value("transport") { i, st, r in
            if let kind = r.choice(st, TransportKind.allCases.map(\.rawValue)) { i.transport = TransportKind(rawValue: kind) }
        }
        s.value("replicate_mode") { i, st, r in
            if let mode = r.choice(st, ["l2", "l3"]) { i.replicateMode = ReplicateMode(rawValue: mode) ?? .l2 }
        }
        s.block("ec2_route_failover") { i, st, r in
            var ec2 = EC2RouteFailover(location: st.location)
            EC2Keywords.schema.apply(st.block ?? [], to: &ec2, &r)
            if ec2.routeTables.isEmpty { r.error(st.location, "ec2_route_failover needs at least one route_table") }
            i.ec2RouteFailover = ec2
        }
        s.value("smtp_alert") { i, st, r in i.smtpAlert = r.flag(st) }
        s.ignore(["use_vmac", "vmac_xmit_base", "native_ipv6", "use_vmac_addr", "vmac_garp_intvl", "use_ipvlan"],
                 "VMAC interfaces do not exist on cloud networks")
        s.ignore(["vrf"], "run Overcast in the VRF's context (ip vrf exec) instead")
        s.ignore(["mcast_dst_ip"], "the multicast transport uses 224.0.0.18 (RFC 5798); other groups are not supported")
        s.value("old_unicast_checksum") { i, st, r in
            guard let args = r.arguments(st, 0...1) else { return }
            if let word = args.first {
                if word.text == "never" { i.unicastChecksum = .currentOnly } else {
                    r.error(word.location, "old_unicast_checksum: '\(word.text)' is not 'never'")
                }
            } else {
                i.unicastChecksum = .old
            }
        }
        s.value("track_src_ip") { i, st, r in i.trackSrcIP = r.flag(st) }
        s.ignore(["v3_checksum_as_v2", "owner_ignore_adverts", "thread_timer_expired",
                  "timer_expired_backup", "garp_extra_if"], "a keepalived option with no Overcast equivalent yet")
        s.ignore(["lvs_sync_daemon_interface"], "IPVS connection sync")
        s.ignore(["unicast_fault_no_peer", "debug",
                  "garp_lower_prio_delay", "garp_lower_prio_repeat", "lower_prio_no_advert", "higher_prio_send_advert",
                  "kernel_rx_buf_size", "linkbeat_use_polling", "down_timer_adverts",
                  "mcast_src_ip6", "unicast_src_ip6"], "a keepalived tuning knob with no Overcast equivalent")
        s.ignore(["track_process", "track_bfd"], "only track_interface, track_script and track_file are supported")
        return s
    }()

    /// One `virtual_ipaddress` line: `ADDR[/LEN] [brd ADDR] [dev IF] [scope S] [label L] ...`.
    static func vip(_ line: Statement, _ r: inout ValueReader) -> VirtualAddress? {
        if line.block != nil { r.error(line.location, "an address takes no { } block") }
        let first = line.keyword
        let parts = first.text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let addressText = parts.first else { return nil }
        if IPText.isIPv6(addressText) {
            r.warning(first.location, "IPv6 virtual address \(first.text) is not supported by Overcast yet; ignored")
            return nil
        }
        guard let address = IPv4Address(addressText) else {
            r.error(first.location, "virtual_ipaddress: '\(first.text)' is not an IPv4 address")
            return nil
        }
        var vip = VirtualAddress(address: address, prefixLength: 32, location: first.location)
        if parts.count == 2 {
            guard let length = r.int(Token(kind: .word, text: parts[1], location: first.location), 0...32, what: "prefix length")
            else { return nil }
            vip.prefixLength = length
        }
        var words = line.arguments.makeIterator()
        while let option = words.next() {
            func value() -> Token? {
                let next = words.next()
                if next == nil { r.error(option.location, "'\(option.text)' needs a value") }
                return next
            }
            switch option.text {
            case "dev": vip.device = value()?.text
            case "label": vip.label = value()?.text
            case "scope":
                guard let scope = value() else { break }
                if ["global", "site", "link", "host", "nowhere"].contains(scope.text) || UInt8(scope.text) != nil {
                    vip.scope = scope.text
                } else {
                    r.error(scope.location, "scope '\(scope.text)' is not global, site, link, host, nowhere or 0-255")
                }
            case "brd", "broadcast":
                guard let brd = value() else { break }
                vip.broadcast = r.ipv4(brd, what: "brd")
            case "-nodad", "nodad":
                // keepalived passes IFA_F_NODAD; the kernel honours it for IPv6 only (`ip` says
                // "nodad option can be set only for IPv6 addresses"), and these are IPv4.
                r.warning(option.location, "'\(option.text)' has no effect on an IPv4 address (the kernel runs duplicate address detection for IPv6 only); ignored")
            case "peer", "track_group":
                _ = value()
                r.warning(option.location, "virtual_ipaddress option '\(option.text)' is not supported by Overcast; ignored")
            case "no_track": vip.noTrack = true
            case "home", "noprefixroute", "autojoin":
                r.warning(option.location, "virtual_ipaddress option '\(option.text)' is not supported by Overcast; ignored")
            default:
                r.error(option.location, "unknown virtual_ipaddress option '\(option.text)'")
            }
        }
        return vip
    }
}

enum AuthenticationKeywords {
    static let schema: Schema<VRRPInstance> = {
        var s = Schema<VRRPInstance>("authentication")
        s.value("auth_type") { i, st, r in
            guard let type = r.choice(st, ["PASS", "AH", "HMAC_SHA256"]) else { return }
            if type == "AH" {
                r.warning(st.location, "auth_type AH is not supported by Overcast (removed from VRRP by RFC 3768); no authentication is used")
            } else {
                i.authType = AuthenticationKind(rawValue: type)
            }
        }
        s.value("auth_pass") { i, st, r in
            guard let pass = r.string(st) else { return }
            if pass.utf8.count > 8 {
                r.warning(st.location, "auth_pass is longer than 8 characters; only the first 8 are used (as keepalived does)")
            }
            i.authPass = String(decoding: pass.utf8.prefix(8), as: UTF8.self)
        }
        // Overcast's own: auth_type HMAC_SHA256 (see HMACAuthenticator, docs/hmac-trailer.md).
        s.value("auth_key_file") { i, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            let path = AuthKeyFile.resolve(token.text, relativeTo: token.location.file)
            if r.verifiesAuthKeyFiles {
                do {
                    _ = try AuthKeyFile.read(path)
                } catch {
                    r.error(token.location, "\(error)")
                    return
                }
            }
            i.authKeyFile = path
        }
        s.value("auth_replay_window") { i, st, r in i.authReplayWindow = r.seconds(st, 1...3600) ?? i.authReplayWindow }
        return s
    }()
}
