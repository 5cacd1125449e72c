import NetworkTypes
import Testing
import Transports
@testable import VRRP

/// keepalived's `old_unicast_checksum [never]`: what a unicast VRRPv3 advertisement's
/// checksum covers when sent, and which forms the receiver takes.
@Suite struct UnicastChecksumTests {
    static let me = IPv4Address(10, 0, 0, 1), peer = IPv4Address(10, 0, 0, 2)

    static func router(_ checksum: UnicastChecksum) -> VirtualRouter.Configuration {
        var configuration = VirtualRouter.Configuration(
            virtualRouterID: 9, stateMachine: .init(version: .v3, priority: 100, advertisementInterval: .seconds(1), primaryAddress: me),
            virtualAddresses: [IPv4Address(10, 0, 0, 9)], unicastPeers: [peer])
        configuration.unicastChecksum = checksum
        return configuration
    }

    /// What `peer` sends to `me` with its setting.
    static func sent(_ checksum: UnicastChecksum) throws -> ReceivedPacket {
        let ad = VRRPAdvertisement(version: .v3, virtualRouterID: 9, priority: 120, advertisementInterval: .seconds(1),
                                   addresses: [IPv4Address(10, 0, 0, 9)])
        let payload = try ad.encoded(pseudoHeader: UnicastTransport.pseudoHeader(from: peer, to: me, checksum))
        return ReceivedPacket(payload: payload, source: peer, destination: me, timeToLive: 255)
    }

    @Test func theOldFormCoversTheGroupAndTheCurrentOneThePeer() throws {
        #expect(UnicastTransport.pseudoHeader(from: Self.peer, to: Self.me, .old).destination == .vrrpMulticastGroup)
        #expect(UnicastTransport.pseudoHeader(from: Self.peer, to: Self.me, .current).destination == Self.me)
        #expect(UnicastTransport.pseudoHeader(from: Self.peer, to: Self.me, .currentOnly).destination == Self.me)
        #expect(try Self.sent(.old).payload != Self.sent(.current).payload)
    }

    @Test func bothFormsAreTakenUnlessNever() throws {
        for receiver in [UnicastChecksum.current, .old] {
            #expect(throws: Never.self) { try Self.router(receiver).receivePolicy.check(Self.sent(.old)).get() }
            #expect(throws: Never.self) { try Self.router(receiver).receivePolicy.check(Self.sent(.current)).get() }
        }
        let strict = Self.router(.currentOnly).receivePolicy
        #expect(throws: Never.self) { try strict.check(Self.sent(.current)).get() }
        guard case .failure(let error) = strict.check(try Self.sent(.old)) else {
            Issue.record("the old checksum was taken with old_unicast_checksum never")
            return
        }
        #expect(error.reason == .badChecksum)
    }
}
