import Foundation
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

    /// A restarted sender starts past every sequence it sent before, though its clock is
    /// now behind them (a step back of the wall clock between the two lives), because
    /// the floor file was written ahead of what it sent.
    @Test func aRestartedSenderStartsPastItsLastLifeThroughTheFloorFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sealer-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = AdvertisementSealer.floorFile(directory: directory, interface: "eth0", virtualRouterID: 51,
                                                 source: IPv4Address(10, 0, 0, 1))
        #expect(file.hasSuffix("/hmac-eth0-51-10.0.0.1.sequence"))
        func sequence(_ sealed: [UInt8]) -> UInt64 { sealed.dropFirst().reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        let ahead: UInt64 = 1_900_000_000_000_000
        let first = try AdvertisementSealer(SequenceAppender(), floorFile: file, now: ahead)
        var sent: [UInt64] = []
        // 25 s of sending at 1 s: the reservation is renewed on the way.
        for second in 0..<25 { sent.append(sequence(first.seal([0x31], source: IPv4Address(10, 0, 0, 1), now: ahead + UInt64(second) * 1_000_000))) }
        let floor = try #require(UInt64(try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(floor > sent.last ?? .max && floor <= (sent.last ?? 0) + AdvertisementSealer.reservation)
        // The next life, its clock 100 s behind: it starts past the last sequence sent.
        let second = try AdvertisementSealer(SequenceAppender(), floorFile: file, now: ahead - 100_000_000)
        let next = sequence(second.seal([0x31], source: IPv4Address(10, 0, 0, 1), now: ahead - 100_000_000))
        #expect(next > sent.last ?? .max, "\(next) after \(sent.last ?? 0)")
        // An unwritable place is an error the daemon reports, not a crash.
        #expect(throws: (any Error).self) { try AdvertisementSealer(SequenceAppender(), floorFile: "/proc/overcast/x.sequence") }
    }
}
