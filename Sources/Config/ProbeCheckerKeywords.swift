/// The checkers that are not HTTP or scripts: PING_CHECK, UDP_CHECK, DNS_CHECK and
/// SMTP_CHECK, each taking the common connection options and its own keywords, as
/// keepalived's check_ping.c, check_udp.c, check_dns.c and check_smtp.c install them.
extension VirtualServerKeywords {
    static let pingSchema: Schema<HealthChecker> = {
        var s = Schema<HealthChecker>("PING_CHECK")
        connectionOptions(&s)
        s.note("bind_port", "an ICMP echo has no port: warned and ignored (keepalived binds it as the echo identifier of its datagram socket)")
        return s
    }()

    static let udpSchema: Schema<HealthChecker> = {
        var s = Schema<HealthChecker>("UDP_CHECK")
        connectionOptions(&s)
        s.value("payload") { c, st, r in
            guard let hex = hexString(st, minimum: 1, wildcards: false, &r) else { return }
            c.payload = hex.bytes
        }
        s.value("require_reply") { c, st, r in
            c.requireReply = true
            guard !st.arguments.isEmpty, let hex = hexString(st, minimum: 1, wildcards: true, &r) else { return }
            c.replyData = hex.bytes
            c.replyMask = hex.mask
        }
        s.value("min_reply_length") { c, st, r in c.minReplyLength = r.int(st, 0...65535) }
        s.value("max_reply_length") { c, st, r in c.maxReplyLength = r.int(st, 0...65535) }
        return s
    }()

    static let dnsTypes = ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY"]

    static let dnsSchema: Schema<HealthChecker> = {
        var s = Schema<HealthChecker>("DNS_CHECK")
        connectionOptions(&s)
        s.value("type") { c, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            let type = token.text.uppercased()
            guard dnsTypes.contains(type) else {
                r.error(token.location, "type: '\(token.text)' is not one of \(dnsTypes.joined(separator: ", "))")
                return
            }
            c.dnsType = type
        }
        s.value("name") { c, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            if let problem = dnsNameProblem(token.text) { r.error(token.location, "name: '\(token.text)' \(problem)") } else {
                c.dnsName = token.text
            }
        }
        return s
    }()

    static let smtpSchema: Schema<HealthChecker> = {
        var s = Schema<HealthChecker>("SMTP_CHECK")
        connectionOptions(&s)
        s.value("helo_name") { c, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            if token.text.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) { c.heloName = token.text } else {
                r.error(token.location, "helo_name: '\(token.text)' has a character that cannot go in an SMTP command")
            }
        }
        // Read by `smtpCheckers` before this schema sees the block; registered for its fate.
        s.block("host") { _, _, _ in }
        s.note("host", "each host { } is an SMTP_CHECK of its own, as keepalived (deprecated there: write more SMTP_CHECKs)")
        return s
    }()

    /// `host { connect_ip ... }` inside SMTP_CHECK: where one of its checkers connects.
    static let smtpHostSchema: Schema<HealthChecker> = {
        var s = Schema<HealthChecker>("host (in SMTP_CHECK)")
        connectionOptions(&s)
        return s
    }()

    /// An SMTP_CHECK block as keepalived reads it: one checker per `host` block (the
    /// block's settings with that host's connection options), plus the block's own
    /// unless it has hosts and sets no connection option itself.
    static func smtpCheckers(_ st: Statement, _ r: inout ValueReader) -> [HealthChecker] {
        let lines = st.block ?? []
        var main = HealthChecker(kind: .smtpCheck, location: st.location)
        smtpSchema.apply(lines.filter { $0.keyword.text != "host" }, to: &main, &r)
        var template = main
        template.connectIP = nil
        template.connectPort = nil
        template.bindTo = nil
        template.bindPort = nil
        template.bindInterface = nil
        template.fwmark = nil
        template.connectTimeout = nil
        let hosts = lines.filter { $0.keyword.text == "host" }.compactMap { line -> HealthChecker? in
            guard line.block != nil else {
                r.error(line.location, "'host' needs a { } block")
                return nil
            }
            _ = r.arguments(line, 0...0)
            var host = template
            host.location = line.location
            smtpHostSchema.apply(line.block ?? [], to: &host, &r)
            return host
        }
        // keepalived's test (check_smtp.c): any connection option of the block's own.
        let ownConnection = main.connectIP != nil || main.connectPort != nil || main.bindTo != nil || main.connectTimeout != nil
            || main.bindPort != nil || main.bindInterface != nil || (main.fwmark ?? 0) != 0
        return (hosts.isEmpty || ownConnection ? [main] : []) + hosts
    }

    /// The schema of a checker block.
    static func checkerSchema(of kind: HealthChecker.Kind) -> Schema<HealthChecker> {
        switch kind {
        case .httpGet, .sslGet, .tcpCheck, .miscCheck: checkerSchema
        case .pingCheck: pingSchema
        case .udpCheck: udpSchema
        case .dnsCheck: dnsSchema
        case .smtpCheck: smtpSchema
        }
    }

    /// What keepalived's end-of-block handlers check, that a checker that needs a port has
    /// one, and that `bindto` can reach the address checked (connect_ip, else the real
    /// server's).
    static func finishChecker(_ checker: HealthChecker, server: String, port: Int?, _ st: Statement, _ r: inout ValueReader) {
        if [.udpCheck, .dnsCheck, .smtpCheck].contains(checker.kind) && checker.connectPort == nil && (port ?? 0) == 0 {
            r.error(st.location, "\(checker.kind.rawValue) needs connect_port when its real_server has no port")
        }
        let destination = checker.connectIP ?? server
        if let bind = checker.bindTo, IPText.isIPv6(bind) != IPText.isIPv6(destination) {
            r.error(st.location, "\(checker.kind.rawValue): bindto \(bind) cannot reach \(destination): one is IPv4, the other IPv6")
        }
        // keepalived's check_conn_opts: a link-local address means nothing without its link.
        for (what, address) in [("connects to", destination), ("binds", checker.bindTo)] {
            if let address, checker.kind != .miscCheck, checker.bindInterface == nil, isLinkLocalIPv6(address) {
                r.error(st.location, "\(checker.kind.rawValue) \(what) the link-local address \(address): it needs bind_if")
            }
        }
        if checker.kind == .pingCheck && checker.bindPort != nil {
            r.warning(st.location, "PING_CHECK: bind_port has no meaning for an ICMP echo and is ignored")
        }
        if checker.kind == .miscCheck {
            let options = [("connect_ip", checker.connectIP != nil), ("connect_port", checker.connectPort != nil),
                           ("bindto", checker.bindTo != nil), ("bind_port", checker.bindPort != nil),
                           ("bind_if", checker.bindInterface != nil), ("fwmark", checker.fwmark != nil)]
            let set = options.filter(\.1).map(\.0)
            if !set.isEmpty {
                r.warning(st.location, "MISC_CHECK makes no connection: \(set.joined(separator: ", ")) ignored (keepalived does not take them there)")
            }
        }
        switch checker.kind {
        case .miscCheck where checker.miscPath == nil:
            r.error(st.location, "MISC_CHECK needs misc_path")
        case .udpCheck:
            let low = checker.minReplyLength ?? 0, high = checker.maxReplyLength ?? 255
            if low > high {
                r.warning(st.location, "UDP_CHECK min_reply_length \(low) > max_reply_length \(high): the check will always fail")
            }
        default:
            break
        }
    }

    /// fe80::/10, which a socket can reach only through one interface.
    static func isLinkLocalIPv6(_ text: String) -> Bool {
        guard IPText.isIPv6(text) else { return false }
        let first = text.lowercased().split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let word = UInt16(first, radix: 16) else { return false }
        return word & 0xFFC0 == 0xFE80
    }

    /// The statement's words as one hex string; the error points at the word at fault.
    static func hexString(_ st: Statement, minimum: Int, wildcards: Bool, _ r: inout ValueReader) -> HexString? {
        guard let words = r.arguments(st, minimum...Int.max) else { return nil }
        switch HexString.parse(words.map(\.text), wildcards: wildcards) {
        case .success(let hex):
            return hex
        case .failure(let failure):
            let at = failure.word < words.count ? words[failure.word].location : st.location
            r.error(at, "\(st.keyword.text): \(failure.reason)")
            return nil
        }
    }

    /// Why a DNS_CHECK name cannot be sent, or nil: keepalived refuses empty labels; the
    /// wire format bounds a label to 63 octets and a name to 255.
    static func dnsNameProblem(_ name: String) -> String? {
        if name == "." { return nil }
        let trimmed = name.hasSuffix(".") ? String(name.dropLast()) : name
        let labels = trimmed.split(separator: ".", omittingEmptySubsequences: false)
        if labels.contains(where: \.isEmpty) { return "has an empty label" }
        if let long = labels.first(where: { $0.utf8.count > 63 }) { return "has a label longer than 63 octets ('\(long.prefix(20))...')" }
        if trimmed.utf8.count + 2 > 255 { return "is longer than 255 octets" }
        return nil
    }
}
