import Foundation
import LinuxNet
import NetworkTypes
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// Stock keepalived on a VPC that delivers by IP. keepalived in multicast mode hears only
/// advertisements addressed to 224.0.0.18, and such a VPC carries only copies addressed
/// to each node (`l3`). The restorer receives the copies from peers (a raw VRRP socket
/// bound to this node's address), puts the group address and checksums back
/// (`Replicator.restored`), and sends each through the multicast loopback: the local
/// keepalived receives it on the interface, TTL 255 and the peer's source intact, as if
/// the VPC had carried multicast. The looped packet also leaves on the wire, where the
/// VPC drops it as multicast; the replicator beside it copies only this node's own.
public final class GroupRestorer: @unchecked Sendable {
    public struct Counters: Sendable, Hashable {
        public var restored = 0
        /// VRRP packets addressed here that were not a peer's copy (left alone).
        public var ignored = 0
        public var sendErrors = 0
    }

    public let interface: String
    private let peers: Set<IPv4Address>
    private let receiver: VRRPSocket
    private let sender: RawIPSocket
    private let lock = NSLock()
    private var counters = Counters()
    private var stopped = false

    public init(interface: String, peers: [IPv4Address]) throws {
        let netlink = try NetlinkSocket(.route)
        guard let link = try netlink.link(named: interface) else { throw TransportError("restore: interface \(interface) does not exist") }
        guard let own = try netlink.addresses(interfaceIndex: link.index).first(where: { $0.scope == 0 })?.address else {
            throw TransportError("restore: \(interface) has no IPv4 address")
        }
        self.interface = interface
        self.peers = Set(peers)
        receiver = try VRRPSocket(.init(interfaceName: interface, interfaceIndex: link.index, source: own, multicast: false))
        sender = try RawIPSocket(multicastInterfaceIndex: link.index)
    }

    public var snapshot: Counters { lock.withLock { counters } }

    public func start() {
        Thread.named("restore") { [self] in run() }.start()
    }

    public func stop() { lock.withLock { stopped = true } }

    private func run() {
        while !lock.withLock({ stopped }) {
            guard let packet = try? receiver.receive(timeoutMilliseconds: 200) else { continue }
            guard packet.count >= 20, peers.contains(IPv4Address(packet[12], packet[13], packet[14], packet[15])),
                  let restored = Replicator.restored(packet) else {
                lock.withLock { counters.ignored += 1 }
                continue
            }
            do {
                try sender.send(restored, to: .vrrpMulticastGroup)
                lock.withLock { counters.restored += 1 }
            } catch {
                lock.withLock { counters.sendErrors += 1 }
            }
        }
    }
}
