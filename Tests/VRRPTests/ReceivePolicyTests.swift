import NetworkTypes
import Testing
@testable import VRRP

@Suite struct ReceivePolicyTests {
    static let me = IPv4Address(172, 31, 18, 163)
    static let peer = IPv4Address(172, 31, 18, 164)
    static let stranger = IPv4Address(172, 31, 18, 99)

    static func router(_ version: VRRPVersion = .v2, password: String? = "1111", unicast: Bool = true) -> VirtualRouter {
        let machine = VRRPStateMachine.Configuration(version: version, priority: 100, advertisementInterval: .seconds(1),
                                                     primaryAddress: me)
        return VirtualRouter(configuration: VirtualRouter.Configuration(
            virtualRouterID: 51, stateMachine: machine, virtualAddresses: [IPv4Address(192, 168, 20, 11)],
            authType: password == nil ? .none : .simplePassword, authPassword: password,
            unicastPeers: unicast ? [peer] : nil))
    }

    /// A packet from `source` as a peer with the same configuration would send it, then
    /// changed by `edit`.
    static func packet(_ version: VRRPVersion = .v2, from source: IPv4Address = peer, to destination: IPv4Address = me,
                       ttl: UInt8 = 255, password: String = "1111", interval: Centiseconds = .seconds(1),
                       vrid: UInt8 = 51, edit: (inout VRRPAdvertisement) -> Void = { _ in }) -> ReceivedPacket {
        var ad = VRRPAdvertisement(version: version, virtualRouterID: vrid, priority: 150, advertisementInterval: interval,
                                   addresses: [IPv4Address(192, 168, 20, 11)],
                                   authType: version == .v2 ? .simplePassword : .none,
                                   authenticationData: VRRPAdvertisement.passwordData(password))
        edit(&ad)
        let payload = try! ad.encoded(pseudoHeader: PseudoHeader(source: source, destination: destination))
        return ReceivedPacket(payload: payload, source: source, destination: destination, timeToLive: ttl)
    }

    @Test func aGoodPacketIsAcceptedAndCounted() {
        var r = Self.router()
        _ = r.handle(.startup)
        let (outputs, rejection) = r.receive(Self.packet())
        #expect(rejection == nil)
        #expect(outputs == [.armTimer(.masterDown, after: r.machine.masterDownInterval)])
        #expect(r.counters.advertisementsReceived == 1)
        #expect(r.lastHeardFrom == Self.peer)
    }

    static let rejected: [(String, ReceivedPacket, VRRPRejection)] = [
        ("unknown source", packet(from: stranger), .unknownSource),
        ("own address", packet(from: me), .ownAdvertisement),
        ("TTL 254", packet(ttl: 254), .badTTL),
        ("wrong password", packet(password: "2222"), .authFailure),
        ("no auth", packet { $0.authType = .none; $0.authenticationData = Array(repeating: 0, count: 8) }, .authTypeMismatch),
        ("AH auth", packet { $0.authType = .ipAuthenticationHeader }, .authTypeMismatch),
        ("other VRID", packet(vrid: 52), .otherVirtualRouter),
        ("interval 2 s", packet(interval: .seconds(2)), .intervalMismatch),
        ("v3 to a v2 router", packet(.v3), .versionMismatch),
        ("truncated", ReceivedPacket(payload: [0x21, 51], source: peer, destination: me, timeToLive: 255), .truncated),
        ("bad checksum", { var p = packet(); p.payload[6] ^= 0x01; return p }(), .badChecksum),
    ]

    @Test(arguments: rejected.indices)
    func rejections(_ index: Int) {
        let (name, packet, reason) = Self.rejected[index]
        var r = Self.router()
        _ = r.handle(.startup)
        let (outputs, rejection) = r.receive(packet)
        #expect(rejection?.reason == reason, "\(name): \(String(describing: rejection))")
        #expect(outputs.isEmpty, "\(name) changed state")
        #expect(r.counters.rejected[reason] == 1)
        #expect(r.counters.advertisementsReceived == 0)
    }

    @Test func v3UnicastAcceptsKeepalivedsCompatChecksumToo() {
        var r = Self.router(.v3, password: nil)
        _ = r.handle(.startup)
        // Checksum computed with the multicast group, sent to the unicast address.
        var p = Self.packet(.v3)
        let ad = try! VRRPAdvertisement(parsingUnchecked: p.payload)
        p.payload = try! ad.encoded(pseudoHeader: PseudoHeader(source: Self.peer, destination: .vrrpMulticastGroup))
        #expect(r.receive(p).rejection == nil)
        // Computed with some other destination: rejected.
        p.payload = try! ad.encoded(pseudoHeader: PseudoHeader(source: Self.peer, destination: Self.stranger))
        #expect(r.receive(p).rejection?.reason == .badChecksum)
    }

    @Test func multicastRouterAcceptsAnySourceAndV3IgnoresIntervalDifferences() {
        var r = Self.router(.v3, password: nil, unicast: false)
        _ = r.handle(.startup)
        let p = Self.packet(.v3, from: Self.stranger, to: .vrrpMulticastGroup, interval: Centiseconds(50))
        #expect(r.receive(p).rejection == nil)
    }
}
