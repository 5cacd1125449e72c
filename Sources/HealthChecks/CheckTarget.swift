/// What one check asks of a real server.
public struct CheckTarget: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// HTTP_GET or SSL_GET: status (any 2xx when empty), optional MD5 digest of the
        /// body, optional regular expression the body must (or, `noMatch`, must not) match.
        case http(expectedStatus: Set<Int>, digest: String?, regex: BodyRegex? = nil)
        /// TCP_CHECK: the TCP connection is made.
        case tcpConnect
        /// PING_CHECK: an ICMP echo reply comes back (`icmp://ADDR`).
        case ping
        /// UDP_CHECK: the datagram draws no ICMP error, or the reply it requires (`udp://ADDR:PORT`).
        case udp(UDPProbe)
        /// DNS_CHECK: an answer with rcode 0 to a query of `type` for `name` (`dns://ADDR:PORT`).
        case dns(type: UInt16, name: String)
        /// SMTP_CHECK: greeting 220, HELO answered 250, QUIT (`smtp://ADDR:PORT`).
        case smtp(helo: String)

        /// Whether only the engine's own sockets run it (libcurl has no such check).
        var isEngineOnly: Bool {
            switch self {
            case .http, .tcpConnect: false
            case .ping, .udp, .dns, .smtp: true
            }
        }
    }
    public var id: String
    /// `http://ADDR:PORT/PATH`, `https://...`, or `tcp://ADDR:PORT` for a TCP check.
    public var url: String { didSet { plain = endpoint() } }
    public var virtualHost: String? { didSet { plain = endpoint() } }
    public var connectTimeout: Double
    public var kind: Kind { didSet { plain = endpoint() } }
    /// Where the checker's connections come from: `bindto`, `bind_port`, `bind_if`, `fwmark`.
    public var source: CheckSource { didSet { plain = endpoint() } }
    /// The checker's `bindto`: the local address its connections come from.
    public var bindTo: String? {
        get { source.address }
        set { source.address = newValue }
    }
    /// The endpoint and request when the engine runs this check on its own socket (plain
    /// HTTP or TCP to an address); nil when libcurl runs it. Worked out here, once per
    /// checker, rather than at each of its checks.
    public private(set) var plain: PlainEndpoint?

    public init(id: String, url: String, virtualHost: String? = nil, connectTimeout: Double, kind: Kind, bindTo: String? = nil,
                source: CheckSource = CheckSource()) {
        self.id = id
        self.url = url
        self.virtualHost = virtualHost
        self.connectTimeout = connectTimeout
        self.kind = kind
        var source = source
        if let bindTo { source.address = bindTo }
        self.source = source
        plain = PlainEndpoint(url: url, virtualHost: virtualHost, kind: kind, source: source)
    }

    private func endpoint() -> PlainEndpoint? { PlainEndpoint(url: url, virtualHost: virtualHost, kind: kind, source: source) }

    /// The result of an answer that came whole: its status against the accepted ones
    /// (any 2xx when none are listed), then its body's MD5 against the digest. libcurl's
    /// checks and plain ones are judged alike.
    func judge(status: Int, body: [UInt8]) -> CheckResult {
        guard case .http(let expected, let digest, let regex) = kind else { return .success }
        let statusOK = expected.isEmpty ? (200...299).contains(status) : expected.contains(status)
        guard statusOK else { return .failure("HTTP status \(status)") }
        if let digest {
            let actual = BodyDigest.md5Hex(body)
            guard actual == digest.lowercased() else { return .failure("digest \(actual), expected \(digest)") }
        }
        return regex?.judge(body) ?? .success
    }
}

public enum CheckResult: Sendable, Hashable {
    case success
    case failure(String)
    public var succeeded: Bool { self == .success }
}

/// A check that finished: its target's id, the caller's tag from `start`, and the result.
public struct FinishedCheck: Sendable, Hashable {
    public var id: String
    /// Whatever the caller passed to `start`: the daemon's checker slot, so finding the
    /// owner of a result costs an integer, not a hash of the target's long id.
    public var tag: Int
    public var result: CheckResult
    public init(id: String, tag: Int, result: CheckResult) {
        self.id = id
        self.tag = tag
        self.result = result
    }
}

