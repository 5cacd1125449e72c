import NetworkTypes

/// One line of `virtual_routes` or `static_routes`: an IPv4 route as `ip route add` takes
/// it. `device` nil means none, as with keepalived: the kernel finds the interface from
/// the gateway.
public struct VirtualRoute: Codable, Hashable, Sendable, CustomStringConvertible {
    /// One path of a multipath route (`nexthop ...`, or keepalived's `via A or B`).
    public struct NextHop: Codable, Hashable, Sendable {
        public var gateway: IPv4Address?
        /// nil: the route's own `dev`, else none.
        public var device: String?
        /// 1-256, as `ip route`'s `weight`.
        public var weight = 1
        public var onLink = false
        public init(gateway: IPv4Address? = nil, device: String? = nil, weight: Int = 1, onLink: Bool = false) {
            self.gateway = gateway
            self.device = device
            self.weight = weight
            self.onLink = onLink
        }
    }

    public var type = RouteType.unicast
    public var destination: IPv4Network
    public var source: IPv4Address?
    public var gateway: IPv4Address?
    public var device: String?
    /// RT_SCOPE_*; nil lets the kernel's rule apply (link for a direct route, else global).
    public var scope: UInt8?
    public var table: UInt32 = 254
    public var metric: UInt32?
    /// `tos`: the route matches only packets with this TOS byte.
    public var tos: UInt8?
    /// RTPROT_*: keepalived's own (18), or with `no_track` the `proto` given (else boot).
    public var protocolNumber: UInt8 = RoutingNames.keepalivedProtocol
    /// `onlink`: the gateway is on the link even if no address of it says so.
    public var onLink = false
    /// A multipath route's paths; when there are any, `gateway` is nil.
    public var nextHops: [NextHop] = []
    /// keepalived's `no_track`: deleting the route does not take the instance out of
    /// MASTER, and a deleted static route is not put back (the daemon's KernelWatch).
    public var noTrack = false
    /// The words as written, for log lines.
    public var text: String
    public var location: SourceLocation

    public init(destination: IPv4Network, text: String, location: SourceLocation) {
        self.destination = destination
        self.text = text
        self.location = location
    }

    public var description: String { text }

    /// The route with every default filled in, in `ip route`'s words, for `dump-config`.
    public var effective: String {
        var words = RouteWords(type: type, destination: destination, gateway: gateway, device: device, source: source, scope: scope,
                               table: table, metric: metric, tos: tos, protocolNumber: protocolNumber, onLink: onLink,
                               nextHops: nextHops.map { .init(gateway: $0.gateway, device: $0.device ?? device, weight: $0.weight,
                                                              onLink: $0.onLink) }).words
        if noTrack { words.append("no_track") }
        return words.joined(separator: " ")
    }
}

/// One line of `virtual_rules` or `static_rules`.
public struct VirtualRule: Codable, Hashable, Sendable, CustomStringConvertible {
    public var rule: PolicyRule
    public var noTrack = false
    /// The line gave no priority and the reader gave one (`RoutingKeywords.assignPriorities`).
    public var assignedPriority = false
    public var text: String
    public var location: SourceLocation

    public init(rule: PolicyRule, text: String, location: SourceLocation) {
        self.rule = rule
        self.text = text
        self.location = location
    }

    public var description: String { text }
}
