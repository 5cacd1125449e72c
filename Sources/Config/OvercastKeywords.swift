/// Overcast's own blocks: `overlay NAME { ... }` and `ec2_route_failover { ... }`.
enum OverlayKeywords {
    static let schema: Schema<Overlay> = {
        var s = Schema<Overlay>("overlay")
        s.value("local") { o, st, r in
            if let token = r.arguments(st, 1...1)?[0] { o.local = r.ipv4(token, what: "local") }
        }
        s.block("peers") { o, st, r in
            for line in st.block ?? [] {
                if line.block != nil { r.error(line.location, "a peer takes no { } block") }
                for word in line.words { if let peer = r.ipv4(word, what: "peer") { o.peers.append(peer) } }
            }
        }
        s.value("key") { o, st, r in o.key = r.int(st, 0...Int(UInt32.max)).map { UInt32($0) } }
        s.value("address") { o, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            let parts = token.text.split(separator: "/").map(String.init)
            guard parts.count == 2, IPText.isIPv4(parts[0]), let length = Int(parts[1]), (1...32).contains(length) else {
                r.error(token.location, "address: '\(token.text)' is not an IPv4 CIDR (e.g. 10.200.0.1/24)")
                return
            }
            o.address = token.text
        }
        s.value("mtu") { o, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            if token.text == "auto" { o.mtu = nil } else { o.mtu = r.int(token, 576...9000, what: "mtu") }
        }
        return s
    }()
}

enum EC2Keywords {
    static let schema: Schema<EC2RouteFailover> = {
        var s = Schema<EC2RouteFailover>("ec2_route_failover")
        s.value("route_table") { e, st, r in
            guard let args = r.arguments(st, 1...Int.max) else { return }
            for token in args {
                if token.text.hasPrefix("rtb-") && token.text.count > 4 { e.routeTables.append(token.text) } else {
                    r.error(token.location, "route_table: '\(token.text)' is not a route table id (rtb-...)")
                }
            }
        }
        s.value("region") { e, st, r in e.region = r.string(st) }
        s.value("endpoint") { e, st, r in e.endpoint = url(st, &r) }
        s.value("imds_endpoint") { e, st, r in e.imdsEndpoint = url(st, &r) }
        s.value("target") { e, st, r in
            if let target = r.choice(st, ["instance", "eni"]) { e.target = EC2RouteFailover.Target(rawValue: target) ?? .instance }
        }
        s.value("instance_id") { e, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            if token.text.hasPrefix("i-") && token.text.count > 2 { e.instanceID = token.text } else {
                r.error(token.location, "instance_id: '\(token.text)' is not an instance id (i-...)")
            }
        }
        s.value("refresh") { e, st, r in e.refresh = r.seconds(st, 1...86400) ?? e.refresh }
        s.value("api_timeout") { e, st, r in e.apiTimeout = r.seconds(st, 0.1...60) ?? e.apiTimeout }
        return s
    }()

    static func url(_ st: Statement, _ r: inout ValueReader) -> String? {
        guard let token = r.arguments(st, 1...1)?[0] else { return nil }
        guard token.text.hasPrefix("http://") || token.text.hasPrefix("https://") else {
            r.error(token.location, "\(st.keyword.text): '\(token.text)' is not an http:// or https:// URL")
            return nil
        }
        return token.text
    }
}
