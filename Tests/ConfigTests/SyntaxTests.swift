import Foundation
import Testing
import TestSupport
@testable import Config

@Suite struct SyntaxTests {
    func statements(_ text: String, configID: String? = nil) -> ([Statement], [Diagnostic]) { parsed(text, configID: configID) }

    @Test(arguments: [
        ("a b\nc", "a b; c"),
        ("vrrp_instance X { state MASTER }", "vrrp_instance X {state MASTER}"),
        ("virtual_ipaddress{1.2.3.4}", "virtual_ipaddress {1.2.3.4}"),
        ("a {\n b {\n c\n }\n}", "a {b {c}}"),
        ("a\n{\n b\n}", "a {b}"),
        ("a { b } c", "a {b}; c"),
        ("a # comment { not a block\nb ! also { comment", "a; b"),
        ("script \"/bin/x y\" z", "script /bin/x y z"),
        ("script \"a \\\"q\\\" b\"", "script a \"q\" b"),
        ("a b \\\n c", "a b c"),
        ("a\r\nb\r\n", "a; b"),
        ("", ""),
        ("\n\n  \t\n", ""),
    ])
    func parsesKeepalivedSyntax(text: String, expected: String) {
        let (parsed, diagnostics) = statements(text)
        #expect(shape(parsed) == expected)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
    }

    @Test func tokensCarryLineAndColumn() {
        let (parsed, _) = statements("global_defs {\n    router_id  lb1\n}\n")
        let routerID = parsed[0].block![0]
        #expect(routerID.words[0].location == SourceLocation(file: "t.conf", line: 2, column: 5))
        #expect(routerID.words[1].location == SourceLocation(file: "t.conf", line: 2, column: 16))
    }

    /// A file saved with CRLF endings: errors name the line an editor shows. (The fuzzer's
    /// line oracle once split the text into Characters, where "\r\n" is one, and called
    /// these lines out of the file.)
    @Test func crlfFilesReportTheirLines() {
        let report = ConfigurationLoader.load(text: "! windows\r\nvrrp_instance X {\r\n    state BOGUS\r\n}\r\n", file: "crlf.conf")
        let error = report.diagnostics.first { $0.message.contains("BOGUS") }
        #expect(error?.location == SourceLocation(file: "crlf.conf", line: 3, column: 11), "\(report.diagnostics)")
    }

    @Test func conditionalLinesFollowTheConfigID() {
        let text = "@high priority 170\n@low priority 85\n@^high other 1\nplain 2"
        #expect(shape(statements(text).0) == "other 1; plain 2")
        #expect(shape(statements(text, configID: "high").0) == "priority 170; plain 2")
        #expect(shape(statements(text, configID: "low").0) == "priority 85; other 1; plain 2")
    }

    @Test(arguments: [
        ("a {\n b\n", "t.conf:1:3: error: '{' is never closed (missing '}' before the end of t.conf)"),
        ("a }\n", "t.conf:1:3: error: unexpected '}' with no open block"),
        ("{ b }", "t.conf:1:1: error: '{' without a keyword before it"),
        ("script \"/bin/x\n", "t.conf:1:8: error: unterminated quoted string"),
        ("a \u{0}\u{1}\u{2} b", "t.conf:1:3: error: binary data or invalid UTF-8; is this a keepalived.conf?"),
    ])
    func malformedSyntaxIsReportedWhereItIs(text: String, expected: String) {
        let (_, diagnostics) = statements(text)
        #expect(diagnostics.map(\.description).contains(expected), "\(diagnostics)")
    }

    @Test func deepNestingIsRefusedWithoutRecursingForever() {
        let text = String(repeating: "a {\n", count: 100_000) + String(repeating: "}\n", count: 100_000)
        let (_, diagnostics) = statements(text)
        #expect(diagnostics.contains { $0.message == "blocks nested more than 64 deep" })
    }

    @Test func randomBytesNeverCrashTheReader() {
        var rng = SeededRandom(seed: 7)
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0...2000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var lexer = Lexer(bytes: bytes, file: "random")
            _ = lexer.tokenize()
            let report = ConfigurationLoader.load(text: String(decoding: bytes, as: UTF8.self), file: "random")
            #expect(report.diagnostics.allSatisfy { $0.location.line >= 1 && $0.location.column >= 1 })
        }
    }
}
