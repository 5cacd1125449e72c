import PCRE

/// HTTP_GET's `regex` on the body, with keepalived's `regex_no_match` (the check passes
/// when the body does not match).
public struct BodyRegex: Sendable, Hashable {
    public var pattern: RegexPattern
    public var noMatch: Bool
    public init(pattern: RegexPattern, noMatch: Bool = false) {
        self.pattern = pattern
        self.noMatch = noMatch
    }

    func judge(_ body: [UInt8]) -> CheckResult {
        switch pattern.matches(body) {
        case .failure(let error):
            return .failure("regex '\(pattern.pattern)' could not be matched on the body: \(error.message)")
        case .success(let matched) where matched == noMatch:
            return .failure(noMatch ? "body matches regex '\(pattern.pattern)' (regex_no_match)" : "body does not match regex '\(pattern.pattern)'")
        case .success:
            return .success
        }
    }
}
