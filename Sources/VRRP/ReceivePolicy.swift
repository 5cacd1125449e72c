import NetworkTypes
/// A VRRP message as a transport hands it over: the IP payload and the IP facts the
/// checks need. Transports fill this in however they received the packet (raw socket,
/// capture, overlay, or the in-memory network).
public struct ReceivedPacket: Hashable, Sendable {
    public var payload: [UInt8]
    public var source: IPv4Address
    public var destination: IPv4Address
    public var timeToLive: UInt8

    public init(payload: [UInt8], source: IPv4Address, destination: IPv4Address, timeToLive: UInt8) {
        self.payload = payload
        self.source = source
        self.destination = destination
        self.timeToLive = timeToLive
    }
}

/// What a virtual router accepts: the receive-side checks of RFC 3768 §7.1 and RFC 5798
/// §7.1 that depend on the receiver, plus Overcast's source filter for unicast peers.
/// The codec checks the packet; this checks the context.
public struct ReceivePolicy: Hashable, Sendable {
    public var version: VRRPVersion
    public var virtualRouterID: UInt8
    /// The locally configured interval: VRRPv2 discards a packet whose interval differs.
    public var advertisementInterval: Centiseconds
    public var authType: VRRPAuthType
    /// The 8 bytes expected for `auth_type PASS` (see `VRRPAdvertisement.passwordData`).
    public var authenticationData: [UInt8]
    /// 255 when the advertisements must come from the same link (multicast, and unicast
    /// by default); nil where peers sit behind routers and TTL is configured otherwise.
    public var requiredTTL: UInt8?
    /// The configured unicast peers; nil accepts any source (multicast).
    public var allowedSources: Set<IPv4Address>?
    /// This router's own addresses: its own advertisements looped back are ignored.
    public var localAddresses: Set<IPv4Address>
    /// A second pseudo-header destination to accept a v3 checksum for. keepalived
    /// (`unicast_chksum_compat`) and older releases computed the unicast checksum with
    /// the multicast group as destination; listing it keeps interop with them.
    public var alternateChecksumDestination: IPv4Address?

    public init(version: VRRPVersion, virtualRouterID: UInt8, advertisementInterval: Centiseconds,
                authType: VRRPAuthType = .none, authenticationData: [UInt8] = [],
                requiredTTL: UInt8? = 255, allowedSources: Set<IPv4Address>? = nil,
                localAddresses: Set<IPv4Address> = [], alternateChecksumDestination: IPv4Address? = nil) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.advertisementInterval = advertisementInterval
        self.authType = authType
        self.authenticationData = authenticationData
        self.requiredTTL = requiredTTL
        self.allowedSources = allowedSources
        self.localAddresses = localAddresses
        self.alternateChecksumDestination = alternateChecksumDestination
    }

    /// Decodes `packet` and applies every check, in the RFC's order where it gives one.
    public func check(_ packet: ReceivedPacket) -> Result<VRRPAdvertisement, VRRPPacketError> {
        if let rejection = sourceRejection(packet) { return .failure(rejection) }
        if let ttl = requiredTTL, packet.timeToLive != ttl {
            return .failure(VRRPPacketError(.badTTL, "TTL \(packet.timeToLive), expected \(ttl)"))
        }
        let advertisement: VRRPAdvertisement
        do {
            advertisement = try VRRPAdvertisement(parsingUnchecked: packet.payload)
        } catch {
            return .failure(error)
        }
        guard advertisement.version == version else {
            return .failure(VRRPPacketError(.versionMismatch, "\(advertisement.version), configured \(version)"))
        }
        let pseudo = PseudoHeader(source: packet.source, destination: packet.destination)
        if !VRRPAdvertisement.checksumIsValid(packet.payload, version: version, pseudoHeader: pseudo) {
            let compat = alternateChecksumDestination.map {
                VRRPAdvertisement.checksumIsValid(packet.payload, version: version,
                                                  pseudoHeader: PseudoHeader(source: packet.source, destination: $0))
            } ?? false
            if !compat {
                return .failure(VRRPPacketError(.badChecksum, "checksum does not verify"))
            }
        }
        guard advertisement.virtualRouterID == virtualRouterID else {
            return .failure(VRRPPacketError(.otherVirtualRouter,
                                            "VRID \(advertisement.virtualRouterID), this router is \(virtualRouterID)"))
        }
        if version == .v2 {
            guard advertisement.authType == authType else {
                return .failure(VRRPPacketError(.authTypeMismatch,
                                                "auth type \(advertisement.authType), configured \(authType)"))
            }
            if authType == .simplePassword && advertisement.authenticationData != authenticationData {
                return .failure(VRRPPacketError(.authFailure, "password does not match"))
            }
            guard advertisement.advertisementInterval == advertisementInterval else {
                return .failure(VRRPPacketError(.intervalMismatch,
                    "interval \(advertisement.advertisementInterval), configured \(advertisementInterval)"))
            }
        }
        return .success(advertisement)
    }

    /// The checks on the source address alone: cheap, so they run before anything that
    /// costs (an HMAC) on packets a flood could forge.
    public func sourceRejection(_ packet: ReceivedPacket) -> VRRPPacketError? {
        if localAddresses.contains(packet.source) {
            return VRRPPacketError(.ownAdvertisement, "from own address \(packet.source)")
        }
        if let allowed = allowedSources, !allowed.contains(packet.source) {
            return VRRPPacketError(.unknownSource, "source \(packet.source) is not a configured peer")
        }
        return nil
    }
}
