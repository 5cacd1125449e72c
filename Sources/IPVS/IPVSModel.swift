/// The IPVS table as values: what the kernel holds (read back) and what the
/// configuration wants. Addresses are kept as text in canonical form so that IPv4 and
/// IPv6 services compare the same way the kernel does.
public enum IPVSProtocol: String, Sendable, Hashable, Codable, Comparable {
    case tcp = "TCP", udp = "UDP", sctp = "SCTP"
    /// IPPROTO_* numbers, as the kernel takes them.
    public var number: UInt16 {
        switch self {
        case .tcp: 6
        case .udp: 17
        case .sctp: 132
        }
    }
    public static func < (a: IPVSProtocol, b: IPVSProtocol) -> Bool { a.rawValue < b.rawValue }
}

/// How a real server is reached: IP_VS_CONN_F_MASQ (NAT), _DROUTE (DR), _TUNNEL (TUN).
public enum IPVSForwarding: String, Sendable, Hashable, Codable {
    case nat = "NAT", dr = "DR", tun = "TUN"
    public var kernelValue: UInt32 {
        switch self {
        case .nat: 0
        case .tun: 2
        case .dr: 3
        }
    }
}

/// What identifies a virtual service in the kernel.
public enum IPVSServiceKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    case address(IPVSProtocol, String, port: UInt16)
    case fwmark(UInt32, ipv6: Bool)

    public var description: String {
        switch self {
        case .address(let proto, let address, let port):
            address.contains(":") ? "\(proto.rawValue) [\(address)]:\(port)" : "\(proto.rawValue) \(address):\(port)"
        case .fwmark(let mark, let ipv6): "FWM \(mark)\(ipv6 ? " IPv6" : "")"
        }
    }

    public static func < (a: IPVSServiceKey, b: IPVSServiceKey) -> Bool { a.description < b.description }
}

public struct IPVSService: Sendable, Hashable {
    public var key: IPVSServiceKey
    public var scheduler: String
    /// Persistence timeout in seconds; nil when not persistent.
    public var persistenceTimeout: UInt32?
    /// Persistence granularity as a netmask (IPv4) or prefix length (IPv6).
    public var persistenceNetmask: UInt32?

    public init(key: IPVSServiceKey, scheduler: String, persistenceTimeout: UInt32? = nil, persistenceNetmask: UInt32? = nil) {
        self.key = key
        self.scheduler = scheduler
        self.persistenceTimeout = persistenceTimeout
        self.persistenceNetmask = persistenceNetmask
    }
}

public struct IPVSDestinationKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var address: String
    public var port: UInt16
    public init(address: String, port: UInt16) {
        self.address = address
        self.port = port
    }
    public var description: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }
    public static func < (a: IPVSDestinationKey, b: IPVSDestinationKey) -> Bool { a.description < b.description }
}

public struct IPVSDestination: Sendable, Hashable {
    public var key: IPVSDestinationKey
    public var forwarding: IPVSForwarding
    public var weight: UInt32
    public var upperThreshold: UInt32
    public var lowerThreshold: UInt32

    public init(key: IPVSDestinationKey, forwarding: IPVSForwarding, weight: UInt32,
                upperThreshold: UInt32 = 0, lowerThreshold: UInt32 = 0) {
        self.key = key
        self.forwarding = forwarding
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
    }
}

/// A whole table: services with their destinations.
public struct IPVSTable: Sendable, Hashable {
    public var services: [IPVSServiceKey: IPVSService] = [:]
    public var destinations: [IPVSServiceKey: [IPVSDestinationKey: IPVSDestination]] = [:]

    public init() {}

    public mutating func add(_ service: IPVSService, _ dests: [IPVSDestination] = []) {
        services[service.key] = service
        var map = destinations[service.key] ?? [:]
        for d in dests { map[d.key] = d }
        destinations[service.key] = map
    }

    public var destinationCount: Int { destinations.values.reduce(0) { $0 + $1.count } }
}
