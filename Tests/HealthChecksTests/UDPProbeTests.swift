import Testing
@testable import HealthChecks

/// UDP_CHECK's judgement with keepalived's rules (check_udp.c).
@Suite struct UDPProbeTests {
    @Test func withoutReplyBytesAnyReplyPassesAndSilenceDependsOnRequireReply() {
        let quiet = UDPProbe()
        #expect(quiet.payload == UDPProbe.filler && quiet.payload.count == 32)
        #expect(String(decoding: quiet.payload, as: UTF8.self) == "keepalived check - keepalived ch")
        #expect(quiet.silenceResult == .success)
        #expect(quiet.judge(reply: [UInt8](repeating: 1, count: 1000)) == .success)
        #expect(UDPProbe(requireReply: true).silenceResult == nil)
    }

    @Test func replyBytesAreComparedOverTheShorterOfTheTwo() {
        let probe = UDPProbe(requireReply: true, replyData: [0xCA, 0xFE, 0x01])
        #expect(probe.judge(reply: [0xCA, 0xFE, 0x01, 0x99]) == .success)
        #expect(probe.judge(reply: [0xCA, 0xFE]) == .success)   // keepalived compares only what both have
        #expect(probe.judge(reply: [0xCA, 0xFF, 0x01]) == .failure("reply octet 1 is 0xff, expected 0xfe"))
    }

    @Test func wildcardNibblesMatchAnything() {
        // "CAx1": octet 0 exact, octet 1's high nibble free.
        let probe = UDPProbe(requireReply: true, replyData: [0xCA, 0x01], replyMask: [0x00, 0xF0])
        #expect(probe.judge(reply: [0xCA, 0x71]) == .success)
        #expect(probe.judge(reply: [0xCA, 0x72]) == .failure("reply octet 1 is 0x72, expected 0x01 (mask 0x0f)"))
    }

    @Test func lengthBoundsApplyWhenReplyBytesAreGiven() {
        let probe = UDPProbe(requireReply: true, replyData: [0x41], minReplyLength: 2, maxReplyLength: 4)
        #expect(probe.judge(reply: [0x41, 0x42]) == .success)
        #expect(probe.judge(reply: [0x41]) == .failure("reply of 1 octets, outside min_reply_length 2 - max_reply_length 4"))
        #expect(probe.judge(reply: [0x41, 0, 0, 0, 0]) == .failure("reply of 5 octets, outside min_reply_length 2 - max_reply_length 4"))
        #expect(probe.judge(reply: [UInt8]()) != .success)
    }
}
