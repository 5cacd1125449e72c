import NetworkTypes
import VRRP

/// What an instance asks of its transport, and the one place a transport kind becomes a
/// transport: the daemon hands over the settings and gets a `VRRPTransport` back.
public struct TransportSettings: Sendable {
    public var kind: TransportKind
    public var interfaceName: String
    public var interfaceIndex: Int32
    public var source: IPv4Address
    public var peers: [IPv4Address]
    /// IP TTL of unicast advertisements (`unicast_ttl`); multicast always sends 255.
    public var unicastTTL: UInt8
    /// `old_unicast_checksum`: the VRRPv3 checksum the unicast transport sends.
    public var unicastChecksum = UnicastChecksum.current
    public var replicateMode: ReplicateMode
    /// VRIDs of this daemon's other instances on the interface, filtered in the kernel.
    public var siblingRouterIDs: [UInt8]
    /// Seals every advertisement (`auth_type HMAC_SHA256`).
    public var sealer: AdvertisementSealer?
    /// The instance's receive checks, for the in-kernel split of peers' advertisements
    /// from everything else (a flood of the latter never crowds out the former).
    public var expected: ReceivePolicy?

    public init(kind: TransportKind, interfaceName: String, interfaceIndex: Int32, source: IPv4Address, peers: [IPv4Address],
                unicastTTL: UInt8 = 255, replicateMode: ReplicateMode = .l2, siblingRouterIDs: [UInt8] = [],
                sealer: AdvertisementSealer? = nil, expected: ReceivePolicy? = nil) {
        self.kind = kind
        self.interfaceName = interfaceName
        self.interfaceIndex = interfaceIndex
        self.source = source
        self.peers = peers
        self.unicastTTL = unicastTTL
        self.replicateMode = replicateMode
        self.siblingRouterIDs = siblingRouterIDs
        self.sealer = sealer
        self.expected = expected
    }

    /// Opens the transport's sockets (and, for replicate, starts its capture); `log`
    /// takes what the replicator reports as it runs.
    public func open(log: @escaping @Sendable (String) -> Void) throws -> any VRRPTransport {
        switch kind {
        case .unicast:
            try UnicastTransport(interfaceName: interfaceName, interfaceIndex: interfaceIndex, source: source, peers: peers,
                                 ttl: unicastTTL, checksum: unicastChecksum, siblingRouterIDs: siblingRouterIDs, sealer: sealer,
                                 expected: expected)
        case .multicast, .gre:
            try MulticastTransport(kind: kind.rawValue, interfaceName: interfaceName, interfaceIndex: interfaceIndex, source: source,
                                   siblingRouterIDs: siblingRouterIDs, sealer: sealer, expected: expected)
        case .replicate:
            try ReplicateTransport(interfaceName: interfaceName, interfaceIndex: interfaceIndex, source: source, peers: peers,
                                   mode: replicateMode == .l3 ? .l3 : .l2, siblingRouterIDs: siblingRouterIDs, sealer: sealer,
                                   expected: expected, log: log)
        }
    }
}
