import Testing
@testable import Config

@Suite struct MetricsConfigTests {
    static func config(_ listen: String) -> String {
        """
        global_defs {
          router_id lb1
          metrics_listen \(listen)
        }
        """
    }

    @Test(arguments: [
        ("127.0.0.1:9650", "127.0.0.1", 9650, "127.0.0.1:9650"),
        ("0.0.0.0:1", "0.0.0.0", 1, "0.0.0.0:1"),
        ("[::1]:9650", "::1", 9650, "[::1]:9650"),
        ("[2001:db8::7]:65535", "2001:db8::7", 65535, "[2001:db8::7]:65535"),
    ])
    func anAddressAndPortAreAccepted(text: String, address: String, port: Int, shown: String) {
        let report = ConfigurationLoader.load(text: Self.config(text), file: "/etc/keepalived/keepalived.conf")
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        #expect(report.configuration.globalDefs.metricsListen == ListenAddress(address: address, port: port))
        #expect(report.configuration.globalDefs.metricsListen?.description == shown)
    }

    @Test func offUnlessConfigured() {
        let report = ConfigurationLoader.load(text: "global_defs {\n  router_id lb1\n}\n")
        #expect(report.configuration.globalDefs.metricsListen == nil)
    }

    @Test(arguments: [
        ("9650", "has no :PORT"),
        ("127.0.0.1:0", "is not a TCP port"),
        ("127.0.0.1:65536", "is not a TCP port"),
        ("127.0.0.1:http", "is not a TCP port"),
        ("localhost:9650", "is not an IPv4 address"),
        ("::1:9650", "is not an IPv4 address"),
        ("[::1]9650", "is not [IPv6]:PORT"),
        ("[127.0.0.1]:9650", "is not an IPv6 address"),
    ])
    func anythingElseIsAnErrorAtItsLine(text: String, reason: String) {
        let report = ConfigurationLoader.load(text: Self.config(text), file: "/etc/keepalived/keepalived.conf")
        let errors = report.diagnostics.filter { $0.severity == .error }
        #expect(errors.count == 1 && errors[0].location.line == 3 && errors[0].message.contains(reason)
                && errors[0].message.hasPrefix("metrics_listen: "), "\(report.diagnostics)")
        #expect(!report.isValid)
    }
}
