import Config
import EC2
import HealthChecks
import NetworkTypes
import VRRP
import VRRPAuthentication

/// The inputs Overcast takes from outside, as functions of bytes: what libFuzzer drives
/// (`overcast-fuzz`, built with -sanitize=fuzzer) and what the tests replay from the
/// corpora and regressions in `Fuzz/`. Each must return for any input; a property that
/// does not hold stops the process (`precondition`), so the fuzzer records it as a crash.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The IP payload of a received VRRP packet through every receive check, with and
    /// without HMAC authentication.
    case advert
    /// keepalived.conf text through the reader (with `$NAME` substitution, `~SEQ` and
    /// `~LST`) and validation.
    case config
    /// An EC2 Query API answer: XML, route tables, write results, service errors.
    case ec2
    /// A real server's answer to an HTTP_GET check, as the plain checker reads it.
    case httpAnswer = "http-answer"
    /// A DNS server's answer to DNS_CHECK's query.
    case dnsAnswer = "dns-answer"
    /// An SMTP server's replies to SMTP_CHECK, whole or in pieces.
    case smtpReply = "smtp-reply"

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .advert: Self.advert(bytes)
        case .config: Self.config(bytes)
        case .ec2: Self.ec2(bytes)
        case .httpAnswer: Self.httpAnswer(bytes)
        case .dnsAnswer: Self.dnsAnswer(bytes)
        case .smtpReply: Self.smtpReply(bytes)
        }
    }

    static let peer = IPv4Address(10, 0, 0, 2)
    static let me = IPv4Address(10, 0, 0, 1)

    static func advert(_ bytes: [UInt8]) {
        // Whatever decodes encodes again (reserved bits cleared) to the same advertisement.
        let pseudo = PseudoHeader(source: peer, destination: me)
        if let ad = try? VRRPAdvertisement(parsing: bytes, pseudoHeader: pseudo) {
            let again = try? ad.encoded(pseudoHeader: pseudo)
            precondition(again.flatMap { try? VRRPAdvertisement(parsing: $0, pseudoHeader: pseudo) } == ad,
                         "a decoded advertisement encodes back to itself")
        }
        for version in [VRRPVersion.v2, .v3] {
            var router = router(version, bytes)
            let packet = ReceivedPacket(payload: bytes, source: peer, destination: me, timeToLive: 255)
            _ = router.receive(packet)
            router.authenticator = HMACAuthenticator(key: fuzzingKey, replayWindowSeconds: 30)
            _ = router.receive(packet, now: fuzzingNow)
            precondition(router.counters.advertisementsReceived + router.counters.rejectedTotal == 2,
                         "every packet is either accepted or counted as rejected")
        }
    }

    static let fuzzingKey = Array("fuzzing-key-0123456789".utf8)
    static let fuzzingNow: UInt64 = 1_800_000_000_000_000

    /// Whether a v2 or v3 router with the fuzzing key accepts `bytes` from the peer.
    static func acceptedWithAuthentication(_ bytes: [UInt8]) -> Bool {
        [VRRPVersion.v2, .v3].contains { version in
            var router = router(version, bytes)
            router.authenticator = HMACAuthenticator(key: fuzzingKey, replayWindowSeconds: 30)
            return router.receive(ReceivedPacket(payload: bytes, source: peer, destination: me, timeToLive: 255), now: fuzzingNow)
                .rejection == nil
        }
    }

    static func router(_ version: VRRPVersion, _ bytes: [UInt8]) -> VirtualRouter {
        let machine = VRRPStateMachine.Configuration(version: version, priority: 100, advertisementInterval: .seconds(1),
                                                     primaryAddress: me)
        return VirtualRouter(configuration: .init(virtualRouterID: bytes.count > 1 ? bytes[1] : 1, stateMachine: machine,
                                                  virtualAddresses: [IPv4Address(192, 168, 20, 11)], unicastPeers: [peer]))
    }

    static func config(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        // A small expansion budget: `~SEQ(I, 1, 99999999)` stops after 256 KiB, not 16 MiB.
        let report = ConfigurationLoader.load(text: text, file: "fuzz.conf", configID: "main", expansionBudget: 256 << 10)
        // Lines are counted in bytes, as the lexer counts them: split on the String would
        // take "\r\n" as one Character that is not "\n" and miss the lines of a CRLF file.
        let lines = bytes.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
        for diagnostic in report.diagnostics {
            precondition(diagnostic.location.line >= 1 && diagnostic.location.line <= max(1, lines),
                         "a diagnostic points at a line of the file: \(diagnostic)")
            // Text that came through `$NAME` names the use, also a place in the file.
            if let expansion = diagnostic.location.expansion {
                let use = expansion.split(separator: ":").dropLast().last.flatMap { Int($0) }
                precondition(use.map { $0 >= 1 && $0 <= max(1, lines) } ?? false, "an expansion names a line of the file: \(diagnostic)")
            }
        }
        if report.isValid { _ = ConfigurationSummary.text(report.configuration) }
    }

    static func ec2(_ bytes: [UInt8]) {
        _ = EC2Response.serviceError(status: 400, body: bytes)
        guard let tree = try? XMLTree.parse(bytes) else { return }
        if let tables = try? EC2Response.routeTables(tree) {
            for table in tables { _ = table.route(to: "192.168.20.11/32")?.points(at: .instance("i-0123")) }
        }
        _ = try? EC2Response.returnValue(tree, action: "ReplaceRoute")
        _ = try? EC2Response.booleanAttribute(tree, "sourceDestCheck")
    }

    /// The first byte picks the piece size the rest arrives in. Whatever the pieces, the
    /// outcome is the one of reading it whole; the close always settles it; a kept body
    /// is never larger than what came.
    static func httpAnswer(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let answer = Array(bytes.dropFirst())
        let size = 1 + Int(first % 32)
        for keepBody in [true, false] {
            var whole = HTTPAnswerReader(keepBody: keepBody)
            var outcome = answer.withUnsafeBytes { whole.consume($0) }
            if outcome == .needMore { outcome = whole.end() }
            var pieces = HTTPAnswerReader(keepBody: keepBody)
            var split = HTTPAnswerReader.Outcome.needMore
            var offset = 0
            while split == .needMore && offset < answer.count {
                let end = min(answer.count, offset + size)
                split = answer[offset..<end].withUnsafeBytes { pieces.consume($0) }
                offset = end
            }
            if split == .needMore { split = pieces.end() }
            precondition(outcome != .needMore, "the close settles the answer")
            precondition(split == outcome, "pieces of \(size) read as the whole: \(split) against \(outcome)")
            if case .complete(_, let body) = outcome {
                precondition(body.count < answer.count && (keepBody || body.isEmpty), "the body is part of what came")
            }
        }
    }

    static func dnsAnswer(_ bytes: [UInt8]) {
        // The answer's own first two octets as the query id, so most inputs get past it.
        let id = bytes.count >= 2 ? UInt16(bytes[0]) << 8 | UInt16(bytes[1]) : 0
        if case .success(let answer) = DNSMessage.parse(bytes, id: id) {
            precondition(answer.answerTypes.count == answer.answerCount, "every answer record counted is read")
            precondition(DNSMessage.judge(bytes, id: id).succeeded == (answer.rcode == 0), "rcode 0 passes, any other fails")
        } else {
            precondition(!DNSMessage.judge(bytes, id: id).succeeded, "a malformed answer fails")
        }
        for type: UInt16 in [1, 6] { _ = ICMPEcho.classify(bytes, ipv6: type == 1, hasIPHeader: type == 6, identifier: id, sequence: id) }
    }

    static func smtpReply(_ bytes: [UInt8]) {
        guard let first = bytes.first else { return }
        let replies = Array(bytes.dropFirst())
        let size = 1 + Int(first % 16)
        /// What the server's bytes make of the dialogue: the commands sent, and the end.
        func run(_ pieces: [ArraySlice<UInt8>]) -> ([UInt8], CheckResult?) {
            var dialogue = SMTPDialogue(helo: "fuzz")
            var sent: [UInt8] = []
            for piece in pieces {
                switch dialogue.consume(piece) {
                case .needMore: continue
                case .send(let command): sent += command
                case .finished(let result): return (sent, result)
                }
            }
            return (sent, nil)
        }
        let whole = run([replies[...]])
        let split = run(stride(from: 0, to: replies.count, by: size).map { replies[$0..<min(replies.count, $0 + size)] })
        precondition(whole.1 == split.1, "pieces of \(size) end as the whole: \(String(describing: split.1)) against \(String(describing: whole.1))")
        if whole.1 == nil { precondition(whole.0 == split.0, "pieces of \(size) send what the whole sends") }
    }
}
