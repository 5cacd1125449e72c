/// DNS_CHECK's query and the reading of its answer (RFC 1035 section 4), pure and bounds
/// checked: every read of the answer is against its length, and compression pointers may
/// only point backwards, so a hostile answer can neither overrun nor loop.
///
/// keepalived's rule (check_dns.c): the check passes when the answer carries the query's
/// id, is a response, and its rcode is 0 (NOERROR), whether or not it has answer records.
/// keepalived ignores a datagram too short for a header, with another id, or that is not
/// a response, and then times out; here those fail at once, saying what was wrong, and so
/// does an answer whose question or answer records run past its end.
public enum DNSMessage {
    /// keepalived's types, by name.
    public static let types: [String: UInt16] = ["A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28,
                                                 "RRSIG": 46, "DNSKEY": 48]
    static let rcodeNames = [1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"]

    /// The query: one question, recursion desired (as keepalived asks), class IN. nil when
    /// the name cannot be encoded (an empty label, a label over 63 octets, over 255 in all).
    public static func query(id: UInt16, name: String, type: UInt16) -> [UInt8]? {
        var message: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xFF), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        guard let encoded = encode(name: name) else { return nil }
        message += encoded
        message += [UInt8(type >> 8), UInt8(type & 0xFF), 0, 1]
        return message
    }

    /// A name in wire format: its labels, each with its length, then the root's zero.
    /// "" and "." are the root.
    static func encode(name: String) -> [UInt8]? {
        var text = Substring(name)
        if text.hasSuffix(".") { text = text.dropLast() }
        var bytes: [UInt8] = []
        if !text.isEmpty {
            for label in text.split(separator: ".", omittingEmptySubsequences: false) {
                let octets = Array(label.utf8)
                guard !octets.isEmpty, octets.count <= 63 else { return nil }
                bytes.append(UInt8(octets.count))
                bytes += octets
            }
        }
        bytes.append(0)
        return bytes.count <= 255 ? bytes : nil
    }

    /// What an answer says, as far as the check is concerned.
    public struct Answer: Equatable, Sendable {
        public var rcode: Int
        public var answerCount: Int
        /// The types of the answer records, in order.
        public var answerTypes: [UInt16]
    }

    /// Reads an answer to the query with `id`; the error says what was wrong and where.
    public static func parse(_ bytes: [UInt8], id: UInt16) -> Result<Answer, DNSAnswerError> {
        guard bytes.count >= 12 else { return .failure(.init("answer of \(bytes.count) octets, shorter than a DNS header (12)")) }
        let gotID = word(bytes, 0)
        guard gotID == id else { return .failure(.init("answer id \(gotID), the query's was \(id)")) }
        let flags = word(bytes, 2)
        guard flags & 0x8000 != 0 else { return .failure(.init("the message is a query (QR clear), not an answer")) }
        let questions = Int(word(bytes, 4)), answers = Int(word(bytes, 6))
        var reader = Reader(bytes: bytes, offset: 12)
        for n in 0..<questions {
            guard reader.skipName(), reader.skip(4) else {
                return .failure(.init("question \(n + 1) of \(questions) is cut short or has a bad name at octet \(reader.offset) of \(bytes.count)"))
            }
        }
        var types: [UInt16] = []
        for n in 0..<answers {
            guard reader.skipName(), let type = reader.word(), reader.skip(6), let length = reader.word(), reader.skip(Int(length)) else {
                return .failure(.init("answer record \(n + 1) of \(answers) is cut short or has a bad name at octet \(reader.offset) of \(bytes.count)"))
            }
            types.append(type)
        }
        return .success(Answer(rcode: Int(flags & 0x000F), answerCount: answers, answerTypes: types))
    }

    /// The check's result for an answer datagram.
    public static func judge(_ bytes: [UInt8], id: UInt16) -> CheckResult {
        switch parse(bytes, id: id) {
        case .failure(let error):
            return .failure("malformed DNS answer: \(error.reason)")
        case .success(let answer):
            guard answer.rcode == 0 else {
                return .failure("DNS answer rcode \(answer.rcode)\(rcodeNames[answer.rcode].map { " (\($0))" } ?? "")")
            }
            return .success
        }
    }

    static func word(_ bytes: [UInt8], _ at: Int) -> UInt16 { UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1]) }

    /// A cursor over the answer that never reads past its end.
    struct Reader {
        let bytes: [UInt8]
        var offset: Int

        mutating func skip(_ count: Int) -> Bool {
            guard count >= 0, count <= bytes.count - offset else { return false }
            offset += count
            return true
        }

        mutating func word() -> UInt16? {
            guard bytes.count - offset >= 2 else { return nil }
            defer { offset += 2 }
            return DNSMessage.word(bytes, offset)
        }

        /// Skips a name: labels up to the root's zero, or up to a compression pointer
        /// (two octets, which end the name here). A pointer must point before itself, and
        /// only the names it points to could loop, which skipping does not follow.
        mutating func skipName() -> Bool {
            var labels = 0
            while offset < bytes.count {
                let length = bytes[offset]
                switch length & 0xC0 {
                case 0x00:
                    offset += 1
                    if length == 0 { return true }
                    labels += 1
                    guard labels <= 127, skip(Int(length)) else { return false }
                case 0xC0:
                    guard bytes.count - offset >= 2 else { return false }
                    let target = Int(word(bytes, offset) & 0x3FFF)
                    guard target < offset else { return false }
                    offset += 2
                    return true
                default:
                    return false   // 0x40 and 0x80: extended and reserved label types
                }
            }
            return false
        }

        private func word(_ bytes: [UInt8], _ at: Int) -> UInt16 { DNSMessage.word(bytes, at) }
    }
}

/// What was wrong with a DNS answer.
public struct DNSAnswerError: Error, Equatable, Sendable {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
}
