import NetworkTypes
import VRRP

/// What a transport took off the wire: a packet with its IP facts, or the reason its
/// IP layer could not be read (counted like any other rejection).
public enum ReceivedFrame: Sendable, Hashable {
    case packet(ReceivedPacket)
    case malformed(VRRPPacketError)
}

/// A failure to send, with what was being sent where.
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Moves VRRP messages between the routers of one virtual router. The VRRP engine does
/// not know which transport carries it: unicast to peers, multicast on a GRE overlay,
/// or multicast replicated to each peer's MAC. Everything else (addresses, ARP, IPVS,
/// routes, scripts) is the same whatever the transport.
///
/// Transports are driven by one event loop per instance: it waits until `descriptor`
/// is readable, then calls `receive()` until it returns nil.
public protocol VRRPTransport: AnyObject, Sendable {
    /// `unicast`, `multicast`, `gre`, `replicate`: for logs and status.
    var kind: String { get }
    /// A file descriptor that becomes readable when a frame waits.
    var descriptor: Int32 { get }
    /// The address this router sends from: the tie-break address of the state machine.
    var sourceAddress: IPv4Address { get }
    /// Sends one advertisement to every router this transport reaches, encoded per
    /// destination (the v3 checksum covers the destination address).
    func send(_ advertisement: VRRPAdvertisement) throws(TransportError)
    /// One received frame, or nil when none waits. Never blocks.
    func receive() -> ReceivedFrame?
    /// The second lane, when the transport splits its traffic in the kernel: readable when
    /// a packet waits that the prefilter says cannot be a peer's advertisement. The loop
    /// reads it after `descriptor` and within a budget (see `ReceiveLanes`).
    var otherDescriptor: Int32? { get }
    /// One frame of the second lane, or nil. Never blocks.
    func receiveOther() -> ReceivedFrame?
    /// The transport's own counters for `overcast status` (e.g. the replicator's).
    var counters: [String: Int] { get }
}

extension VRRPTransport {
    public var counters: [String: Int] { [:] }
    public var otherDescriptor: Int32? { nil }
    public func receiveOther() -> ReceivedFrame? { nil }
}

extension VRRPTransport {
    /// Decodes the IPv4 packet a raw socket returned into what the receive checks need.
    public static func frame(fromIPv4 bytes: [UInt8]) -> ReceivedFrame {
        do {
            let packet = try IPv4Packet(parsing: bytes)
            guard packet.header.protocolNumber == VRRPAdvertisement.ipProtocolNumber else {
                return .malformed(VRRPPacketError(.notVRRP, "IP protocol \(packet.header.protocolNumber)"))
            }
            guard !packet.header.isFragment else {
                return .malformed(VRRPPacketError(.badIPHeader, "fragmented packet from \(packet.header.source)"))
            }
            return .packet(ReceivedPacket(payload: packet.payload, source: packet.header.source,
                                          destination: packet.header.destination, timeToLive: packet.header.timeToLive))
        } catch {
            return .malformed(error)
        }
    }
}
