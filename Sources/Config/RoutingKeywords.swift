import NetworkTypes

/// The lines of `virtual_routes`/`static_routes` (here) and `virtual_rules`/`static_rules`
/// (RuleKeywords.swift), in keepalived's syntax (that of `ip route add` / `ip rule add`,
/// full option names only), and the value readers both share.
/// The common subset is read into typed values; options that only tune a route (mtu,
/// window, ...) are warned about and left out; anything that would change which packets
/// go where and that Overcast cannot do (IPv6, VRFs, encapsulation) is an error at its
/// word, so no line is half-applied without a word said.
enum RoutingKeywords {
    /// Route options whose value tunes the route without changing where packets go.
    static let ignoredRouteOptions: Set<String> = [
        "mtu", "hoplimit", "advmss", "rtt", "rttvar", "reordering", "window", "cwnd", "initcwnd",
        "initrwnd", "ssthresh", "realms", "rto_min", "features", "quickack", "congctl", "fastopen_no_cookie",
        "ttl-propagate",
    ]
    /// Route options Overcast cannot carry out; the line is refused.
    static let refusedRouteOptions: Set<String> = ["encap", "vrf", "as", "nhid", "inet6"]

    /// All the statements of a routes block.
    static func routes(_ st: Statement, _ r: inout ValueReader) -> [VirtualRoute] {
        (st.block ?? []).compactMap { route($0, &r) }
    }

    /// `[TYPE] [src ADDR] [to] DEST[/LEN] [via|gw ADDR [or ADDR]] [dev IF] [scope S] [table T]
    /// [metric|priority|preference N] [tos N] [proto P] [onlink] [no_track] [nexthop ...]`.
    static func route(_ line: Statement, _ r: inout ValueReader) -> VirtualRoute? {
        if line.block != nil { r.error(line.location, "a route takes no { } block") }
        let text = line.words.map(\.text).joined(separator: " ")
        var words = line.words.makeIterator()
        var type: RouteType?
        var destination: IPv4Network?
        var route = VirtualRoute(destination: IPv4Network(host: IPv4Address(0)), text: text, location: line.location)
        var givenProtocol: (number: UInt8, token: Token)?
        var failed = false
        func fail(_ at: SourceLocation, _ message: String) {
            r.error(at, message)
            failed = true
        }
        while let word = words.next() {
            func value() -> Token? {
                guard let next = words.next() else {
                    fail(word.location, "route option '\(word.text)' needs a value")
                    return nil
                }
                return next
            }
            func setDestination(_ token: Token) {
                guard destination == nil else { return fail(token.location, "route has a second destination '\(token.text)'") }
                destination = network(token, what: "route destination", &r)
                if destination == nil { failed = true }
            }
            switch word.text {
            case "unicast", "local", "blackhole", "unreachable", "prohibit", "throw":
                guard type == nil, destination == nil else { fail(word.location, "route type '\(word.text)' must come first"); continue }
                type = RouteType(rawValue: word.text)
            case "to":
                if let token = value() { setDestination(token) }
            case "src":
                guard let token = value() else { continue }
                route.source = address(token, what: "route src", &r)
                if route.source == nil { failed = true }
            case "via", "gw":
                guard let token = value() else { continue }
                route.gateway = address(token, what: "route \(word.text)", &r)
                if route.gateway == nil { failed = true }
            case "dev", "oif":
                route.device = value()?.text
            case "scope":
                guard let token = value() else { continue }
                guard let scope = RoutingNames.scope(token.text) else {
                    fail(token.location, "scope '\(token.text)' is not global, site, link, host, nowhere or 0-255"); continue
                }
                route.scope = scope
            case "table":
                guard let token = value() else { continue }
                guard let table = table(token, &r) else { failed = true; continue }
                route.table = table
            case "metric", "priority", "preference":
                guard let token = value() else { continue }
                guard let metric = UInt32(token.text) else {
                    fail(token.location, "route \(word.text): '\(token.text)' is not a number 0-4294967295"); continue
                }
                route.metric = metric
            case "proto", "protocol":
                guard let token = value() else { continue }
                guard let number = RoutingNames.routeProtocol(token.text) else {
                    fail(token.location, "route \(word.text): '\(token.text)' is not a protocol name or 0-255"); continue
                }
                givenProtocol = (number, token)
            case "tos", "dsfield":
                guard let token = value() else { continue }
                guard let tos = tos(token, &r) else { failed = true; continue }
                route.tos = tos
            case "onlink": route.onLink = true
            case "no_track": route.noTrack = true
            case "inet": break
            case "or":
                // keepalived's older form of two next hops: `via A or B`.
                guard let token = value() else { continue }
                guard let alternative = address(token, what: "route or", &r) else { failed = true; continue }
                guard let first = route.gateway, route.nextHops.isEmpty else {
                    fail(word.location, "route option 'or' needs one via before it"); continue
                }
                route.nextHops = [.init(gateway: first), .init(gateway: alternative)]
                route.gateway = nil
            case "nexthop":
                guard route.gateway == nil, route.nextHops.isEmpty else {
                    fail(word.location, "route option 'nexthop' cannot follow via or or")
                    return nil
                }
                // As keepalived, everything after the first nexthop describes next hops.
                guard let hops = nextHops(after: word, &words, &r) else { return nil }
                route.nextHops = hops
            case "pref", "expires":
                // keepalived refuses these on an IPv4 route too.
                fail(word.location, "route option '\(word.text)' is for IPv6 routes only")
                return nil
            case "append":
                r.warning(word.location, "route option 'append' is not supported by Overcast; the route is added before any matching one")
            case "track_group":
                _ = value()
                r.warning(word.location, "route option 'track_group' is not supported by Overcast (no instance tracks this route); ignored")
            default:
                if ignoredRouteOptions.contains(word.text) {
                    if let token = value(), token.text == "lock" { _ = words.next() }
                    r.warning(word.location, "route option '\(word.text)' is not supported by Overcast; ignored (the route is added without it)")
                } else if refusedRouteOptions.contains(word.text) {
                    fail(word.location, "route option '\(word.text)' is not supported by Overcast")
                    return nil
                } else if destination == nil, word.text.first?.isNumber == true || word.text == "default" {
                    setDestination(word)
                } else {
                    fail(word.location, "unknown route option '\(word.text)'")
                    return nil  // what follows an unknown word cannot be read with any certainty
                }
            }
        }
        guard !failed else { return nil }
        guard let destination else {
            r.error(line.location, "route has no destination")
            return nil
        }
        route.destination = destination
        route.type = type ?? .unicast
        route.protocolNumber = protocolNumber(givenProtocol, noTrack: route.noTrack, what: "route", &r) ?? 3
        if !route.type.hasNextHop && (route.gateway != nil || route.device != nil || !route.nextHops.isEmpty) {
            r.error(line.location, "a \(route.type.rawValue) route takes no via, dev or nexthop")
            return nil
        }
        if !route.nextHops.isEmpty && route.gateway != nil {
            r.error(line.location, "a route with next hops takes no via of its own")
            return nil
        }
        return route
    }

    /// The words after a route's first `nexthop`: `[via|gw ADDR] [dev IF] [weight 1-256]
    /// [onlink]`, each further `nexthop` starting the next hop.
    private static func nextHops(after first: Token, _ words: inout IndexingIterator<[Token]>,
                                 _ r: inout ValueReader) -> [VirtualRoute.NextHop]? {
        var hops = [VirtualRoute.NextHop()]
        var starts = [first.location]
        while let word = words.next() {
            guard let last = hops.indices.last else { return nil }
            if word.text == "nexthop" {
                hops.append(.init())
                starts.append(word.location)
                continue
            }
            if word.text == "onlink" {
                hops[last].onLink = true
                continue
            }
            guard ["via", "gw", "dev", "oif", "weight"].contains(word.text) else {
                r.error(word.location, "unknown nexthop option '\(word.text)'")
                return nil
            }
            guard let token = words.next() else {
                r.error(word.location, "nexthop option '\(word.text)' needs a value")
                return nil
            }
            switch word.text {
            case "via", "gw":
                guard let gateway = address(token, what: "nexthop \(word.text)", &r) else { return nil }
                hops[last].gateway = gateway
            case "dev", "oif": hops[last].device = token.text
            default:
                guard let weight = r.int(token, 1...256, what: "nexthop weight") else { return nil }
                hops[last].weight = weight
            }
        }
        if let empty = zip(hops, starts).first(where: { $0.0.gateway == nil && $0.0.device == nil }) {
            r.error(empty.1, "nexthop needs a via or a dev")
            return nil
        }
        return hops
    }

    /// keepalived marks what it tracks with its own protocol (18) and resets any other
    /// with a message; `no_track` keeps the one given (a route then defaults to boot, as
    /// `ip route add` does; a rule to none).
    static func protocolNumber(_ given: (number: UInt8, token: Token)?, noTrack: Bool, what: String,
                                       _ r: inout ValueReader) -> UInt8? {
        if noTrack { return given?.number ?? (what == "route" ? 3 : nil) }
        if let given, given.number != RoutingNames.keepalivedProtocol {
            r.warning(given.token.location, "\(what) protocol '\(given.token.text)' is reset to keepalived (18), as keepalived does for a \(what) without no_track")
        }
        return RoutingNames.keepalivedProtocol
    }

    /// A TOS byte, decimal or 0x hex (names from rt_dsfield are not read).
    static func tos(_ token: Token, _ r: inout ValueReader) -> UInt8? {
        guard let value = number(Substring(token.text)), let byte = UInt8(exactly: value) else {
            r.error(token.location, "tos '\(token.text)' is not 0-255 (decimal or 0x hex)")
            return nil
        }
        return byte
    }

    static func number(_ text: Substring) -> UInt32? {
        text.hasPrefix("0x") ? UInt32(text.dropFirst(2), radix: 16) : UInt32(text)
    }

    static func address(_ token: Token, what: String, _ r: inout ValueReader) -> IPv4Address? {
        if token.text.contains(":") {
            r.error(token.location, "\(what): IPv6 '\(token.text)' is not supported by Overcast")
            return nil
        }
        return r.ipv4(token, what: what)
    }

    static func network(_ token: Token, what: String, _ r: inout ValueReader) -> IPv4Network? {
        if token.text == "default" { return IPv4Network(IPv4Address(0), prefixLength: 0) }
        if token.text.contains(":") {
            r.error(token.location, "\(what): IPv6 '\(token.text)' is not supported by Overcast")
            return nil
        }
        guard let network = IPv4Network(token.text) else {
            r.error(token.location, "\(what): '\(token.text)' is not an IPv4 address or ADDRESS/LENGTH (0-32)")
            return nil
        }
        if network.address != IPv4Address(token.text.split(separator: "/")[0]) {
            r.error(token.location, "\(what): '\(token.text)' has host bits set (the network is \(network))")
            return nil
        }
        return network
    }

    static func table(_ token: Token, _ r: inout ValueReader) -> UInt32? {
        guard let table = RoutingNames.table(token.text) ?? RouteTableNames.host[token.text].flatMap({ $0 == 0 ? nil : $0 }) else {
            r.error(token.location, "table '\(token.text)' is not main, local, default, 1-4294967295 or a name in this host's iproute2 rt_tables")
            return nil
        }
        return table
    }
}
