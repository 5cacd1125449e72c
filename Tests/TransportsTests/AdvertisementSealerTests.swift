import NetworkTypes
import Testing
import Transports
import VRRP

/// The sending half of authenticated advertisements: each copy gets the next sequence,
/// and the sequence never goes back, whatever the clock does.
@Suite struct AdvertisementSealerTests {
    /// Appends the sequence, big-endian, so the test can read what the sealer chose.
    struct SequenceAppender: AdvertisementAuthenticator {
        func seal(_ message: [UInt8], source: IPv4Address, sequence: UInt64) -> [UInt8] {
            message + stride(from: 56, through: 0, by: -8).map { UInt8(truncatingIfNeeded: sequence >> UInt64($0)) }
        }
        mutating func open(_ packet: ReceivedPacket, now: UInt64) -> Result<ReceivedPacket, VRRPPacketError> { .success(packet) }
    }

    @Test func eachCopyGetsALaterSequenceFromTheWallClock() {
        let sealer = AdvertisementSealer(SequenceAppender())
        let before = AdvertisementSealer.wallClockMicroseconds()
        let sequences = (0..<3).map { _ in
            sealer.seal([0x31], source: IPv4Address(10, 0, 0, 1)).dropFirst().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
        #expect(sequences[0] >= before)
        #expect(sequences[0] < sequences[1] && sequences[1] < sequences[2])
    }

    @Test func theSendersSequenceKeepsIncreasingWhenTheClockStepsBack() {
        #expect(AdvertisementSealer.nextSequence(after: 0, now: 500) == 500)
        #expect(AdvertisementSealer.nextSequence(after: 500, now: 400) == 501)
        #expect(AdvertisementSealer.nextSequence(after: UInt64.max, now: 7) == 7)
    }
}
