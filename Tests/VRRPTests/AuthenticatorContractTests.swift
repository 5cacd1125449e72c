import NetworkTypes
import Testing
@testable import VRRP

/// The core's side of authentication, with a stand-in scheme (the HMAC one is tested in
/// VRRPAuthenticationTests): sources that are not peers never reach the authenticator,
/// its rejections are counted under their reason, what it opens still passes every VRRP
/// check, and its replay memory lasts from one packet to the next.
@Suite struct AuthenticatorContractTests {
    /// Appends the sequence's low byte and a tag; opens a payload with the tag and a
    /// sequence byte above the last one it accepted.
    struct TaggingAuthenticator: AdvertisementAuthenticator {
        static let tag: UInt8 = 0xA5
        var opened = 0
        var lastSequence: UInt8 = 0

        func seal(_ message: [UInt8], source: IPv4Address, sequence: UInt64) -> [UInt8] {
            message + [UInt8(truncatingIfNeeded: sequence), Self.tag]
        }

        mutating func open(_ packet: ReceivedPacket, now: UInt64) -> Result<ReceivedPacket, VRRPPacketError> {
            opened += 1
            let payload = packet.payload
            guard payload.count >= 2, payload.last == Self.tag else { return .failure(VRRPPacketError(.authFailure, "no tag")) }
            let sequence = payload[payload.count - 2]
            guard sequence > lastSequence else { return .failure(VRRPPacketError(.replayed, "sequence \(sequence)")) }
            lastSequence = sequence
            var inner = packet
            inner.payload.removeLast(2)
            return .success(inner)
        }
    }

    static func router() -> VirtualRouter {
        var r = ReceivePolicyTests.router(.v3, password: nil)
        r.authenticator = TaggingAuthenticator()
        return r
    }

    static func sealed(sequence: UInt64, from source: IPv4Address = ReceivePolicyTests.peer, vrid: UInt8 = 51) -> ReceivedPacket {
        var packet = ReceivePolicyTests.packet(.v3, from: source, vrid: vrid)
        packet.payload = TaggingAuthenticator().seal(packet.payload, source: source, sequence: sequence)
        return packet
    }

    static func tagging(_ r: VirtualRouter) -> TaggingAuthenticator? { r.authenticator as? TaggingAuthenticator }

    @Test func anOpenedAdvertisementReachesTheStateMachineAndTheMemoryIsKept() {
        var r = Self.router()
        #expect(r.receive(Self.sealed(sequence: 1)).rejection == nil)
        #expect(r.counters.advertisementsReceived == 1)
        #expect(Self.tagging(r)?.lastSequence == 1)
        #expect(r.receive(Self.sealed(sequence: 1)).rejection?.reason == .replayed)
        #expect(r.receive(ReceivePolicyTests.packet(.v3)).rejection?.reason == .authFailure)
        #expect(r.counters.rejected == [.replayed: 1, .authFailure: 1])
        #expect(Self.tagging(r)?.opened == 3)
    }

    @Test func strangersAreDroppedBeforeTheAuthenticatorIsAsked() {
        var r = Self.router()
        #expect(r.receive(Self.sealed(sequence: 1, from: ReceivePolicyTests.stranger)).rejection?.reason == .unknownSource)
        #expect(Self.tagging(r)?.opened == 0)
    }

    @Test func whatTheAuthenticatorOpensStillPassesTheVRRPChecks() {
        var r = Self.router()
        #expect(r.receive(Self.sealed(sequence: 1, vrid: 52)).rejection?.reason == .otherVirtualRouter)
        #expect(r.counters.advertisementsReceived == 0)
    }

    @Test func withoutAnAuthenticatorATrailerIsPartOfThePacket() {
        var r = ReceivePolicyTests.router(.v3, password: nil)
        #expect(r.receive(Self.sealed(sequence: 1)).rejection != nil)
        #expect(r.receive(ReceivePolicyTests.packet(.v3)).rejection == nil)
    }
}
