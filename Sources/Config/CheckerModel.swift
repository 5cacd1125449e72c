/// What a `real_server`'s health checkers are configured to do.
public struct HTTPURL: Codable, Hashable, Sendable {
    public var path = "/"
    public var digest: String?
    public var statusCodes: [Int] = []
    public var virtualhost: String?
}

public struct HealthChecker: Codable, Hashable, Sendable {
    public enum Kind: String, Codable, Hashable, Sendable {
        case httpGet = "HTTP_GET", sslGet = "SSL_GET", tcpCheck = "TCP_CHECK", miscCheck = "MISC_CHECK"
    }
    public var kind: Kind
    public var urls: [HTTPURL] = []
    public var connectIP: String?
    public var connectPort: Int?
    public var bindTo: String?
    public var connectTimeout = 5.0
    public var retry: Int?
    public var delayBeforeRetry: Double?
    public var delayLoop: Double?
    public var warmup: Double?
    public var virtualhost: String?
    public var miscPath: String?
    public var miscTimeout: Double?
    public var miscDynamic = false
    public var user: String?
    public var location: SourceLocation
}
