/// What a `real_server`'s health checkers are configured to do.
public struct HTTPURL: Codable, Hashable, Sendable {
    public var path = "/"
    public var digest: String?
    public var statusCodes: [Int] = []
    public var virtualhost: String?
    /// `regex`: a PCRE2 pattern the body must match (must not, with `regex_no_match`),
    /// compiled with keepalived's `regex_options`; checked when the configuration is read.
    public var regex: String?
    public var regexNoMatch = false
    public var regexOptions: [String] = []
}

public struct HealthChecker: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable {
        case httpGet = "HTTP_GET", sslGet = "SSL_GET", tcpCheck = "TCP_CHECK", miscCheck = "MISC_CHECK"
        case pingCheck = "PING_CHECK", udpCheck = "UDP_CHECK", dnsCheck = "DNS_CHECK", smtpCheck = "SMTP_CHECK"
    }
    public var kind: Kind
    public var urls: [HTTPURL] = []
    public var connectIP: String?
    public var connectPort: Int?
    public var bindTo: String?
    /// `bind_port`: the source port of the checker's connections (with `bindto`'s
    /// address, else any of the host's).
    public var bindPort: Int?
    /// `bind_if`: the interface the checker's socket is bound to (SO_BINDTODEVICE), which
    /// a link-local address needs.
    public var bindInterface: String?
    /// `fwmark`: the mark on the checker's packets (SO_MARK), for policy routing; 0 is none.
    public var fwmark: Int?
    /// nil until validation gives it the real server's, else the virtual server's, else 5 s.
    public var connectTimeout: Double?
    public var retry: Int?
    public var delayBeforeRetry: Double?
    public var delayLoop: Double?
    public var warmup: Double?
    /// `alpha` in the checker: nil takes its real server's, else its virtual server's.
    public var alpha: Bool?
    public var virtualhost: String?
    public var miscPath: String?
    public var miscTimeout: Double?
    public var miscDynamic = false
    /// MISC_CHECK's `user USER [GROUP]`.
    public var user: String?
    public var group: String?
    /// UDP_CHECK: the datagram sent (keepalived's 32-byte filler when nil), whether an
    /// answer is required, the bytes it must start with (`replyMask` bits set are
    /// wildcards, keepalived's `X` nibbles) and its length bounds, which keepalived applies
    /// only when reply bytes are given.
    public var payload: [UInt8]?
    public var requireReply = false
    public var replyData: [UInt8]?
    public var replyMask: [UInt8]?
    public var minReplyLength: Int?
    public var maxReplyLength: Int?
    /// DNS_CHECK: the query's type (A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY;
    /// keepalived's default SOA) and name (default the root).
    public var dnsType: String?
    public var dnsName: String?
    /// SMTP_CHECK: the name sent with HELO.
    public var heloName: String?
    public var location: SourceLocation
}

/// `retry`, `delay_before_retry`, `warmup`, `connect_timeout` and `delay_loop` written at
/// `real_server` or `virtual_server` level: keepalived's defaults for the checkers below,
/// each checker's own value first, then its real server's, then its virtual server's.
public struct CheckerDefaults: Codable, Hashable, Sendable {
    public var retry: Int?
    public var delayBeforeRetry: Double?
    public var warmup: Double?
    public var connectTimeout: Double?
    public var delayLoop: Double?
    public init() {}

    /// `checker` with what it leaves unset taken from these defaults.
    func fill(_ checker: inout HealthChecker) {
        checker.retry = checker.retry ?? retry
        checker.delayBeforeRetry = checker.delayBeforeRetry ?? delayBeforeRetry
        checker.warmup = checker.warmup ?? warmup
        checker.connectTimeout = checker.connectTimeout ?? connectTimeout
        checker.delayLoop = checker.delayLoop ?? delayLoop
    }

    /// keepalived's readers for the five, for the real_server and virtual_server blocks.
    static func install<Model>(_ s: inout Schema<Model>, _ path: any WritableKeyPath<Model, CheckerDefaults> & Sendable,
                               delayLoop: Bool) {
        s.value("retry", "nb_get_retry") { m, st, r in m[keyPath: path].retry = r.int(st, 0...1_000_000) }
        s.value("delay_before_retry") { m, st, r in m[keyPath: path].delayBeforeRetry = r.seconds(st, 0...86400) }
        s.value("warmup") { m, st, r in m[keyPath: path].warmup = r.seconds(st, 0...86400) }
        s.value("connect_timeout") { m, st, r in m[keyPath: path].connectTimeout = r.seconds(st, 0.001...3600) }
        if delayLoop { s.value("delay_loop") { m, st, r in m[keyPath: path].delayLoop = r.seconds(st, 0.001...86400) } }
    }
}

extension HealthChecker {
    /// keepalived's connect_timeout when no block sets one.
    public static let defaultConnectTimeout = 5.0
}
