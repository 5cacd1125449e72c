import MonotonicTime
import Foundation
import LinuxNet
import NetworkTypes
import PacketCapture
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// Capture-and-replicate: multicast emulation for networks that drop multicast. It
/// captures this node's outgoing VRRP frames to 224.0.0.18 (libpcap, immediate mode,
/// outgoing only) and injects one copy per peer, addressed to the peer's MAC:
/// - `l2` keeps 224.0.0.18 as the IP destination: Linux accepts a multicast IP packet
///   inside a frame sent to its own MAC, so stock keepalived in multicast mode hears it;
/// - `l3` rewrites the IP destination to the peer's address and recomputes the IP header
///   checksum and the VRRPv3 checksum (its pseudo-header holds the destination).
/// With `auth_type HMAC_SHA256` an l3 copy is sealed again: the HMAC covers the VRRPv3
/// checksum, which the new destination changes.
/// Copies carry a unicast destination MAC, which the capture filter excludes: a copy is
/// never replicated again. A peer whose MAC is not known yet is asked for by ARP and
/// reported, never silently skipped.
public final class Replicator: @unchecked Sendable {
    public enum Mode: String, Sendable { case l2, l3 }

    public struct Counters: Sendable, Codable, Hashable {
        public var captured = 0
        public var copiesSent = 0
        public var notReplicated = 0
        public var injectErrors = 0
        /// Frames that could not be copied to a peer because its MAC was unknown.
        public var peerUnknown: [String: Int] = [:]
    }

    public static let vrrpMulticastMAC: [UInt8] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x12]

    public let interface: String
    public let peers: [IPv4Address]
    public let mode: Mode
    private let capture: LiveCapture
    private let interfaceIndex: Int32
    private let source: IPv4Address
    private let arp: ARPSocket?
    private let staticMACs: [IPv4Address: [UInt8]]
    private let log: @Sendable (String) -> Void
    /// Seals l3 copies again (`auth_type HMAC_SHA256`).
    private let sealer: AdvertisementSealer?

    private let lock = NSLock()
    private var counters = Counters()
    private var macs: [IPv4Address: [UInt8]] = [:]
    /// MACs seen in ARP frames from peers (answers to our requests, their requests).
    private var heard: [IPv4Address: [UInt8]] = [:]
    private var lastNeighbourRead = 0.0
    private var lastReported: [IPv4Address: Double] = [:]
    private var stopped = false

    /// `staticMACs`: peers whose MAC is given in the configuration. `ownSourceOnly`
    /// copies only what this node sends from its own address (beside a `GroupRestorer`,
    /// whose restored packets carry the peer's address and go out too).
    public init(interface: String, peers: [IPv4Address], mode: Mode, staticMACs: [IPv4Address: [UInt8]] = [:],
                ownSourceOnly: Bool = false, sealer: AdvertisementSealer? = nil,
                log: @escaping @Sendable (String) -> Void = { _ in }) throws {
        let netlink = try NetlinkSocket(.route)
        guard let link = try netlink.link(named: interface) else {
            throw TransportError("replicate: interface \(interface) does not exist")
        }
        guard link.hardwareAddress.count == 6 else { throw TransportError("replicate: \(interface) has no Ethernet address") }
        let own = try netlink.addresses(interfaceIndex: link.index).first { $0.scope == 0 }
        self.interface = interface
        self.peers = peers
        self.mode = mode
        self.interfaceIndex = link.index
        self.source = own?.address ?? IPv4Address(0)
        self.staticMACs = staticMACs
        self.log = log
        self.sealer = sealer
        self.arp = try? ARPSocket(interfaceIndex: link.index, hardwareAddress: link.hardwareAddress)
        let mac = link.hardwareAddress.map { String(format: "%02x", $0) }.joined(separator: ":")
        let ownOnly = ownSourceOnly ? " and ip src \(source)" : ""
        capture = try LiveCapture(interface: interface,
                                  filter: "ether src \(mac) and ether dst 01:00:5e:00:00:12 and ip proto 112\(ownOnly)")
    }

    public var snapshot: Counters { lock.withLock { counters } }

    /// Runs until `stop`. The thread is not kept: it holds this replicator until it ends,
    /// and a replicator holding its thread back was a cycle that kept every stopped one
    /// (its capture's socket and buffer) for good: an instance restarted by each reload
    /// leaked 2 MiB and a file each time (the fault soak, seed 502).
    public func start() {
        Thread.named("replicate") { [self] in run() }.start()
    }

    public func stop() { lock.withLock { stopped = true } }

    private func run() {
        refreshNeighbours(force: true)
        let peerSet = Set(peers)
        while !lock.withLock({ stopped }) {
            var fds = [pollfd(fd: capture.selectableDescriptor, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: arp?.descriptor ?? -1, events: Int16(POLLIN), revents: 0)]
            _ = poll(&fds, 2, 200)
            while let (ip, mac) = arp?.receiveSender() {
                if peerSet.contains(ip) && mac.count == 6 && lock.withLock({ heard[ip] != mac }) {
                    lock.withLock { heard[ip] = mac; macs[ip] = macs[ip] ?? mac }
                }
            }
            while let frame = capture.next() { replicate(frame) }
            refreshNeighbours(force: false)
        }
    }

    /// Re-reads the neighbour table at most once a second, and asks by ARP for peers
    /// still unknown.
    private func refreshNeighbours(force: Bool) {
        let now = MonotonicClock.seconds
        guard force || now - lastNeighbourRead >= 1 else { return }
        lastNeighbourRead = now
        let table = (try? NetlinkSocket(.route).neighbours(interfaceIndex: interfaceIndex)) ?? [:]
        var known = staticMACs
        let heard = lock.withLock { self.heard }
        for peer in peers where known[peer] == nil { known[peer] = table[peer] ?? heard[peer] }
        lock.withLock { macs = known }
        for peer in peers where known[peer] == nil {
            try? arp?.request(peer, from: source)
        }
    }

    /// The copies of one captured frame, one per peer with a known MAC. `reseal` (with
    /// HMAC) takes an l3 copy's VRRP message, its checksum made for the peer, and returns
    /// the message with a new trailer, which replaces the captured one.
    public static func copies(of frame: [UInt8], mode: Mode, peers: [(IPv4Address, [UInt8])],
                              reseal: (([UInt8], IPv4Address) -> [UInt8])? = nil) -> [[UInt8]]? {
        guard frame.count >= 14 + 20, frame[12] == 0x08, frame[13] == 0x00,
              let packet = try? IPv4Packet(parsing: frame[14...]),
              packet.header.protocolNumber == VRRPAdvertisement.ipProtocolNumber,
              packet.header.destination == .vrrpMulticastGroup else { return nil }
        let source = Array(frame[6..<12])
        return peers.map { peer, mac in
            let ip = mode == .l3 ? readdressed(packet, to: peer, reseal: reseal) : Array(frame[14...])
            return mac + source + [0x08, 0x00] + ip
        }
    }

    /// An l3 copy received from a peer (an IPv4 packet addressed to this node) as the
    /// multicast it was: 224.0.0.18 again, both checksums recomputed. Byte for byte the
    /// packet the peer sent before it was copied. Nil for anything else.
    public static func restored(_ bytes: [UInt8]) -> [UInt8]? {
        guard let packet = try? IPv4Packet(parsing: bytes[...]), packet.header.protocolNumber == VRRPAdvertisement.ipProtocolNumber,
              packet.header.destination != .vrrpMulticastGroup else { return nil }
        return readdressed(packet, to: .vrrpMulticastGroup)
    }

    /// `packet` sent to `destination`: the IP header's and VRRPv3's checksums (whose
    /// pseudo-header holds the destination) recomputed; VRRPv2 has none over addresses.
    /// An HMAC trailer after the message is kept, or with `reseal` replaced by a new one
    /// over the message as it now is.
    static func readdressed(_ packet: IPv4Packet, to destination: IPv4Address,
                            reseal: (([UInt8], IPv4Address) -> [UInt8])? = nil) -> [UInt8] {
        var packet = packet
        packet.header.destination = destination
        var payload = packet.payload
        let messageEnd = payload.count >= 8 ? min(payload.count, 8 + 4 * Int(payload[3])) : payload.count
        if payload.count >= 8, payload[0] >> 4 == 3 {
            payload[6] = 0
            payload[7] = 0
            // The checksum covers the VRRP message only, not an HMAC trailer after it.
            let sum = VRRPAdvertisement.checksum(payload[..<messageEnd], version: .v3,
                                                 pseudoHeader: PseudoHeader(source: packet.header.source, destination: destination))
            payload[6] = UInt8(sum >> 8)
            payload[7] = UInt8(truncatingIfNeeded: sum)
        }
        if let reseal { payload = reseal(Array(payload[..<messageEnd]), packet.header.source) }
        return IPv4Packet(header: packet.header, payload: payload).encoded()
    }

    private func replicate(_ frame: [UInt8]) {
        let known = lock.withLock { macs }
        let targets = peers.compactMap { peer in known[peer].map { (peer, $0) } }
        let unknown = peers.filter { known[$0] == nil }
        let reseal = sealer.map { sealer in { (message: [UInt8], source: IPv4Address) in sealer.seal(message, source: source) } }
        guard let copies = Self.copies(of: frame, mode: mode, peers: targets, reseal: reseal) else {
            lock.withLock { counters.notReplicated += 1 }
            return
        }
        var sent = 0, errors = 0
        for copy in copies {
            do { try capture.inject(copy); sent += 1 } catch { errors += 1 }
        }
        let now = MonotonicClock.seconds
        var report: [IPv4Address] = []
        lock.withLock {
            counters.captured += 1
            counters.copiesSent += sent
            counters.injectErrors += errors
            for peer in unknown {
                counters.peerUnknown[peer.description, default: 0] += 1
                if now - (lastReported[peer] ?? 0) >= 10 { lastReported[peer] = now; report.append(peer) }
            }
        }
        for peer in report { log("replicate: MAC of peer \(peer) unknown on \(interface); its copy was not sent (asking by ARP)") }
    }
}

/// Transport 3: VRRP sent as multicast on the interface, with a `Replicator` copying
/// each advertisement to every peer. Receiving is multicast receiving: l2 copies arrive
/// addressed to 224.0.0.18, l3 copies to this node's address; both reach the socket.
public final class ReplicateTransport: VRRPTransport {
    public let kind = "replicate"
    private let multicast: MulticastTransport
    public let replicator: Replicator

    public init(interfaceName: String, interfaceIndex: Int32, source: IPv4Address, peers: [IPv4Address],
                mode: Replicator.Mode, siblingRouterIDs: [UInt8] = [], sealer: AdvertisementSealer? = nil,
                expected: ReceivePolicy? = nil, log: @escaping @Sendable (String) -> Void) throws {
        multicast = try MulticastTransport(kind: "replicate", interfaceName: interfaceName, interfaceIndex: interfaceIndex, source: source,
                                           siblingRouterIDs: siblingRouterIDs, sealer: sealer, expected: expected)
        replicator = try Replicator(interface: interfaceName, peers: peers, mode: mode, sealer: sealer, log: log)
        replicator.start()
    }

    deinit { replicator.stop() }

    public var descriptor: Int32 { multicast.descriptor }
    public var sourceAddress: IPv4Address { multicast.sourceAddress }
    public func send(_ advertisement: VRRPAdvertisement) throws(TransportError) { try multicast.send(advertisement) }
    public func receive() -> ReceivedFrame? { multicast.receive() }
    public var otherDescriptor: Int32? { multicast.otherDescriptor }
    public func receiveOther() -> ReceivedFrame? { multicast.receiveOther() }

    public var counters: [String: Int] {
        let c = replicator.snapshot
        var result = multicast.counters
        result["replicate_captured"] = c.captured
        result["replicate_copies_sent"] = c.copiesSent
        result["replicate_inject_errors"] = c.injectErrors
        for (peer, count) in c.peerUnknown { result["replicate_peer_unknown_\(peer)"] = count }
        return result
    }
}
