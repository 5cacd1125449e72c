import Testing
@testable import HealthChecks

/// DNS_CHECK's query encoding and the bounds-checked reading of answers.
@Suite struct DNSMessageTests {
    @Test func theQueryIsOneQuestionWithRecursionDesired() throws {
        let query = try #require(DNSMessage.query(id: 0xABCD, name: "www.example.test", type: 1))
        #expect(Array(query[0..<12]) == [0xAB, 0xCD, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0])
        #expect(Array(query[12...]) == [3] + Array("www".utf8) + [7] + Array("example".utf8) + [4] + Array("test".utf8) + [0, 0, 1, 0, 1])
    }

    @Test func theRootIsOneZeroOctet() throws {
        for root in ["", "."] {
            let query = try #require(DNSMessage.query(id: 1, name: root, type: 6))
            #expect(Array(query[12...]) == [0, 0, 6, 0, 1])
        }
        #expect(DNSMessage.query(id: 1, name: "a.example.", type: 1)?.count == DNSMessage.query(id: 1, name: "a.example", type: 1)?.count)
    }

    @Test func namesThatCannotBeEncodedAreRefused() {
        #expect(DNSMessage.query(id: 1, name: "a..b", type: 1) == nil)
        #expect(DNSMessage.query(id: 1, name: String(repeating: "x", count: 64), type: 1) == nil)
        #expect(DNSMessage.query(id: 1, name: Array(repeating: String(repeating: "x", count: 63), count: 4).joined(separator: "."), type: 1) == nil)
        #expect(DNSMessage.query(id: 1, name: String(repeating: "x", count: 63), type: 1) != nil)
    }

    /// An answer to `query`: its header with QR and `rcode`, its question, and `records`
    /// A records whose names point back at the question.
    static func answer(to query: [UInt8], rcode: UInt8 = 0, records: Int = 1) -> [UInt8] {
        var bytes = query
        bytes[2] = 0x81
        bytes[3] = 0x80 | rcode
        bytes[7] = UInt8(records)
        for _ in 0..<records { bytes += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1] }
        return bytes
    }

    @Test func aNoErrorAnswerWithTheQueryIDPasses() throws {
        let query = try #require(DNSMessage.query(id: 77, name: "www.example.test", type: 1))
        let answer = Self.answer(to: query, records: 2)
        #expect(DNSMessage.parse(answer, id: 77) == .success(.init(rcode: 0, answerCount: 2, answerTypes: [1, 1])))
        #expect(DNSMessage.judge(answer, id: 77) == .success)
        // keepalived's rule: rcode 0 passes even with no answer records (NODATA).
        #expect(DNSMessage.judge(Self.answer(to: query, records: 0), id: 77) == .success)
    }

    @Test func anErrorRcodeFailsWithItsName() throws {
        let query = try #require(DNSMessage.query(id: 77, name: "gone.example.test", type: 1))
        #expect(DNSMessage.judge(Self.answer(to: query, rcode: 3, records: 0), id: 77) == .failure("DNS answer rcode 3 (NXDOMAIN)"))
        #expect(DNSMessage.judge(Self.answer(to: query, rcode: 5, records: 0), id: 77) == .failure("DNS answer rcode 5 (REFUSED)"))
        #expect(DNSMessage.judge(Self.answer(to: query, rcode: 9, records: 0), id: 77) == .failure("DNS answer rcode 9"))
    }

    @Test func malformedAnswersFailSayingWhatWasWrong() throws {
        let query = try #require(DNSMessage.query(id: 77, name: "www.example.test", type: 1))
        let good = Self.answer(to: query)
        func reason(_ bytes: [UInt8], id: UInt16 = 77) -> String? {
            if case .failure(let error) = DNSMessage.parse(bytes, id: id) { return error.reason }
            return nil
        }
        #expect(reason(Array("garbage".utf8)) == "answer of 7 octets, shorter than a DNS header (12)")
        #expect(reason(good, id: 78) == "answer id 77, the query's was 78")
        #expect(reason(query) == "the message is a query (QR clear), not an answer")
        #expect(reason(Array(good.prefix(20))) == "question 1 of 1 is cut short or has a bad name at octet 17 of 20")
        #expect(reason(Array(good.dropLast(2))) == "answer record 1 of 1 is cut short or has a bad name at octet 46 of 48")
        var forward = good
        forward[35] = 40   // the record's name points forwards
        #expect(reason(forward) == "answer record 1 of 1 is cut short or has a bad name at octet 34 of 50")
        var counted = good
        counted[7] = 200   // more records claimed than sent
        #expect(reason(counted)?.hasPrefix("answer record 2 of 200") == true)
        #expect(DNSMessage.judge(Array("garbage".utf8), id: 77) == .failure("malformed DNS answer: answer of 7 octets, shorter than a DNS header (12)"))
    }

    @Test func everyPrefixAndEveryOctetFlipOfAnAnswerIsReadWithoutATrap() throws {
        let query = try #require(DNSMessage.query(id: 5, name: "a.b", type: 28))
        let good = Self.answer(to: query, records: 3)
        for length in 0...good.count { _ = DNSMessage.judge(Array(good.prefix(length)), id: 5) }
        for index in good.indices {
            for value: UInt8 in [0x00, 0x3F, 0x40, 0xC0, 0xFF] {
                var bytes = good
                bytes[index] = value
                _ = DNSMessage.judge(bytes, id: 5)
            }
        }
    }
}
