import NetworkTypes
import Testing
@testable import VRRP

@Suite struct IPv4Tests {
    @Test(arguments: [
        ("192.168.20.11", UInt32(0xC0A8_140B)), ("0.0.0.0", 0), ("255.255.255.255", 0xFFFF_FFFF), ("224.0.0.18", 0xE000_0012),
    ])
    func parsesDottedQuads(text: String, value: UInt32) {
        #expect(IPv4Address(text)?.value == value)
        #expect(IPv4Address(value).description == text)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "01.2.3.4", "1..2.3", "a.b.c.d", "1.2.3.4 ", "-1.2.3.4", "1.2.3.4/32", "１.2.3.4"])
    func rejectsAnythingElse(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    /// The worked example of RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2.
    @Test func internetChecksumMatchesRFC1071() {
        #expect(InternetChecksum.of([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]) == ~UInt16(0xDDF2))
        // Fed in odd-sized pieces, the same.
        var pieces = InternetChecksum()
        pieces.add([0x00]); pieces.add([0x01, 0xF2, 0x03]); pieces.add([0xF4, 0xF5, 0xF6]); pieces.add([0xF7])
        #expect(pieces.value == ~UInt16(0xDDF2))
        // An odd length pads with a zero byte.
        #expect(InternetChecksum.of([0x01]) == ~UInt16(0x0100))
        // Large inputs do not overflow.
        #expect(InternetChecksum.of(Array(repeating: 0xFF, count: 1_000_000)) == 0)
    }

    @Test func headerRoundTripsAndRecomputesChecksumAfterRewrite() throws {
        let header = IPv4Header(identification: 7, source: IPv4Address(172, 31, 18, 163), destination: .vrrpMulticastGroup)
        let packet = IPv4Packet(header: header, payload: [1, 2, 3, 4])
        let bytes = packet.encoded()
        var decoded = try IPv4Packet(parsing: bytes + [0, 0])   // Ethernet padding is ignored
        #expect(decoded.payload == [1, 2, 3, 4])
        #expect(decoded.header.totalLength == 24)
        decoded.header.destination = IPv4Address(172, 31, 18, 164)
        let rewritten = try IPv4Packet(parsing: decoded.encoded())
        #expect(rewritten.header.destination == IPv4Address(172, 31, 18, 164))
    }

    @Test func badHeadersAreRejected() throws {
        let good = IPv4Packet(header: IPv4Header(source: IPv4Address(1), destination: IPv4Address(2)), payload: [9]).encoded()
        var badChecksum = good; badChecksum[10] ^= 0xFF
        var badVersion = good; badVersion[0] = 0x65
        var shortIHL = good; shortIHL[0] = 0x44
        var longTotal = good; longTotal[3] = 200
        let cases: [([UInt8], VRRPRejection)] = [
            (Array(good.prefix(19)), .truncated), (badChecksum, .badIPHeader), (badVersion, .badIPHeader),
            (shortIHL, .badIPHeader), (longTotal, .truncated),
        ]
        for (bytes, reason) in cases {
            #expect(throws: VRRPPacketError.self) { try IPv4Packet(parsing: bytes) }
            do { _ = try IPv4Packet(parsing: bytes) } catch { #expect(error.reason == reason) }
        }
    }
}
