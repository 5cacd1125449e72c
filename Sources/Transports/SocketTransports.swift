import LinuxNet
import NetworkTypes
import VRRP

/// Transport 1: one copy of each advertisement to every `unicast_peer`, from
/// `unicast_src_ip`, with `unicast_ttl` (keepalived's unicast mode). The checksum's
/// pseudo-header carries each peer's address, as keepalived 2.2.7 computes it, or the
/// multicast group with `old_unicast_checksum`.
public final class UnicastTransport: VRRPTransport {
    public let kind = "unicast"
    public let peers: [IPv4Address]
    private let lanes: ReceiveLanes
    private var socket: VRRPSocket { lanes.main }
    private let sealer: AdvertisementSealer?
    private let checksum: UnicastChecksum

    /// `expected`: the instance's receive checks, for the in-kernel split of its peers'
    /// advertisements from everything else (nil: one socket takes all).
    public init(interfaceName: String, interfaceIndex: Int32, source: IPv4Address, peers: [IPv4Address], ttl: UInt8 = 255,
                checksum: UnicastChecksum = .current, siblingRouterIDs: [UInt8] = [], sealer: AdvertisementSealer? = nil,
                expected: ReceivePolicy? = nil) throws(TransportError) {
        self.peers = peers
        self.sealer = sealer
        self.checksum = checksum
        do {
            lanes = try ReceiveLanes(.init(interfaceName: interfaceName, interfaceIndex: interfaceIndex, source: source,
                                           ttl: ttl, multicast: false, siblingRouterIDs: siblingRouterIDs), expected: expected)
        } catch {
            throw TransportError("unicast transport on \(interfaceName): \(error)")
        }
    }

    public var descriptor: Int32 { socket.descriptor }
    public var otherDescriptor: Int32? { lanes.other?.descriptor }
    public var sourceAddress: IPv4Address { socket.options.source }
    public var counters: [String: Int] { lanes.counters }
    public func receiveOther() -> ReceivedFrame? { lanes.receiveOther() }

    public func send(_ advertisement: VRRPAdvertisement) throws(TransportError) {
        var failures: [String] = []
        for peer in peers {
            do {
                let payload = try advertisement.encoded(pseudoHeader: Self.pseudoHeader(from: sourceAddress, to: peer, checksum))
                try socket.send(sealer?.seal(payload, source: sourceAddress) ?? payload, to: peer)
            } catch {
                failures.append("\(peer): \(error)")
            }
        }
        if !failures.isEmpty { throw TransportError("sending to " + failures.joined(separator: "; ")) }
    }

    /// The pseudo-header of the VRRPv3 checksum sent to `peer` (VRRPv2's checksum has none).
    public static func pseudoHeader(from source: IPv4Address, to peer: IPv4Address, _ checksum: UnicastChecksum) -> PseudoHeader {
        PseudoHeader(source: source, destination: checksum == .old ? .vrrpMulticastGroup : peer)
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
    private let lanes: ReceiveLanes
    private var socket: VRRPSocket { lanes.main }
    private let sealer: AdvertisementSealer?

    public init(kind: String = "multicast", interfaceName: String, interfaceIndex: Int32, source: IPv4Address,
                siblingRouterIDs: [UInt8] = [], sealer: AdvertisementSealer? = nil,
                expected: ReceivePolicy? = nil) throws(TransportError) {
        self.kind = kind
        self.sealer = sealer
        do {
            lanes = try ReceiveLanes(.init(interfaceName: interfaceName, interfaceIndex: interfaceIndex, source: source,
                                           ttl: 255, multicast: true, siblingRouterIDs: siblingRouterIDs), expected: expected)
        } catch {
            throw TransportError("\(kind) transport on \(interfaceName): \(error)")
        }
    }

    public var descriptor: Int32 { socket.descriptor }
    public var otherDescriptor: Int32? { lanes.other?.descriptor }
    public var sourceAddress: IPv4Address { socket.options.source }
    public var counters: [String: Int] { lanes.counters }
    public func receiveOther() -> ReceivedFrame? { lanes.receiveOther() }

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

/// The sockets a transport reads. With the instance's receive checks known, two raw
/// sockets split the traffic in the kernel (`LaneFilter`): `main` takes only what
/// could be its peers' advertisements, `other` everything else. The event loop reads
/// `main` first and `other` within a budget, so a flood of packets that fail the
/// prefilter fills only `other`'s queue and can neither delay nor crowd out a real
/// advertisement; what overflows is still counted (`queue_drops_other`).
final class ReceiveLanes: @unchecked Sendable {
    let main: VRRPSocket
    let other: VRRPSocket?

    init(_ options: VRRPSocket.Options, expected: ReceivePolicy?) throws(SystemCallError) {
        guard let expected else {
            main = try VRRPSocket(options)
            other = nil
            return
        }
        var mainOptions = options, otherOptions = options
        mainOptions.filter = LaneFilter.expected(expected).program
        otherOptions.filter = LaneFilter.unexpected(expected, siblings: options.siblingRouterIDs).program
        main = try VRRPSocket(mainOptions)
        other = try VRRPSocket(otherOptions)
    }

    func receiveOther() -> ReceivedFrame? {
        guard let bytes = try? other?.receive(timeoutMilliseconds: 0) else { return nil }
        return UnicastTransport.frame(fromIPv4: bytes)
    }

    var counters: [String: Int] {
        var result = ["queue_drops": main.queueDrops]
        if let other { result["queue_drops_other"] = other.queueDrops }
        return result
    }
}
