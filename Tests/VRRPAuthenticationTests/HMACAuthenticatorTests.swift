import NetworkTypes
import Testing
import VRRP
@testable import VRRPAuthentication

/// `auth_type HMAC_SHA256` through a virtual router, as the daemon runs it.
@Suite struct HMACAuthenticatorTests {
    static let key = Array("0123456789abcdef0123456789abcdef".utf8)
    static let me = IPv4Address(172, 31, 18, 163)
    static let peer = IPv4Address(172, 31, 18, 164)
    static let stranger = IPv4Address(172, 31, 18, 99)
    static let now: UInt64 = 1_800_000_000_000_000

    /// A v3 router at `me` with `peer` as its one unicast peer.
    static func router(key: [UInt8] = key, window: Double = 30) -> VirtualRouter {
        let machine = VRRPStateMachine.Configuration(version: .v3, priority: 100, advertisementInterval: .seconds(1),
                                                     primaryAddress: me)
        var r = VirtualRouter(configuration: VirtualRouter.Configuration(
            virtualRouterID: 51, stateMachine: machine, virtualAddresses: [IPv4Address(192, 168, 20, 11)], unicastPeers: [peer]))
        r.authenticator = HMACAuthenticator(key: key, replayWindowSeconds: window)
        return r
    }

    /// The peer's v3 advertisement, unsealed.
    static func plain(from source: IPv4Address = peer) -> ReceivedPacket {
        let ad = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 150, advertisementInterval: .seconds(1),
                                   addresses: [IPv4Address(192, 168, 20, 11)])
        let payload = (try? ad.encoded(pseudoHeader: PseudoHeader(source: source, destination: me))) ?? []
        return ReceivedPacket(payload: payload, source: source, destination: me, timeToLive: 255)
    }

    /// The peer's v3 advertisement, sealed with `key` at `sequence`.
    static func sealed(key: [UInt8] = key, sequence: UInt64 = now, from source: IPv4Address = peer) -> ReceivedPacket {
        var packet = plain(from: source)
        packet.payload = HMACAuthenticator(key: key, replayWindowSeconds: 30).seal(packet.payload, source: source, sequence: sequence)
        return packet
    }

    static func hmac(_ r: VirtualRouter) -> HMACAuthenticator? { r.authenticator as? HMACAuthenticator }

    @Test func aSealedAdvertisementIsAcceptedAndItsTrailerCutOff() {
        var r = Self.router()
        let packet = Self.sealed()
        #expect(packet.payload.count == 8 + 4 + HMACAuthenticator.trailerLength)
        let (_, rejection) = r.receive(packet, now: Self.now + 200_000)
        #expect(rejection == nil)
        #expect(r.counters.advertisementsReceived == 1)
        #expect(Self.hmac(r)?.lastAccepted == [Self.peer: Self.now])
    }

    @Test func changingAnyByteOrTheSourceOrTheKeyIsRejected() {
        let packet = Self.sealed()
        for index in packet.payload.indices {
            var r = Self.router()
            var altered = packet
            altered.payload[index] ^= 0x01
            let (_, rejection) = r.receive(altered, now: Self.now)
            #expect(rejection?.reason == .authFailure, "byte \(index)")
        }
        var other = Self.router()
        // Another configured source cannot reuse the peer's packet: the MAC covers it.
        other.policy.allowedSources = [Self.peer, Self.stranger]
        var moved = packet
        moved.source = Self.stranger
        #expect(other.receive(moved, now: Self.now).rejection?.reason == .authFailure)
        var wrongKey = Self.router(key: Array("another key, also 32 bytes long!".utf8))
        #expect(wrongKey.receive(packet, now: Self.now).rejection?.description.contains("does not verify") == true)
    }

    @Test func aPacketWithoutTheTrailerSaysTheKeywordToUse() {
        var r = Self.router()
        let rejection = r.receive(Self.plain(), now: Self.now).rejection
        #expect(rejection?.reason == .authFailure)
        #expect(rejection?.detail.contains("HMAC_SHA256") == true)
        // Every truncation of a sealed packet is rejected, none traps.
        let packet = Self.sealed()
        for length in 0..<packet.payload.count {
            var cut = packet
            cut.payload = Array(packet.payload.prefix(length))
            #expect(r.receive(cut, now: Self.now).rejection != nil, "length \(length)")
        }
        #expect(r.counters.advertisementsReceived == 0)
    }

    @Test func replaysAndOldOrFutureSequencesAreRejected() {
        var r = Self.router()
        #expect(r.receive(Self.sealed(sequence: Self.now), now: Self.now).rejection == nil)
        #expect(r.receive(Self.sealed(sequence: Self.now), now: Self.now + 1).rejection?.reason == .replayed)
        #expect(r.receive(Self.sealed(sequence: Self.now - 1), now: Self.now + 1).rejection?.reason == .replayed)
        #expect(r.receive(Self.sealed(sequence: Self.now + 1_000_000), now: Self.now + 1_000_000).rejection == nil)
        // A fresh receiver (restarted) still refuses a recording older than the window...
        var fresh = Self.router(window: 30)
        let old = fresh.receive(Self.sealed(sequence: Self.now - 31_000_000), now: Self.now).rejection
        #expect(old?.reason == .replayed)
        #expect(old?.detail.contains("behind") == true && old?.detail.contains("clocks") == true)
        // ... and a packet from a clock more than a day ahead.
        #expect(fresh.receive(Self.sealed(sequence: Self.now + 86_401_000_000), now: Self.now).rejection?.detail.contains("ahead") == true)
        #expect(fresh.counters.rejected[.replayed] == 2)
        // A rejected packet does not move the replay memory: the next real one passes.
        #expect(fresh.receive(Self.sealed(sequence: Self.now), now: Self.now).rejection == nil)
        // A sender 40 s ahead (its sequences outran a clock that stepped back) is heard
        // by a receiver that has just started (seed 401: 53 s ahead, refused).
        var started = Self.router(window: 30)
        #expect(started.receive(Self.sealed(sequence: Self.now + 40_000_000), now: Self.now).rejection == nil)
    }

    /// A step of the receiver's wall clock (NTP correcting it) bigger than the window,
    /// either way, while a pair runs: the sender's increasing sequences are still taken,
    /// and a replay still is not. Before, a 60 s step back cut the pair apart for 60 s.
    @Test func aWallClockStepDoesNotCutARunningPairApart() {
        var r = Self.router(window: 30)
        #expect(r.receive(Self.sealed(sequence: Self.now), now: Self.now).rejection == nil)
        // The receiver's clock steps back 60 s; the sender's sequence goes on increasing.
        #expect(r.receive(Self.sealed(sequence: Self.now + 1_000_000), now: Self.now - 59_000_000).rejection == nil)
        // Forward 120 s, past the sender's clock: still taken.
        #expect(r.receive(Self.sealed(sequence: Self.now + 2_000_000), now: Self.now + 122_000_000).rejection == nil)
        // What was heard before stays refused, whatever the clock says.
        let replay = r.receive(Self.sealed(sequence: Self.now + 1_000_000), now: Self.now + 1_000_000).rejection
        #expect(replay?.reason == .replayed && replay?.detail.contains("not after") == true)
        #expect(r.counters.rejected[.replayed] == 1)
    }

    @Test func sourcesNotConfiguredAreDroppedBeforeTheHMACIsComputed() {
        var r = Self.router()
        let forged = Self.sealed(from: Self.stranger)
        #expect(r.receive(forged, now: Self.now).rejection?.reason == .unknownSource)
        #expect(Self.hmac(r)?.lastAccepted.isEmpty == true)
    }

    @Test func aReloadWithTheSameKeyAndWindowKeepsTheInstance() {
        let a = HMACAuthenticator(key: Self.key, replayWindowSeconds: 30)
        var b = HMACAuthenticator(key: Self.key, replayWindowSeconds: 30)
        _ = b.open(Self.sealed(), now: Self.now)
        #expect(a == b)
        #expect(a != HMACAuthenticator(key: Self.key, replayWindowSeconds: 10))
        #expect(a != HMACAuthenticator(key: Array("another key, also 32 bytes long!".utf8), replayWindowSeconds: 30))
    }
}
