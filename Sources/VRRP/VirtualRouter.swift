import NetworkTypes
/// Per-router counters, as `overcast status` shows them (its JSON embeds them as they
/// are). Every rejection reason has its own count so an operator can tell a
/// misconfigured peer from noise or an attack.
public struct VRRPCounters: Sendable, Hashable, Codable {
    public var advertisementsSent = 0
    public var advertisementsReceived = 0
    public var priorityZeroSent = 0
    public var priorityZeroReceived = 0
    public var becameMaster = 0
    public var transitions = 0
    public var rejected: [VRRPRejection: Int] = [:]
    public init() {}
    public var rejectedTotal: Int { rejected.values.reduce(0, +) }
}

/// The protocol half of one VRRP instance, without I/O: receive checks, the state
/// machine, counters, and the advertisement it sends. `InstanceCore` wraps it with what
/// the instance does on its host; its effects pass through unchanged (counted on the way).
public struct VirtualRouter: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var virtualRouterID: UInt8
        public var stateMachine: VRRPStateMachine.Configuration
        public var virtualAddresses: [IPv4Address]
        public var authType: VRRPAuthType
        /// For `auth_type PASS`: the password as configured (at most 8 bytes are used).
        public var authPassword: String?
        /// Unicast peers; nil for multicast.
        public var unicastPeers: [IPv4Address]?
        /// Which VRRPv3 unicast checksums are accepted (`old_unicast_checksum`).
        public var unicastChecksum = UnicastChecksum.current

        public init(virtualRouterID: UInt8, stateMachine: VRRPStateMachine.Configuration,
                    virtualAddresses: [IPv4Address], authType: VRRPAuthType = .none,
                    authPassword: String? = nil, unicastPeers: [IPv4Address]? = nil) {
            self.virtualRouterID = virtualRouterID
            self.stateMachine = stateMachine
            self.virtualAddresses = virtualAddresses
            self.authType = authType
            self.authPassword = authPassword
            self.unicastPeers = unicastPeers
        }

        public var authenticationData: [UInt8] {
            authType == .simplePassword ? VRRPAdvertisement.passwordData(authPassword ?? "") : []
        }

        /// The receive checks this configuration implies.
        public var receivePolicy: ReceivePolicy {
            ReceivePolicy(version: stateMachine.version, virtualRouterID: virtualRouterID,
                          advertisementInterval: stateMachine.advertisementInterval,
                          authType: stateMachine.version == .v2 ? authType : .none,
                          authenticationData: authenticationData,
                          requiredTTL: 255,
                          allowedSources: unicastPeers.map(Set.init),
                          localAddresses: [stateMachine.primaryAddress],
                          alternateChecksumDestination: unicastPeers == nil || unicastChecksum == .currentOnly
                              ? nil : .vrrpMulticastGroup)
        }
    }

    public let configuration: Configuration
    public var policy: ReceivePolicy
    public private(set) var machine: VRRPStateMachine
    public private(set) var counters = VRRPCounters()
    /// The source of the last advertisement accepted from another router: the MASTER
    /// as this router sees it.
    public private(set) var lastHeardFrom: IPv4Address?
    /// The priority of the last valid advertisement heard (the core's rx-lower-pri check).
    public private(set) var lastHeardPriority: UInt8 = 0
    /// Set for authenticated advertisements (`auth_type HMAC_SHA256`): every packet must
    /// pass it (which cuts its trailer off) before the VRRP checks; its replay memory
    /// lives here, in the router's value, as the rest of its state does.
    public var authenticator: (any AdvertisementAuthenticator)?

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.policy = configuration.receivePolicy
        self.machine = VRRPStateMachine(configuration: configuration.stateMachine)
    }

    public var state: VRRPStateMachine.State { machine.state }

    /// The advertisement this router sends with `priority` (0 when stepping down).
    public func advertisement(priority: UInt8) -> VRRPAdvertisement {
        VRRPAdvertisement(version: configuration.stateMachine.version, virtualRouterID: configuration.virtualRouterID,
                          priority: priority, advertisementInterval: configuration.stateMachine.advertisementInterval,
                          addresses: configuration.virtualAddresses, authType: configuration.authType,
                          authenticationData: configuration.authenticationData)
    }

    public mutating func handle(_ event: VRRPStateMachine.Event) -> [InstanceEffect] {
        count(machine.handle(event))
    }

    /// Checks a packet and, when it is acceptable, hands it to the state machine.
    /// Rejections are counted and returned so the caller can log them (rate-limited).
    /// `now` is the wall clock in microseconds since 1970, used by the authenticator only.
    public mutating func receive(_ packet: ReceivedPacket, now: UInt64 = 0) -> (effects: [InstanceEffect], rejection: VRRPPacketError?) {
        var packet = packet
        if var authenticator {
            if let rejection = policy.sourceRejection(packet) {
                counters.rejected[rejection.reason, default: 0] += 1
                return ([], rejection)
            }
            let opened = authenticator.open(packet, now: now)
            self.authenticator = authenticator
            switch opened {
            case .failure(let error):
                counters.rejected[error.reason, default: 0] += 1
                return ([], error)
            case .success(let inner):
                packet = inner
            }
        }
        switch policy.check(packet) {
        case .failure(let error):
            counters.rejected[error.reason, default: 0] += 1
            return ([], error)
        case .success(let advertisement):
            counters.advertisementsReceived += 1
            if advertisement.priority == 0 { counters.priorityZeroReceived += 1 }
            lastHeardFrom = packet.source
            lastHeardPriority = advertisement.priority
            let heard = VRRPStateMachine.Heard(priority: advertisement.priority,
                                               advertisementInterval: advertisement.advertisementInterval,
                                               source: packet.source)
            return (count(machine.handle(.advertisementReceived(heard))), nil)
        }
    }

    private mutating func count(_ effects: [InstanceEffect]) -> [InstanceEffect] {
        for effect in effects {
            switch effect {
            case .sendAdvertisement(let priority):
                counters.advertisementsSent += 1
                if priority == 0 { counters.priorityZeroSent += 1 }
            case .transition(_, let to):
                counters.transitions += 1
                if to == .master { counters.becameMaster += 1; lastHeardFrom = nil }
            default:
                break
            }
        }
        return effects
    }
}

extension VirtualRouter {
    /// Counts a packet the transport could not even hand over (bad IP header).
    public mutating func countRejection(_ reason: VRRPRejection) {
        counters.rejected[reason, default: 0] += 1
    }
}
