/// `virtual_server`, `virtual_server_group`, `real_server` and the checkers.
enum VirtualServerKeywords {
    static let schedulers = ["rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh"]
    static let forwardingMethods = ["NAT", "DR", "TUN"]

    static func isAddress(_ text: String) -> Bool { IPText.isIPv4(text) || IPText.isIPv6(text) }

    /// `virtual_server IP PORT`, `virtual_server fwmark N`, `virtual_server group NAME`.
    static func virtualServer(_ st: Statement, _ r: inout ValueReader) -> VirtualServer? {
        guard let args = r.arguments(st, 2...2) else { return nil }
        let key: VirtualServer.Key
        switch args[0].text {
        case "fwmark":
            guard let mark = r.int(args[1], 1...Int(UInt32.max), what: "fwmark") else { return nil }
            key = .fwmark(mark)
        case "group":
            key = .group(args[1].text)
        default:
            guard isAddress(args[0].text) else {
                r.error(args[0].location, "virtual_server: '\(args[0].text)' is not an address, 'fwmark' or 'group'")
                return nil
            }
            guard let port = r.int(args[1], 0...65535, what: "port") else { return nil }
            key = .address(args[0].text, port: port)
        }
        var server = VirtualServer(key: key, location: st.location)
        schema.apply(st.block ?? [], to: &server, &r)
        return server
    }

    static let schema: Schema<VirtualServer> = {
        var s = Schema<VirtualServer>("virtual_server")
        s.value("delay_loop") { v, st, r in v.delayLoop = r.seconds(st, 0.001...86400) ?? v.delayLoop }
        CheckerDefaults.install(&s, \.checkerDefaults, delayLoop: false)   // its delay_loop is the one above
        s.value("lb_algo", "lvs_sched") { v, st, r in v.scheduler = r.choice(st, schedulers) ?? v.scheduler }
        s.value("lb_kind", "lvs_method") { v, st, r in v.forwardingMethod = r.choice(st, forwardingMethods) ?? v.forwardingMethod }
        s.value("protocol") { v, st, r in v.protocolName = r.choice(st, ["TCP", "UDP", "SCTP"]) ?? v.protocolName }
        s.value("persistence_timeout") { v, st, r in v.persistenceTimeout = r.int(st, 1...Int(Int32.max)) }
        s.value("persistence_granularity") { v, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            if IPText.isIPv4(token.text) || (Int(token.text).map { (1...128).contains($0) } ?? false) {
                v.persistenceGranularity = token.text
            } else {
                r.error(token.location, "persistence_granularity: '\(token.text)' is not a netmask or prefix length")
            }
        }
        s.value("quorum") { v, st, r in v.quorum = r.int(st, 1...Int(Int32.max)) ?? v.quorum }
        s.value("hysteresis") { v, st, r in v.hysteresis = r.int(st, 0...Int(Int32.max)) ?? v.hysteresis }
        s.value("quorum_up") { v, st, r in v.quorumUp = r.command(st) }
        s.value("quorum_down") { v, st, r in v.quorumDown = r.command(st) }
        s.value("sorry_server") { v, st, r in v.sorryServer = server(st, &r) }
        s.value("virtualhost") { v, st, r in v.virtualhost = r.string(st) }
        s.value("alpha") { v, st, r in v.alpha = r.flag(st) }
        s.value("omega") { v, st, r in v.omega = r.flag(st) }
        s.value("ha_suspend") { v, st, r in v.haSuspend = r.flag(st) }
        s.value("smtp_alert") { v, st, r in v.smtpAlert = r.flag(st) }
        s.block("real_server") { v, st, r in
            guard var real = server(st, &r) else { return }
            realServerSchema.apply(st.block ?? [], to: &real, &r)
            v.realServers.append(real)
        }
        s.ignore(["ops", "one_packet_scheduler", "persistence_engine", "sorry_server_inhibit", "sorry_server_lvs_method",
                  "lvs_sync_daemon_interface",
                  "inhibit_on_failure", "ip_family", "mh-port", "mh-fallback", "flag-1", "flag-2", "flag-3", "sh-port",
                  "sh-fallback", "hashed"], "a keepalived option with no Overcast equivalent yet")
        s.ignore(["snmp_name"], "SNMP: Overcast has `overcast status` and metrics")
        return s
    }()

    /// `real_server|sorry_server ADDRESS [PORT]`.
    static func server(_ st: Statement, _ r: inout ValueReader) -> RealServer? {
        guard let args = r.arguments(st, 1...2) else { return nil }
        guard isAddress(args[0].text) else {
            r.error(args[0].location, "\(st.keyword.text): '\(args[0].text)' is not an address")
            return nil
        }
        let port = args.count > 1 ? r.int(args[1], 0...65535, what: "port") : nil
        return RealServer(address: args[0].text, port: port, location: st.location)
    }

    static let realServerSchema: Schema<RealServer> = {
        var s = Schema<RealServer>("real_server")
        s.value("weight") { v, st, r in v.weight = r.int(st, 0...65535) ?? v.weight }
        s.value("inhibit_on_failure") { v, st, r in v.inhibitOnFailure = r.flag(st) }
        s.value("notify_up") { v, st, r in v.notifyUp = r.command(st) }
        s.value("notify_down") { v, st, r in v.notifyDown = r.command(st) }
        s.value("uthreshold") { v, st, r in v.upperThreshold = r.int(st, 0...Int(Int32.max)) }
        s.value("lthreshold") { v, st, r in v.lowerThreshold = r.int(st, 0...Int(Int32.max)) }
        s.value("lb_kind", "lvs_method") { v, st, r in v.forwardingMethod = r.choice(st, forwardingMethods) }
        for kind in [HealthChecker.Kind.httpGet, .sslGet, .tcpCheck, .miscCheck, .pingCheck, .udpCheck, .dnsCheck, .smtpCheck] {
            s.block(kind.rawValue) { v, st, r in
                _ = r.arguments(st, 0...0)
                var checkers: [HealthChecker]
                if kind == .smtpCheck {
                    checkers = VirtualServerKeywords.smtpCheckers(st, &r)
                } else {
                    var checker = HealthChecker(kind: kind, location: st.location)
                    VirtualServerKeywords.checkerSchema(of: kind).apply(st.block ?? [], to: &checker, &r)
                    checkers = [checker]
                }
                for checker in checkers { VirtualServerKeywords.finishChecker(checker, server: v.address, port: v.port, st, &r) }
                v.checkers += checkers
            }
        }
        s.block("FILE_CHECK") { rs, st, r in
            if let check = TrackFileKeywords.fileCheck(st, &r) { rs.fileChecks.append(check) }
        }
        s.ignore(["BFD_CHECK"], "Overcast has no BFD; use MISC_CHECK with a script that tests the same thing", containing: ["name"])
        s.ignore(["snmp_name"], "SNMP: Overcast has `overcast status` and metrics")
        s.value("smtp_alert") { rs, st, r in rs.smtpAlert = r.flag(st) }
        s.value("alpha") { rs, st, r in rs.alpha = r.flag(st) }
        CheckerDefaults.install(&s, \.checkerDefaults, delayLoop: true)
        s.ignore(["virtualhost"],
                 "set it in the checker block")
        return s
    }()

    /// `virtual_server_group NAME { IP PORT | IP-END PORT | fwmark N }`.
    static func group(_ name: String, _ st: Statement, _ r: inout ValueReader) -> VirtualServerGroup {
        var group = VirtualServerGroup(name: name, location: st.location)
        for line in st.block ?? [] {
            let words = line.words
            if line.block != nil { r.error(line.location, "a group member takes no { } block") }
            if words[0].text == "fwmark" {
                guard words.count == 2 else { r.error(line.location, "expected 'fwmark N'"); continue }
                if let mark = r.int(words[1], 1...Int(UInt32.max), what: "fwmark") { group.members.append(.init(fwmark: mark)) }
                continue
            }
            guard words.count == 2 else { r.error(line.location, "expected 'ADDRESS PORT' or 'fwmark N'"); continue }
            var address = words[0].text
            var rangeEnd: Int?
            if let dash = address.lastIndex(of: "-"), !IPText.isIPv6(address) {
                let end = String(address[address.index(after: dash)...])
                address = String(address[..<dash])
                guard let last = r.int(Token(kind: .word, text: end, location: words[0].location), 0...65535, what: "range end")
                else { continue }
                rangeEnd = last
            }
            guard isAddress(address) else { r.error(words[0].location, "'\(words[0].text)' is not an address or address range"); continue }
            guard let port = r.int(words[1], 0...65535, what: "port") else { continue }
            group.members.append(.init(address: address, rangeEnd: rangeEnd, port: port))
        }
        return group
    }
}
