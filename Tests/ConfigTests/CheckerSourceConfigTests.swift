import Testing
@testable import Config

/// bind_port, bind_if and fwmark in every checker that keepalived gives the connection
/// options (check_api.c's install_checker_common_keywords(true)), SMTP_CHECK's host
/// blocks included; keepalived's link-local rule; what MISC_CHECK and PING_CHECK do not use.
@Suite struct CheckerSourceConfigTests {
    static let options = "bindto 10.0.0.9\n      bind_port 4711\n      bind_if eth1\n      fwmark 7"

    @Test(arguments: ["TCP_CHECK", "HTTP_GET", "SSL_GET", "UDP_CHECK", "DNS_CHECK", "SMTP_CHECK"])
    func everyConnectingCheckerTakesThem(kind: String) throws {
        let url = kind.hasSuffix("_GET") ? "\n      url {\n        path /\n      }" : ""
        let c = try ProbeCheckerConfigTests.checker("    \(kind) {\n      \(Self.options)\(url)\n    }")
        #expect(c.bindTo == "10.0.0.9" && c.bindPort == 4711 && c.bindInterface == "eth1" && c.fwmark == 7)
    }

    @Test func anSMTPHostHasItsOwnAndTheBlocksDoNotLeakIn() throws {
        let report = ProbeCheckerConfigTests.load("""
                SMTP_CHECK {
                  fwmark 3
                  host {
                    connect_ip 10.0.1.2
                    bind_port 2000
                  }
                }
            """)
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        let checkers = report.configuration.virtualServers.first?.realServers.first?.checkers ?? []
        // The block's fwmark is a connection option of its own: it keeps a checker, as in keepalived.
        #expect(checkers.map(\.fwmark) == [3, nil])
        #expect(checkers.map(\.bindPort) == [nil, 2000])
    }

    @Test func badValuesAreErrorsAtTheWord() {
        let report = ProbeCheckerConfigTests.load("""
                TCP_CHECK {
                  bind_port 0
                  bind_if averyveryverylongname0
                  fwmark -1
                }
            """)
        #expect(report.diagnostics.map(\.description) == [
            "/etc/overcast/p.conf:6:17: error: bind_port 0 is out of range 1-65535",
            "/etc/overcast/p.conf:7:15: error: bind_if: 'averyveryverylongname0' is not an interface name (at most 15 characters, no '/')",
            "/etc/overcast/p.conf:8:14: error: fwmark -1 is out of range 0-4294967295",
        ])
    }

    @Test func aLinkLocalAddressNeedsBindIf() {
        func messages(_ body: String) -> [String] {
            ConfigurationLoader.load(text: """
                virtual_server 2001:db8::1 80 {
                  real_server fe80::2 80 {
                \(body)
                  }
                }
                """).diagnostics.map(\.message)
        }
        #expect(messages("TCP_CHECK {\n}") == ["TCP_CHECK connects to the link-local address fe80::2: it needs bind_if"])
        #expect(messages("TCP_CHECK {\n bind_if eth0\n}") == [])
        #expect(messages("MISC_CHECK {\n misc_path /bin/true\n}") == [], "a script connects nowhere")
        #expect(messages("TCP_CHECK {\n connect_ip 2001:db8::2\n bindto fe80::1\n}")
                == ["TCP_CHECK binds the link-local address fe80::1: it needs bind_if"])
    }

    @Test func pingIgnoresAPortAndMiscCheckEveryConnectionOption() {
        let ping = ProbeCheckerConfigTests.load("    PING_CHECK {\n      bind_port 9\n      fwmark 2\n    }")
        #expect(ping.diagnostics.map(\.message) == ["PING_CHECK: bind_port has no meaning for an ICMP echo and is ignored"])
        let misc = ProbeCheckerConfigTests.load("    MISC_CHECK {\n      misc_path /bin/true\n      fwmark 2\n      bind_if eth0\n    }")
        #expect(misc.diagnostics.map(\.message)
                == ["MISC_CHECK makes no connection: bind_if, fwmark ignored (keepalived does not take them there)"])
    }
}
