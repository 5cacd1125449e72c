/// What a route does with the packets it matches (the kernel's RTN_* types that
/// keepalived's `virtual_routes`/`static_routes` can write before the destination).
public enum RouteType: String, Codable, Hashable, Sendable, CaseIterable {
    case unicast, local, blackhole, unreachable, prohibit
    case throwType = "throw"

    /// RTN_*: the value in rtmsg.rtm_type.
    public var kernelValue: UInt8 {
        switch self {
        case .unicast: 1
        case .local: 2
        case .blackhole: 6
        case .unreachable: 7
        case .prohibit: 8
        case .throwType: 9
        }
    }

    public init?(kernelValue: UInt8) {
        guard let match = Self.allCases.first(where: { $0.kernelValue == kernelValue }) else { return nil }
        self = match
    }

    /// Whether packets leave through an interface (a `dev` makes sense).
    public var hasNextHop: Bool { self == .unicast || self == .local }
}

/// One IPv4 policy-routing rule as `ip rule` writes it: what it matches and what it does.
/// Shared by the configuration (`virtual_rules`, `static_rules`) and the netlink wrapper,
/// so the rule read back from the kernel compares equal to the one configured.
public struct PolicyRule: Codable, Hashable, Sendable, CustomStringConvertible {
    /// FR_ACT_*: what a matching packet gets.
    public enum Action: Codable, Hashable, Sendable {
        /// Look the packet up in this table.
        case table(UInt32)
        /// Continue at the rule with this priority.
        case goto(UInt32)
        case blackhole, unreachable, prohibit

        /// FR_ACT_* (linux/fib_rules.h).
        public var kernelValue: UInt8 {
            switch self {
            case .table: 1
            case .goto: 2
            case .blackhole: 6
            case .unreachable: 7
            case .prohibit: 8
            }
        }
    }

    public var from: IPv4Network?
    public var to: IPv4Network?
    public var inputInterface: String?
    public var outputInterface: String?
    public var fwmark: UInt32?
    /// With `fwmark N/MASK`; the kernel's default is all ones.
    public var fwmask: UInt32?
    /// nil lets the kernel choose (one below the first rule after 0), as `ip rule` does.
    public var priority: UInt32?
    public var action: Action
    /// FRA_PROTOCOL (RTPROT_*): keepalived marks its rules 18; nil leaves it unset.
    public var protocolNumber: UInt8?
    /// `tos`: the rule matches only packets with this TOS byte.
    public var tos: UInt8?

    public init(from: IPv4Network? = nil, to: IPv4Network? = nil, inputInterface: String? = nil, outputInterface: String? = nil,
                fwmark: UInt32? = nil, fwmask: UInt32? = nil, priority: UInt32? = nil, action: Action = .table(254),
                protocolNumber: UInt8? = nil, tos: UInt8? = nil) {
        self.protocolNumber = protocolNumber
        self.tos = tos
        self.from = from
        self.to = to
        self.inputInterface = inputInterface
        self.outputInterface = outputInterface
        self.fwmark = fwmark
        self.fwmask = fwmask
        self.priority = priority
        self.action = action
    }

    /// `ip rule`'s own words for the rule, for logs and messages.
    public var description: String {
        var words: [String] = []
        if let priority { words.append("pref \(priority)") }
        words.append("from \(from.map(\.description) ?? "all")")
        if let to { words.append("to \(to)") }
        if let inputInterface { words.append("iif \(inputInterface)") }
        if let outputInterface { words.append("oif \(outputInterface)") }
        if let fwmark { words.append("fwmark \(fwmark)" + (fwmask.map { "/\($0)" } ?? "")) }
        if let tos { words.append("tos \(tos)") }
        switch action {
        case .table(let table): words.append("table \(table)")
        case .goto(let target): words.append("goto \(target)")
        case .blackhole: words.append("blackhole")
        case .unreachable: words.append("unreachable")
        case .prohibit: words.append("prohibit")
        }
        if let protocolNumber { words.append("proto \(protocolNumber)") }
        return words.joined(separator: " ")
    }
}

/// The kernel's names for routing tables and route protocols, as iproute2 spells them.
public enum RoutingNames {
    /// RT_TABLE_*: `main`, `local`, `default`; numbers pass through.
    public static func table(_ text: String) -> UInt32? {
        switch text {
        case "main": 254
        case "local": 255
        case "default": 253
        default: UInt32(text).flatMap { $0 == 0 ? nil : $0 }
        }
    }

    /// RTPROT_*: iproute2's /etc/iproute2/rt_protos names; numbers pass through.
    public static func routeProtocol(_ text: String) -> UInt8? {
        let names: [String: UInt8] = ["redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9, "mrt": 10,
                                      "zebra": 11, "bird": 12, "dnrouted": 13, "xorp": 14, "ntk": 15, "dhcp": 16,
                                      "mrouted": 17, "keepalived": 18, "babel": 42, "bgp": 186, "isis": 187,
                                      "ospf": 188, "rip": 189, "eigrp": 192]
        return names[text] ?? UInt8(text)
    }

    /// RTPROT_KEEPALIVED: what keepalived marks its routes with when no `proto` is given,
    /// so `ip route show proto keepalived` lists them under either daemon.
    public static let keepalivedProtocol: UInt8 = 18

    /// RT_SCOPE_*: keepalived's scope words; numbers pass through.
    public static func scope(_ text: String) -> UInt8? {
        switch text {
        case "global", "universe": 0
        case "site": 200
        case "link": 253
        case "host": 254
        case "nowhere": 255
        default: UInt8(text)
        }
    }
}

/// A route in `ip route`'s words: the one rendering of a configured route (devices by
/// name, for `dump-config`) and of a kernel route (devices by index, for logs).
public struct RouteWords: Sendable {
    public struct Hop: Sendable {
        public var gateway: IPv4Address?
        public var device: String?
        public var weight: Int
        public var onLink: Bool
        public init(gateway: IPv4Address?, device: String?, weight: Int, onLink: Bool) {
            self.gateway = gateway
            self.device = device
            self.weight = weight
            self.onLink = onLink
        }
    }

    public var type: RouteType
    public var destination: IPv4Network
    public var gateway: IPv4Address?
    public var device: String?
    public var source: IPv4Address?
    public var scope: UInt8?
    public var table: UInt32
    public var metric: UInt32?
    public var tos: UInt8?
    public var protocolNumber: UInt8
    public var onLink: Bool
    public var nextHops: [Hop]

    public init(type: RouteType, destination: IPv4Network, gateway: IPv4Address?, device: String?, source: IPv4Address?,
                scope: UInt8?, table: UInt32, metric: UInt32?, tos: UInt8?, protocolNumber: UInt8, onLink: Bool, nextHops: [Hop]) {
        self.type = type
        self.destination = destination
        self.gateway = gateway
        self.device = device
        self.source = source
        self.scope = scope
        self.table = table
        self.metric = metric
        self.tos = tos
        self.protocolNumber = protocolNumber
        self.onLink = onLink
        self.nextHops = nextHops
    }

    public var words: [String] {
        var words = [type == .unicast ? "" : type.rawValue, destination.description].filter { !$0.isEmpty }
        if let gateway { words.append("via \(gateway)") }
        if let device { words.append("dev \(device)") }
        if let source { words.append("src \(source)") }
        if let scope { words.append("scope \(scope)") }
        words.append("table \(table)")
        if let metric { words.append("metric \(metric)") }
        if let tos { words.append("tos \(tos)") }
        words.append("proto \(protocolNumber)")
        if onLink { words.append("onlink") }
        for hop in nextHops {
            words += ["nexthop", hop.gateway.map { "via \($0)" }, hop.device.map { "dev \($0)" }, "weight \(hop.weight)",
                      hop.onLink ? "onlink" : nil].compactMap { $0 }
        }
        return words
    }
}
