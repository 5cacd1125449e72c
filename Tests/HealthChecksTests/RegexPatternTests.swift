import Testing
import PCRE
@testable import HealthChecks

/// HTTP_GET's body regex on libpcre2: keepalived's meanings of regex, regex_no_match and
/// regex_options, compile errors with their offset, and a bounded match on hostile bodies.
@Suite struct RegexPatternTests {
    static func body(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func aPatternMatchesOrNotWithItsOptions() throws {
        let plain = try RegexPattern("status: (ok|ready)")
        #expect(plain.matches(Self.body("<p>status: ready</p>")) == .success(true))
        #expect(plain.matches(Self.body("status: OK")) == .success(false))
        #expect(try RegexPattern("status: (ok|ready)", options: ["caseless"]).matches(Self.body("status: OK")) == .success(true))
        #expect(try RegexPattern("^up$", options: ["multiline"]).matches(Self.body("x\nup\ny")) == .success(true))
        #expect(try RegexPattern("^up$").matches(Self.body("x\nup\ny")) == .success(false))
        #expect(plain.matches([]) == .success(false))
        #expect(try RegexPattern("").matches([]) == .success(true))
        // Bodies are bytes: a NUL or invalid UTF-8 is matched like any other byte.
        #expect(try RegexPattern("a\\x00b").matches([0x61, 0x00, 0x62, 0xFF]) == .success(true))
    }

    @Test func aBadPatternSaysWhereAndWhy() {
        #expect(throws: RegexPattern.CompileError.self) { try RegexPattern("status: (ok") }
        do {
            _ = try RegexPattern("ab[c")
            Issue.record("compiled")
        } catch {
            #expect(error.offset == 4 && error.message.contains("missing terminating ]"), "\(error)")
        }
    }

    @Test func catastrophicBacktrackingIsStoppedAndReported() throws {
        let pattern = try RegexPattern("(a+)+$")
        let hostile = [UInt8](repeating: 0x61, count: 40) + [0x62]
        guard case .failure(let error) = pattern.matches(hostile) else { Issue.record("matched"); return }
        #expect(error.message.contains("limit"), "\(error.message)")
    }

    @Test func theCheckJudgesWithNoMatchAndReasons() throws {
        let pattern = try RegexPattern("healthy")
        #expect(BodyRegex(pattern: pattern).judge(Self.body("I am healthy")) == .success)
        #expect(BodyRegex(pattern: pattern).judge(Self.body("sick")) == .failure("body does not match regex 'healthy'"))
        #expect(BodyRegex(pattern: pattern, noMatch: true).judge(Self.body("sick")) == .success)
        #expect(BodyRegex(pattern: pattern, noMatch: true).judge(Self.body("healthy"))
                == .failure("body matches regex 'healthy' (regex_no_match)"))
        let target = CheckTarget(id: "x", url: "http://10.0.0.1/", connectTimeout: 1,
                                 kind: .http(expectedStatus: [], digest: nil, regex: BodyRegex(pattern: pattern)))
        #expect(target.judge(status: 200, body: Self.body("healthy")) == .success)
        #expect(target.judge(status: 503, body: Self.body("healthy")) == .failure("HTTP status 503"))
    }
}
