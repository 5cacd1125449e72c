import HTTPClient

/// Why an EC2 or instance-metadata call failed, kept as precise as AWS made it: the
/// service's own error code and message are surfaced as they are.
public enum EC2Failure: Error, Sendable, CustomStringConvertible {
    /// An AWS error document: `RequestLimitExceeded`, `UnauthorizedOperation`...
    case service(code: String, message: String, requestID: String?, httpStatus: Int)
    /// An HTTP error without an AWS error document (a proxy, a load balancer).
    case http(status: Int, detail: String)
    /// A response that could not be read.
    case malformed(action: String, detail: String)
    /// No answer: connection refused, timeout, DNS...
    case transport(CurlError)
    /// No usable credentials or identity.
    case configuration(String)

    public var description: String {
        switch self {
        case .service(let code, let message, let requestID, let status):
            "\(code): \(message) (HTTP \(status)\(requestID.map { ", request \($0)" } ?? ""))"
        case .http(let status, let detail): "HTTP \(status)\(detail.isEmpty ? "" : ": \(detail)")"
        case .malformed(let action, let detail): "\(action) answered with a malformed response: \(detail)"
        case .transport(let error): error.description
        case .configuration(let message): message
        }
    }

    /// A short label for counters: the AWS code, "HTTP 503", "timeout", "malformed"...
    public var label: String {
        switch self {
        case .service(let code, _, _, _): code
        case .http(let status, _): "HTTP \(status)"
        case .malformed: "malformed"
        case .transport(let error): error.isTimeout ? "timeout" : "transport"
        case .configuration: "configuration"
        }
    }

    /// Worth trying again after a pause: throttling, server-side errors, no answer, a
    /// response cut short. Client errors (bad ids, no permission) are not.
    public var isRetryable: Bool {
        switch self {
        case .service(let code, _, _, let status):
            Self.throttlingCodes.contains(code) || Self.serverCodes.contains(code) || status >= 500
                || Self.credentialCodes.contains(code)
        case .http(let status, _): status >= 500 || status == 429
        case .malformed, .transport: true
        case .configuration: false
        }
    }

    /// The credentials were refused as expired: fetch fresh ones before retrying.
    public var wantsFreshCredentials: Bool {
        if case .service(let code, _, _, _) = self { return Self.credentialCodes.contains(code) }
        return false
    }

    static let throttlingCodes: Set<String> = ["RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException"]
    static let serverCodes: Set<String> = ["InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable"]
    static let credentialCodes: Set<String> = ["ExpiredToken", "ExpiredTokenException", "RequestExpired"]
}

/// Bounded exponential backoff with full jitter (the schedule AWS recommends): the
/// pause before retry n is uniform in [0, min(cap, base * 2^n)], so nodes throttled
/// together do not retry together.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 4, baseDelay: Double = 0.05, maxDelay: Double = 2) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// The pause after failed attempt `attempt` (0-based), given `random` in [0, 1).
    public func delay(afterAttempt attempt: Int, random: Double) -> Double {
        let ceiling = min(maxDelay, baseDelay * Double(1 << min(max(attempt, 0), 30)))
        return ceiling * min(max(random, 0), 1)
    }
}
