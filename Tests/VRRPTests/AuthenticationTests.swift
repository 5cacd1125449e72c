import NetworkTypes
import Testing
@testable import VRRP

@Suite struct SHA256Tests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// FIPS 180-4 examples: empty, one block, two blocks (the 448-bit message).
    @Test func digestsMatchTheStandardsExamples() {
        #expect(Self.hex(SHA256.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Self.hex(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Self.hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than a block is hashed first).
    @Test func hmacMatchesRFC4231() {
        #expect(Self.hex(SHA256.hmac(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8)))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Self.hex(SHA256.hmac(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(Self.hex(SHA256.hmac(key: [UInt8](repeating: 0xaa, count: 131),
                                     message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }
}

@Suite struct PacketAuthenticatorTests {
    static let key = Array("0123456789abcdef0123456789abcdef".utf8)
    static let me = ReceivePolicyTests.me
    static let peer = ReceivePolicyTests.peer
    static let now: UInt64 = 1_800_000_000_000_000

    static func router(key: [UInt8] = key, window: Double = 30) -> VirtualRouter {
        var r = ReceivePolicyTests.router(.v3, password: nil)
        r.authenticator = PacketAuthenticator(key: key, replayWindowSeconds: window)
        return r
    }

    /// A v3 advertisement from the peer, sealed with `key` at `sequence`.
    static func sealed(key: [UInt8] = key, sequence: UInt64 = now, from source: IPv4Address = peer) -> ReceivedPacket {
        var packet = ReceivePolicyTests.packet(.v3, from: source)
        packet.payload = PacketAuthenticator(key: key, replayWindowSeconds: 30).seal(packet.payload, source: source, sequence: sequence)
        return packet
    }

    @Test func aSealedAdvertisementIsAcceptedAndItsTrailerCutOff() {
        var r = Self.router()
        let packet = Self.sealed()
        #expect(packet.payload.count == 8 + 4 + PacketAuthenticator.trailerLength)
        let (_, rejection) = r.receive(packet, now: Self.now + 200_000)
        #expect(rejection == nil)
        #expect(r.counters.advertisementsReceived == 1)
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
        other.policy.allowedSources = [Self.peer, ReceivePolicyTests.stranger]
        var moved = packet
        moved.source = ReceivePolicyTests.stranger
        #expect(other.receive(moved, now: Self.now).rejection?.reason == .authFailure)
        var wrongKey = Self.router(key: Array("another key, also 32 bytes long!".utf8))
        #expect(wrongKey.receive(packet, now: Self.now).rejection?.description.contains("does not verify") == true)
    }

    @Test func aPacketWithoutTheTrailerSaysTheKeywordToUse() {
        var r = Self.router()
        let plain = ReceivePolicyTests.packet(.v3)
        let rejection = r.receive(plain, now: Self.now).rejection
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
        // ... and a packet from a clock far ahead.
        #expect(fresh.receive(Self.sealed(sequence: Self.now + 40_000_000), now: Self.now).rejection?.detail.contains("ahead") == true)
        #expect(fresh.counters.rejected[.replayed] == 2)
        // A rejected packet does not move the replay memory: the next real one passes.
        #expect(fresh.receive(Self.sealed(sequence: Self.now), now: Self.now).rejection == nil)
    }

    @Test func sourcesNotConfiguredAreDroppedBeforeTheHMACIsComputed() {
        var r = Self.router()
        let forged = Self.sealed(from: ReceivePolicyTests.stranger)
        #expect(r.receive(forged, now: Self.now).rejection?.reason == .unknownSource)
        #expect(r.authenticator?.lastAccepted.isEmpty == true)
    }

    @Test func theSendersSequenceKeepsIncreasingWhenTheClockStepsBack() {
        #expect(PacketAuthenticator.nextSequence(after: 0, now: 500) == 500)
        #expect(PacketAuthenticator.nextSequence(after: 500, now: 400) == 501)
        #expect(PacketAuthenticator.nextSequence(after: UInt64.max, now: 7) == 7)
    }
}
