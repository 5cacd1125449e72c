import Foundation
import Testing
import Lab
import HealthChecks
import PCRE

/// HTTP_GET and SSL_GET `regex` against the real HTTP servers of `CheckEngineTests`: the
/// plain checker's sockets and libcurl's transfers judge the body alike.
@Suite(.serialized) struct BodyRegexCheckTests {
    @Test func plainAndTLSChecksMatchTheBody() throws {
        let (server, base, directory) = try CheckEngineTests.startServers(count: 1, tls: true)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        func target(_ id: String, _ url: String, _ pattern: String, noMatch: Bool = false, options: [String] = []) throws -> CheckTarget {
            CheckTarget(id: id, url: url, connectTimeout: 2,
                        kind: .http(expectedStatus: [], digest: nil, regex: BodyRegex(pattern: try RegexPattern(pattern, options: options), noMatch: noMatch)))
        }
        let plain = "http://127.0.0.1:\(base)/", tls = "https://127.0.0.1:\(base + 1)/"
        let targets = [
            try target("match", plain, "overcast, host [0-9.:]+"),
            try target("caseless", plain, "HELLO FROM", options: ["caseless"]),
            try target("miss", plain, "goodbye"),
            try target("no-match", plain, "goodbye", noMatch: true),
            try target("no-match-hit", plain, "hello", noMatch: true),
            try target("tls-match", tls, "^hello from overcast"),
            try target("tls-miss", tls, "^goodbye"),
        ]
        #expect(targets.prefix(5).allSatisfy { $0.plain != nil } && targets[5].plain == nil)
        let results = CheckEngine().run(targets)
        #expect(results["match"] == .success && results["caseless"] == .success && results["no-match"] == .success, "\(results)")
        #expect(results["miss"] == .failure("body does not match regex 'goodbye'"))
        #expect(results["no-match-hit"] == .failure("body matches regex 'hello' (regex_no_match)"))
        #expect(results["tls-match"] == .success, "\(results)")
        #expect(results["tls-miss"] == .failure("body does not match regex '^goodbye'"))
    }
}
