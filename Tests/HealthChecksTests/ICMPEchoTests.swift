import Testing
@testable import HealthChecks

/// PING_CHECK's packets: the request is a valid echo request, and a reply is ours only
/// when type, identifier and sequence match; short packets are malformed, never a trap.
@Suite struct ICMPEchoTests {
    @Test func theIPv4RequestCarriesItsIdentifierSequenceAndAValidChecksum() {
        let packet = ICMPEcho.request(ipv6: false, identifier: 0x1234, sequence: 0xBEEF)
        #expect(Array(packet[0...7]) == [8, 0, packet[2], packet[3], 0x12, 0x34, 0xBE, 0xEF])
        #expect(packet.count == 8 + 32)
        // A packet with its checksum in place sums to zero (RFC 1071).
        #expect(ICMPEcho.checksum(packet) == 0)
        #expect(packet[2] != 0 || packet[3] != 0)
    }

    @Test func theIPv6RequestLeavesTheChecksumToTheKernel() {
        let packet = ICMPEcho.request(ipv6: true, identifier: 1, sequence: 2)
        #expect(Array(packet[0...7]) == [128, 0, 0, 0, 0, 1, 0, 2])
    }

    @Test func checksumOfAKnownHeader() {
        // RFC 1071's example words 0001 f203 f4f5 f6f7: sum ddf2, complement 220d.
        #expect(ICMPEcho.checksum([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]) == 0x220D)
        #expect(ICMPEcho.checksum([0xFF]) == 0x00FF)
    }

    static func reply(type: UInt8 = 0, identifier: UInt16 = 7, sequence: UInt16 = 9, ipHeader: Int = 20) -> [UInt8] {
        var ip = [UInt8](repeating: 0, count: ipHeader)
        if ipHeader > 0 { ip[0] = 0x40 | UInt8(ipHeader / 4) }
        return ip + [type, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
    }

    @Test func aRawSocketsReplyIsOursOnlyWithItsIdentifierAndSequence() {
        func classify(_ packet: [UInt8]) -> ICMPEcho.Reply {
            ICMPEcho.classify(packet, ipv6: false, hasIPHeader: true, identifier: 7, sequence: 9)
        }
        #expect(classify(Self.reply()) == .ours)
        #expect(classify(Self.reply(ipHeader: 24)) == .ours)   // IP options
        #expect(classify(Self.reply(identifier: 8)) == .notOurs)
        #expect(classify(Self.reply(sequence: 10)) == .notOurs)
        #expect(classify(Self.reply(type: 8)) == .notOurs)     // our own request, looped back
        #expect(classify(Self.reply(type: 3)) == .notOurs)
    }

    @Test func aDatagramSocketsReplyIsMatchedBySequenceAlone() {
        let packet = Self.reply(identifier: 4242, ipHeader: 0)
        #expect(ICMPEcho.classify(packet, ipv6: false, hasIPHeader: false, identifier: nil, sequence: 9) == .ours)
        let v6 = [129, 0, 0, 0, 0, 1, 0, 9] as [UInt8]
        #expect(ICMPEcho.classify(v6, ipv6: true, hasIPHeader: false, identifier: 1, sequence: 9) == .ours)
        #expect(ICMPEcho.classify(v6, ipv6: false, hasIPHeader: false, identifier: 1, sequence: 9) == .notOurs)
    }

    @Test func shortAndBadPacketsAreMalformedWithTheReason() {
        func classify(_ packet: [UInt8]) -> ICMPEcho.Reply {
            ICMPEcho.classify(packet, ipv6: false, hasIPHeader: true, identifier: 7, sequence: 9)
        }
        #expect(classify([]) == .malformed("an empty packet"))
        #expect(classify([0x45, 0, 0]) == .malformed("3 octets, shorter than its IP header (20)"))
        #expect(classify([0x60] + [UInt8](repeating: 0, count: 40)) == .malformed("IP header of version 6, length 0, is not IPv4's"))
        #expect(classify(Array(Self.reply().prefix(25))) == .malformed("ICMP message of 5 octets, shorter than an echo header (8)"))
    }
}
