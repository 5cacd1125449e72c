import LinuxNet
import VRRP

/// Transport 1: one copy of each advertisement to every `unicast_peer`, from
/// `unicast_src_ip`, with `unicast_ttl` (keepalived's unicast mode). The checksum's
/// pseudo-header carries each peer's address, as keepalived 2.2.7 computes it.
public final class UnicastTransport: VRRPTransport {
    public let kind = "unicast"
    public let peers: [IPv4Address]
    private let socket: VRRPSocket
    private let sealer: AdvertisementSealer?

    public init(interfaceName: String, interfaceIndex: Int32, source: IPv4Address, peers: [IPv4Address], ttl: UInt8 = 255,
                siblingRouterIDs: [UInt8] = [], sealer: AdvertisementSealer? = nil) throws(TransportError) {
        self.peers = peers
        self.sealer = sealer
        do {
            socket = try VRRPSocket(.init(interfaceName: interfaceName, interfaceIndex: interfaceIndex, source: source,
                                          ttl: ttl, multicast: false, siblingRouterIDs: siblingRouterIDs))
        } catch {
            throw TransportError("unicast transport on \(interfaceName): \(error)")
        }
    }

    public var descriptor: Int32 { socket.descriptor }
    public var sourceAddress: IPv4Address { socket.options.source }

    public func send(_ advertisement: VRRPAdvertisement) throws(TransportError) {
        var failures: [String] = []
        for peer in peers {
            do {
                let payload = try advertisement.encoded(pseudoHeader: PseudoHeader(source: sourceAddress, destination: peer))
                try socket.send(sealer?.seal(payload, source: sourceAddress) ?? payload, to: peer)
            } catch {
                failures.append("\(peer): \(error)")
            }
        }
        if !failures.isEmpty { throw TransportError("sending to " + failures.joined(separator: "; ")) }
    }

    public func receive() -> ReceivedFrame? {
        guard let bytes = try? socket.receive(timeoutMilliseconds: 0) else { return nil }
        return Self.frame(fromIPv4: bytes)
    }
}

/// Multicast to 224.0.0.18 on an interface: keepalived's default on a LAN, and the GRE
/// transport on an overlay bridge where multicast works.
public final class MulticastTransport: VRRPTransport {
    public let kind: String
    private let socket: VRRPSocket
    private let sealer: AdvertisementSealer?

    public init(kind: String = "multicast", interfaceName: String, interfaceIndex: Int32, source: IPv4Address,
                siblingRouterIDs: [UInt8] = [], sealer: AdvertisementSealer? = nil) throws(TransportError) {
        self.kind = kind
        self.sealer = sealer
        do {
            socket = try VRRPSocket(.init(interfaceName: interfaceName, interfaceIndex: interfaceIndex, source: source,
                                          ttl: 255, multicast: true, siblingRouterIDs: siblingRouterIDs))
        } catch {
            throw TransportError("\(kind) transport on \(interfaceName): \(error)")
        }
    }

    public var descriptor: Int32 { socket.descriptor }
    public var sourceAddress: IPv4Address { socket.options.source }

    public func send(_ advertisement: VRRPAdvertisement) throws(TransportError) {
        do {
            let group = IPv4Address.vrrpMulticastGroup
            let payload = try advertisement.encoded(pseudoHeader: PseudoHeader(source: sourceAddress, destination: group))
            try socket.send(sealer?.seal(payload, source: sourceAddress) ?? payload, to: group)
        } catch {
            throw TransportError("sending to 224.0.0.18: \(error)")
        }
    }

    public func receive() -> ReceivedFrame? {
        guard let bytes = try? socket.receive(timeoutMilliseconds: 0) else { return nil }
        return Self.frame(fromIPv4: bytes)
    }
}
