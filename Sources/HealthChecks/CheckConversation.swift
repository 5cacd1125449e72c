/// What one plain check says and expects once its socket is connected, per kind: the
/// pure part of PlainCheck, which only moves bytes. Each datagram (UDP, ICMP) is handed
/// over whole; a stream's bytes as they come.
enum CheckConversation {
    case http(HTTPAnswerReader, request: [UInt8])
    case tcpConnect
    case smtp(SMTPDialogue)
    case udp(UDPProbe)
    case dns(id: UInt16, query: [UInt8])
    /// `rawHeader`: the socket is raw IPv4, whose packets come with their IP header;
    /// `identifier` nil on a datagram socket, where the kernel sets it.
    case ping(ipv6: Bool, rawHeader: Bool, identifier: UInt16?, sequence: UInt16)

    enum Opening: Equatable {
        /// The connection was all the check asked (TCP_CHECK).
        case done
        /// Send this, then read.
        case send([UInt8])
        /// The server speaks first (SMTP's greeting).
        case listen
    }

    enum Outcome: Equatable {
        case needMore
        case send([UInt8])
        /// A whole HTTP answer, for the target to judge.
        case answered(status: Int, body: [UInt8])
        case finished(CheckResult)
    }

    /// The conversation of `target`; `rawICMP` tells PING_CHECK which socket it has. nil
    /// when the check cannot be asked (a DNS name that does not encode).
    init?(target: CheckTarget, endpoint: PlainEndpoint, rawICMP: Bool) {
        switch target.kind {
        case .http(_, let digest, let regex):
            guard let request = endpoint.request else { return nil }
            self = .http(HTTPAnswerReader(keepBody: !(digest ?? "").isEmpty || regex != nil), request: request)
        case .tcpConnect:
            self = .tcpConnect
        case .smtp(let helo):
            self = .smtp(SMTPDialogue(helo: helo))
        case .udp(let probe):
            self = .udp(probe)
        case .dns(let type, let name):
            let id = UInt16.random(in: 0...UInt16.max)
            guard let query = DNSMessage.query(id: id, name: name, type: type) else { return nil }
            self = .dns(id: id, query: query)
        case .ping:
            self = .ping(ipv6: endpoint.ipv6, rawHeader: rawICMP && !endpoint.ipv6,
                         identifier: rawICMP ? UInt16.random(in: 0...UInt16.max) : nil, sequence: UInt16.random(in: 0...UInt16.max))
        }
    }

    /// What to do once connected.
    var opening: Opening {
        switch self {
        case .http(_, let request): .send(request)
        case .tcpConnect: .done
        case .smtp: .listen
        case .udp(let probe): .send(probe.payload)
        case .dns(_, let query): .send(query)
        case .ping(let ipv6, _, let identifier, let sequence):
            // On a datagram socket the kernel replaces the identifier.
            .send(ICMPEcho.request(ipv6: ipv6, identifier: identifier ?? 0, sequence: sequence))
        }
    }

    /// Bytes from the server: a stream's next bytes, or one whole datagram.
    mutating func consume(_ bytes: UnsafeRawBufferPointer, from name: String) -> Outcome {
        switch self {
        case .http(var reader, let request):
            self = .tcpConnect   // the reader's buffers stay uniquely referenced: no copy per read
            let outcome = reader.consume(bytes)
            self = .http(reader, request: request)
            return Self.httpOutcome(outcome, name)
        case .tcpConnect:
            return .finished(.success)
        case .smtp(var dialogue):
            self = .tcpConnect
            let outcome = dialogue.consume(bytes)
            self = .smtp(dialogue)
            switch outcome {
            case .needMore: return .needMore
            case .send(let line): return .send(line)
            case .finished(let result): return .finished(Self.from(name, result))
            }
        case .udp(let probe):
            return .finished(Self.from(name, probe.judge(reply: bytes)))
        case .dns(let id, _):
            return .finished(Self.from(name, DNSMessage.judge(Array(bytes), id: id)))
        case .ping(let ipv6, let rawHeader, let identifier, let sequence):
            switch ICMPEcho.classify(Array(bytes), ipv6: ipv6, hasIPHeader: rawHeader, identifier: identifier, sequence: sequence) {
            case .ours: return .finished(.success)
            case .notOurs: return .needMore
            case .malformed(let reason): return .finished(.failure("ICMP from \(name): \(reason)"))
            }
        }
    }

    /// The server closed a stream.
    mutating func end(from name: String) -> Outcome {
        switch self {
        case .http(var reader, let request):
            self = .tcpConnect
            let outcome = reader.end()
            self = .http(reader, request: request)
            return Self.httpOutcome(outcome, name)
        case .smtp(let dialogue):
            if case .finished(let result) = dialogue.end() { return .finished(Self.from(name, result)) }
            return .needMore
        default:
            return .finished(.failure("\(name) closed the connection"))
        }
    }

    /// The result when the server stays silent for connect_timeout, when it is not the
    /// engine's usual timeout failure: success for a UDP_CHECK that requires no reply.
    func silence(_ name: String, timeout: Double) -> CheckResult? {
        switch self {
        case .udp(let probe): probe.silenceResult
        case .ping: .failure("Timeout: no echo reply from \(name) within connect_timeout (\(timeout) s)")
        case .dns: .failure("Timeout: no DNS answer from \(name) within connect_timeout (\(timeout) s)")
        default: nil
        }
    }

    static func httpOutcome(_ outcome: HTTPAnswerReader.Outcome, _ name: String) -> Outcome {
        switch outcome {
        case .needMore: .needMore
        case .complete(let status, let body): .answered(status: status, body: body)
        case .malformed(let reason): .finished(.failure("answer from \(name): \(reason)"))
        }
    }

    /// A failure's reason names the server.
    static func from(_ name: String, _ result: CheckResult) -> CheckResult {
        guard case .failure(let reason) = result else { return result }
        return .failure("\(name): \(reason)")
    }
}
