import Testing
@testable import Config

/// Accept Mode and strict mode as keepalived decides them (vrrp.c's instance completion).
@Suite struct AcceptModeConfigTests {
    static func instance(_ body: String, global: String = "") -> String {
        """
        global_defs {
        \(global)
        }
        vrrp_instance VI_1 {
          interface eth0
          virtual_router_id 51
          virtual_ipaddress {
            10.0.0.100
          }
        \(body)
        }
        """
    }

    static func load(_ body: String, global: String = "") -> ConfigurationReport {
        ConfigurationLoader.load(text: instance(body, global: global), file: "k.conf")
    }

    @Test func theDecisionIsKeepaliveds() {
        #expect(AcceptMode.decide(written: nil, priority: 100, strict: false, version: 2).accept)
        #expect(!AcceptMode.decide(written: nil, priority: 100, strict: true, version: 3).accept)
        #expect(AcceptMode.decide(written: false, priority: 255, strict: true, version: 3).accept)
        #expect(AcceptMode.decide(written: true, priority: 100, strict: true, version: 3).accept)
        #expect(AcceptMode.decide(written: true, priority: 100, strict: true, version: 2)
                == .init(accept: false, resetForVersion2: true))
        #expect(AcceptMode.decide(written: nil, priority: 255, strict: true, version: 2) == .init(accept: true, resetForVersion2: false))
    }

    @Test func acceptIsOnByDefaultAndNoAcceptDropsTraffic() throws {
        let plain = Self.load("")
        #expect(plain.diagnostics.isEmpty, "\(plain.diagnostics)")
        let i = try #require(plain.configuration.instances.first)
        #expect(i.accept == true && i.strictMode == false && !i.dropsVIPTraffic)
        let off = try #require(Self.load("no_accept").configuration.instances.first)
        #expect(off.accept == false && off.dropsVIPTraffic)
        let owner = try #require(Self.load("no_accept\npriority 255").configuration.instances.first)
        #expect(owner.accept == true && !owner.dropsVIPTraffic)
    }

    @Test func strictModeTurnsAcceptOffAndVersion2AcceptIsResetWithAWarning() throws {
        let strict = Self.load("version 3", global: "vrrp_strict")
        #expect(strict.diagnostics.isEmpty, "\(strict.diagnostics)")
        #expect(strict.configuration.instances.first?.dropsVIPTraffic == true)
        let instanceStrict = try #require(Self.load("strict_mode\nversion 3").configuration.instances.first)
        #expect(instanceStrict.strictMode == true && instanceStrict.accept == false)
        let overridden = try #require(Self.load("strict_mode off", global: "vrrp_strict").configuration.instances.first)
        #expect(overridden.strictMode == false && overridden.accept == true)

        let v2 = Self.load("accept", global: "vrrp_strict")
        #expect(v2.configuration.instances.first?.accept == false)
        let warning = try #require(v2.diagnostics.first)
        #expect(warning.severity == .warning && warning.message.contains("RFC 3768"))
        #expect(warning.location.file == "k.conf" && warning.location.line == 10 && warning.location.column == 1)
    }

    @Test func strictModeRefusesUnicastPeersAndHMACAndNoVIPs() throws {
        let unicast = Self.load("unicast_peer {\n 10.0.0.2\n}", global: "vrrp_strict")
        let error = try #require(unicast.diagnostics.first { $0.severity == .error })
        #expect(error.message.contains("unicast peers are not supported in strict mode") && error.location.line == 10)
        let hmac = Self.load("authentication {\n auth_type HMAC_SHA256\n auth_key_file /nonexistent\n}", global: "vrrp_strict")
        #expect(hmac.diagnostics.contains { $0.severity == .error && $0.message.contains("HMAC_SHA256 is Overcast's extension") })
        let noVIPs = ConfigurationLoader.load(text: "global_defs {\n vrrp_strict\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n no_virtual_ipaddress\n}")
        #expect(noVIPs.diagnostics.contains { $0.severity == .warning && $0.message.contains("no_virtual_ipaddress is incompatible") })
        #expect(noVIPs.diagnostics.contains { $0.severity == .error && $0.message.contains("no VIP specified") })
        #expect(noVIPs.configuration.instances.first?.noVirtualIPAddress == false)
    }

    @Test func strictModeResetsWhatKeepalivedResets() throws {
        let report = Self.load("state MASTER\npreempt_delay 10\nauthentication {\n auth_type PASS\n auth_pass secret\n}",
                               global: "vrrp_strict")
        #expect(!report.diagnostics.contains { $0.severity == .error }, "\(report.diagnostics)")
        let i = try #require(report.configuration.instances.first)
        #expect(i.state == .backup && i.preemptDelay == 0 && i.authType == nil && i.authPass == nil)
        let messages = report.diagnostics.map(\.message)
        #expect(messages.contains { $0.contains("state MASTER must match being the address owner") })
        #expect(messages.contains { $0.contains("preempt_delay is incompatible") })
        #expect(messages.contains { $0.contains("does not support authentication") })
        #expect(report.diagnostics.first { $0.message.contains("preempt_delay") }?.location.line == 11)
    }

    @Test func nftablesKeywordsSetTheTable() throws {
        let report = Self.load("no_accept", global: "nftables vrrp_fw\nnftables_priority -5\nnftables_counters")
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        #expect(report.configuration.globalDefs.vipFirewall == VIPFirewallSettings(table: "vrrp_fw", priority: -5, counters: true))
        #expect(Self.load("", global: "nftables").configuration.globalDefs.vipFirewall.table == "keepalived")
        let bad = Self.load("", global: "nftables \"x; flush ruleset\"\nnftables_priority high")
        #expect(bad.diagnostics.filter { $0.severity == .error }.count == 2, "\(bad.diagnostics)")
        let legacy = Self.load("", global: "vrrp_iptables IN OUT")
        #expect(legacy.diagnostics.contains { $0.severity == .warning && $0.message.contains("nftables") })
    }
}
