import Testing
@testable import Config

/// PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK in a real_server: their keywords with
/// keepalived's meaning, the common options, and errors at FILE:LINE:COL.
@Suite struct ProbeCheckerConfigTests {
    static func load(_ checker: String) -> ConfigurationReport {
        ConfigurationLoader.load(text: """
            virtual_server 10.0.0.1 53 {
              delay_loop 5
              protocol UDP
              real_server 10.0.1.1 53 {
            \(checker)
              }
            }
            """, file: "/etc/overcast/p.conf")
    }

    static func checker(_ text: String) throws -> HealthChecker {
        let report = load(text)
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        return try #require(report.configuration.virtualServers.first?.realServers.first?.checkers.first)
    }

    @Test func pingCheckTakesTheCommonOptions() throws {
        let c = try Self.checker("""
            PING_CHECK {
              connect_ip 10.0.2.1
              connect_timeout 2
              retry 4
              delay_before_retry 0.5
              warmup 1
              delay_loop 3
              bindto 10.0.0.9
            }
            """)
        #expect(c.kind == .pingCheck && c.connectIP == "10.0.2.1" && c.connectTimeout == 2 && c.retry == 4)
        #expect(c.delayBeforeRetry == 0.5 && c.warmup == 1 && c.delayLoop == 3 && c.bindTo == "10.0.0.9")
    }

    @Test func udpCheckReadsKeepalivedsHexStrings() throws {
        let c = try Self.checker("""
            UDP_CHECK {
              connect_port 5353
              payload 01 02ab c
              require_reply CA fex1
              min_reply_length 2
              max_reply_length 512
            }
            """)
        #expect(c.kind == .udpCheck && c.connectPort == 5353)
        #expect(c.payload == [0x01, 0x02, 0xAB, 0x0C])
        #expect(c.requireReply && c.replyData == [0xCA, 0xFE, 0x01] && c.replyMask == [0, 0, 0xF0])
        #expect(c.minReplyLength == 2 && c.maxReplyLength == 512)
        let bare = try Self.checker("UDP_CHECK {\n require_reply\n}")
        #expect(bare.requireReply && bare.replyData == nil && bare.payload == nil)
    }

    @Test func dnsAndSMTPChecksReadTheirKeywords() throws {
        let dns = try Self.checker("DNS_CHECK {\n type aaaa\n name www.example.test\n}")
        #expect(dns.kind == .dnsCheck && dns.dnsType == "AAAA" && dns.dnsName == "www.example.test")
        let root = try Self.checker("DNS_CHECK {\n name .\n}")
        #expect(root.dnsName == "." && root.dnsType == nil)
        let smtp = try Self.checker("SMTP_CHECK {\n helo_name checker.example\n connect_port 25\n}")
        #expect(smtp.kind == .smtpCheck && smtp.heloName == "checker.example" && smtp.connectPort == 25)
    }

    /// Each bad value is an error at its own token: line 6 of the file is the checker's
    /// first keyword (the checker text starts on line 5).
    @Test func badValuesAreErrorsAtTheirToken() {
        func errors(_ text: String) -> [String] { Self.load(text).diagnostics.filter { $0.severity == .error }.map(\.description) }
        #expect(errors("UDP_CHECK {\n  payload 01 zz\n}") == ["/etc/overcast/p.conf:6:14: error: payload: 'z' in 'zz' is not one of hex digits"])
        #expect(errors("UDP_CHECK {\n  payload\n}") == ["/etc/overcast/p.conf:6:3: error: 'payload' needs 1-\(Int.max) values"])
        #expect(errors("UDP_CHECK {\n  payload 0x\n}") == ["/etc/overcast/p.conf:6:11: error: payload: 'x' in '0x' is not one of hex digits"])
        #expect(errors("UDP_CHECK {\n  require_reply 0g\n}")
                == ["/etc/overcast/p.conf:6:17: error: require_reply: 'g' in '0g' is not one of hex digits and x wildcards"])
        #expect(errors("UDP_CHECK {\n  max_reply_length 70000\n}") == ["/etc/overcast/p.conf:6:20: error: max_reply_length 70000 is out of range 0-65535"])
        #expect(errors("DNS_CHECK {\n  type PTR\n}")
                == ["/etc/overcast/p.conf:6:8: error: type: 'PTR' is not one of A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY"])
        #expect(errors("DNS_CHECK {\n  name a..b\n}") == ["/etc/overcast/p.conf:6:8: error: name: 'a..b' has an empty label"])
        #expect(errors("DNS_CHECK {\n  name .example\n}") == ["/etc/overcast/p.conf:6:8: error: name: '.example' has an empty label"])
        #expect(errors("PING_CHECK {\n  connect_ip nowhere\n}") == ["/etc/overcast/p.conf:6:14: error: connect_ip: 'nowhere' is not an address"])
        // A keyword of another checker is unknown here (an error or, with the lead's
        // registry, a warning: either way at the keyword).
        func all(_ text: String) -> [String] { Self.load(text).diagnostics.map(\.description) }
        #expect(all("PING_CHECK {\n  payload 01\n}").first?.hasPrefix("/etc/overcast/p.conf:6:3:") == true)
        #expect(all("PING_CHECK {\n  payload 01\n}").first?.contains("unknown keyword 'payload'") == true)
        #expect(all("SMTP_CHECK {\n  type A\n}").first?.contains("unknown keyword 'type'") == true)
    }

    @Test func bindtoMustBeOfTheCheckedAddresssFamily() {
        let errors = Self.load("SMTP_CHECK {\n  bindto fd00::9\n}").diagnostics.map(\.description)
        #expect(errors == ["/etc/overcast/p.conf:5:1: error: SMTP_CHECK: bindto fd00::9 cannot reach 10.0.1.1: one is IPv4, the other IPv6"])
        #expect(Self.load("SMTP_CHECK {\n  bindto fd00::9\n  connect_ip fd00::25\n}").diagnostics.isEmpty)
    }

    @Test func aCheckerThatNeedsAPortHasOne() {
        let text = "virtual_server 10.0.0.1 53 {\n  real_server 10.0.1.1 {\n    DNS_CHECK {\n    }\n    PING_CHECK {\n    }\n  }\n}"
        #expect(ConfigurationLoader.load(text: text, file: "/etc/overcast/p.conf").diagnostics.map(\.description)
                == ["/etc/overcast/p.conf:3:5: error: DNS_CHECK needs connect_port when its real_server has no port"])
        let withPort = text.replacingOccurrences(of: "DNS_CHECK {", with: "DNS_CHECK {\n connect_port 53")
        #expect(ConfigurationLoader.load(text: withPort).diagnostics.isEmpty)
    }

    @Test func minAboveMaxIsAWarningAsInKeepalived() {
        let report = Self.load("UDP_CHECK {\n  require_reply 01\n  min_reply_length 300\n}")
        #expect(report.diagnostics.map(\.description)
                == ["/etc/overcast/p.conf:5:1: warning: UDP_CHECK min_reply_length 300 > max_reply_length 255: the check will always fail"])
    }

    @Test func bfdCheckIsStillAcceptedWithANote() {
        let report = Self.load("BFD_CHECK {\n  name x\n}")
        #expect(report.diagnostics.allSatisfy { $0.severity != .error }, "\(report.diagnostics)")
    }

    static func url(_ lines: String) -> ConfigurationReport {
        load("HTTP_GET {\n  url {\n    path /\n\(lines)\n  }\n}")
    }

    @Test func httpGetRegexIsReadAndCompiled() throws {
        let report = Self.url("    regex \"status: (ok|ready)\"\n    regex_no_match\n    regex_options caseless multiline")
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        let url = try #require(report.configuration.virtualServers.first?.realServers.first?.checkers.first?.urls.first)
        #expect(url.regex == "status: (ok|ready)" && url.regexNoMatch && url.regexOptions == ["caseless", "multiline"])
    }

    @Test func aBadRegexIsAnErrorAtThePattern() {
        // The url's lines start at line 8 of the file: regex on 8, its pattern at column 11.
        #expect(Self.url("    regex \"ab[c\"").diagnostics.map(\.description)
                == ["/etc/overcast/p.conf:8:11: error: regex: 'ab[c' does not compile at offset 4: missing terminating ] for character class"])
        #expect(Self.url("    regex x\n    regex_options caseless loud").diagnostics.first?.description.hasPrefix(
            "/etc/overcast/p.conf:9:28: error: regex_options: 'loud' is not one of allow_empty_class") == true)
        #expect(Self.url("    regex_no_match").diagnostics.map(\.severity) == [.warning])
        #expect(Self.url("    regex x\n    regex_min_offset 3").diagnostics.map(\.severity) != [.error])
    }
}
