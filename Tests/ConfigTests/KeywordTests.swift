import Foundation
import Testing
@testable import Config

@Suite struct KeywordTests {
    static let minimal = """
        vrrp_instance VI_1 {
          interface eth0
          virtual_router_id 51
        }
        """

    @Test func defaultsAreKeepalivedsAndTheTransportFollowsThePeers() throws {
        let report = ConfigurationLoader.load(text: Self.minimal)
        #expect(report.diagnostics.isEmpty)
        let i = try #require(report.configuration.instances.first)
        #expect(i.priority == 100 && i.advertInt == 1 && i.version == 2 && i.state == .backup && !i.nopreempt)
        #expect(i.unicastTTL == 255 && i.transport == .multicast)
        let withPeer = ConfigurationLoader.load(text: Self.minimal.replacingOccurrences(
            of: "}", with: "unicast_peer {\n 10.0.0.2\n}\n}"))
        #expect(withPeer.configuration.instances.first?.transport == .unicast)
    }

    @Test func theArticlesFilesReadCleanWithTheirMeaning() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let backup = ConfigurationLoader.load(path: root.appendingPathComponent("conf/article-lvs2-backup.conf").path)
        #expect(backup.diagnostics.isEmpty, "\(backup.diagnostics)")
        let i = try #require(backup.configuration.instances.first)
        #expect(i.virtualRouterID == 51 && i.priority == 100 && i.authType == .password && i.authPass == "1111")
        #expect(i.unicastSrcIP?.description == "172.31.18.164" && i.unicastPeers.map(\.description) == ["172.31.18.163"]
                && i.transport == .unicast)
        #expect(i.virtualIPAddresses.map(\.address.description) == ["192.168.20.11"])
        #expect(i.notify.master == "/etc/keepalived/notify_master.sh")
        let vs = try #require(backup.configuration.virtualServers.first)
        #expect(vs.key == .group("VSG_1") && vs.scheduler == "rr" && vs.forwardingMethod == "DR" && vs.delayLoop == 6)
        #expect(vs.realServers.map(\.address) == ["172.31.8.1", "172.31.8.2"])
        #expect(vs.realServers.allSatisfy { $0.checkers.first?.kind == .httpGet && $0.checkers.first?.urls.first?.path == "/" })
        let master = ConfigurationLoader.load(path: root.appendingPathComponent("conf/article-lvs1-master.conf").path)
        #expect(master.diagnostics.isEmpty)
        #expect(master.configuration.instances.first?.unicastPeers.map(\.description) == ["172.31.18.164"])
        #expect(master.configuration.instances.first?.priority == 101)

        for example in ["unicast.conf", "gre.conf", "replicate.conf"] {
            let report = ConfigurationLoader.load(path: root.appendingPathComponent("conf/" + example).path)
            #expect(report.diagnostics.isEmpty, "\(example): \(report.diagnostics)")
        }
        let gre = ConfigurationLoader.load(path: root.appendingPathComponent("conf/gre.conf").path).configuration
        #expect(gre.instances.first?.transport == .gre)
        #expect(gre.overlays.first?.peers.map(\.description) == ["172.31.18.164", "172.31.18.165"] && gre.overlays.first?.mtu == nil)
    }

    /// Each bad input gives its own message at its own place, and all of them in one run.
    @Test func everyProblemIsReportedInOneRun() {
        let text = """
            global_defs {
              router_idd lb1
              vrrp_version 4
            }
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 256
              priority abc
              advert_int -1
              unicast_peer {
                10.0.0.300
              }
              virtual_ipaddress {
                192.168.20.11/33
                192.168.20.12 dev
                192.168.20.13 bogus
              }
              transport carrier-pigeon
              state SLAVE
              authentication {
                auth_type PASS
              }
              ec2_route_failover {
                route_table vpc-123
                endpoint ftp://x
              }
            }
            vrrp_instance VI_2 {
              interface eth0
              virtual_router_id 52
              virtual_ipaddress {
                192.168.20.99
              }
              transport gre
            }
            vrrp_instance VI_3 {
              interface eth0
              virtual_router_id 52
              virtual_ipaddress {
                192.168.20.99
              }
              version 3
              advert_int 41
            }
            virtual_server 10.0.0.1 99999 {
            }
            virtual_server 10.0.0.1 80 {
              lb_algo round-robin
              real_server 10.0.0.2 80 {
                HTTP_GET {
                  connect_timeout 3
                }
              }
            }
            overlay ovc0 {
              local 10.0.0.1
            }
            """
        let report = ConfigurationLoader.load(text: text, file: "bad.conf")
        let lines = Set(report.diagnostics.filter { $0.severity == .error }.map(\.description))
        let expected: [String] = [
            "bad.conf:3:16: error: vrrp_version 4 is out of range 2-3",
            "bad.conf:7:21: error: virtual_router_id 256 is out of range 1-255",
            "bad.conf:8:12: error: priority: 'abc' is not a whole number",
            "bad.conf:9:14: error: advert_int -1 is out of range 0.01-255 seconds",
            "bad.conf:11:5: error: unicast_peer: '10.0.0.300' is not an IPv4 address",
            "bad.conf:14:5: error: prefix length 33 is out of range 0-32",
            "bad.conf:15:19: error: 'dev' needs a value",
            "bad.conf:16:19: error: unknown virtual_ipaddress option 'bogus'",
            "bad.conf:18:13: error: 'transport': 'carrier-pigeon' is not one of multicast, unicast, gre, replicate",
            "bad.conf:19:9: error: 'state': 'SLAVE' is not one of MASTER, BACKUP",
            "bad.conf:24:17: error: route_table: 'vpc-123' is not a route table id (rtb-...)",
            "bad.conf:25:14: error: endpoint: 'ftp://x' is not an http:// or https:// URL",
            "bad.conf:23:3: error: ec2_route_failover needs at least one route_table",
            "bad.conf:5:1: error: vrrp_instance VI_1 has no virtual_router_id (1-255)",
            "bad.conf:28:1: error: vrrp_instance VI_2: transport gre needs interface to name an overlay block (ovc0)",
            "bad.conf:36:1: error: virtual_router_id 52 on eth0 is already used by the instance at bad.conf:28:1",
            "bad.conf:36:1: error: vrrp_instance VI_3: VRRPv3 advert_int is at most 40.95 seconds, not 41",
            "bad.conf:40:5: error: virtual address 192.168.20.99 is also managed by vrrp_instance VI_2",
            "bad.conf:45:25: error: port 99999 is out of range 0-65535",
            "bad.conf:48:11: error: 'lb_algo': 'round-robin' is not one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq, fo, ovf, mh",
            "bad.conf:50:5: error: HTTP_GET needs at least one url { path ... }",
            "bad.conf:55:1: error: overlay ovc0 needs peers { ... }",
            "bad.conf:55:1: error: overlay ovc0 needs address (this node's overlay CIDR)",
        ]
        for line in expected { #expect(lines.contains(line), "missing: \(line)") }
        #expect(lines.count == expected.count, "unexpected: \(lines.subtracting(expected).sorted())")
        // An unknown keyword is a warning, as keepalived logs it and goes on.
        #expect(report.diagnostics.map(\.description).contains(
            "bad.conf:2:3: warning: unknown keyword 'router_idd' in global_defs; ignored; did you mean 'router_id'?"))
        // auth_type PASS without auth_pass is not reported for VI_1 only because
        // VI_1 stopped at its missing VRID; check it on its own.
        let pass = ConfigurationLoader.load(text: "vrrp_instance A {\n interface e\n virtual_router_id 1\n authentication {\n auth_type PASS\n }\n}")
        #expect(pass.diagnostics.map(\.message) == ["vrrp_instance A: auth_type PASS needs auth_pass"])
    }

    @Test func keepalivedKeywordsOvercastIgnoresAreWarningsNamingThem() {
        let report = ConfigurationLoader.load(text: "global_defs {\n  enable_snmp_vrrp\n}\n" + Self.minimal.replacingOccurrences(of: "}", with: "  use_vmac\n}"), file: "w.conf")
        #expect(report.isValid)
        #expect(report.diagnostics.map(\.description) == [
            "w.conf:2:3: warning: keepalived keyword 'enable_snmp_vrrp' is not supported by Overcast; ignored (SNMP and D-Bus: Overcast has `overcast status` and metrics)",
            "w.conf:7:3: warning: keepalived keyword 'use_vmac' is not supported by Overcast; ignored (VMAC interfaces do not exist on cloud networks)",
        ])
    }

    @Test func hostFactsAreWarningsOnly() {
        let report = ConfigurationLoader.load(text: Self.minimal, file: "h.conf", hostInterfaces: ["lo", "ens5"])
        #expect(report.isValid)
        #expect(report.diagnostics.map(\.description) == ["h.conf:1:1: warning: vrrp_instance VI_1: interface eth0 does not exist on this host"])
    }

    @Test func versionRulesForAdvertInt() {
        let v2 = ConfigurationLoader.load(text: Self.minimal.replacingOccurrences(of: "}", with: "advert_int 0.5\n}"))
        #expect(v2.isValid && v2.configuration.instances.first?.advertInt == 1)
        #expect(v2.diagnostics.first?.message.contains("VRRPv2 advertises whole seconds") == true)
        let v3 = ConfigurationLoader.load(text: Self.minimal.replacingOccurrences(of: "}", with: "version 3\nadvert_int 0.05\n}"))
        #expect(v3.diagnostics.isEmpty && v3.configuration.instances.first?.advertInt == 0.05)
    }

    @Test func dumpConfigJSONRoundTrips() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = ConfigurationLoader.load(path: root.appendingPathComponent("conf/unicast.conf").path).configuration
        let data = try JSONEncoder().encode(config)
        #expect(try JSONDecoder().decode(OvercastConfiguration.self, from: data) == config)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"transport\":\"unicast\""))
        #expect(text.contains("\"routeTables\":[\"rtb-0123456789abcdef0\"]"))
    }

    @Test func ec2RouteFailoverDefaultsAndLimits() {
        func load(_ body: String) -> ConfigurationReport {
            ConfigurationLoader.load(text: "vrrp_instance A {\n interface e\n virtual_router_id 1\n virtual_ipaddress {\n 192.168.20.11\n }\n"
                                     + " ec2_route_failover {\n route_table rtb-1 rtb-2\n\(body)\n }\n}\n", file: "e.conf")
        }
        let defaults = load("").configuration.instances.first?.ec2RouteFailover
        #expect(defaults?.routeTables == ["rtb-1", "rtb-2"] && defaults?.refresh == 30 && defaults?.apiTimeout == 3)
        #expect(defaults?.target == .instance && defaults?.instanceID == nil)
        let set = load(" api_timeout 0.5\n refresh 2\n target eni\n instance_id i-0abc").configuration.instances.first?.ec2RouteFailover
        #expect(set?.apiTimeout == 0.5 && set?.refresh == 2 && set?.target == .eni && set?.instanceID == "i-0abc")
        let bad = load(" api_timeout 100\n refresh 0\n instance_id abc")
        #expect(bad.diagnostics.filter { $0.severity == .error }.count == 3, "\(bad.diagnostics)")
        #expect(bad.diagnostics.contains { $0.message.contains("api_timeout") && $0.location.line == 9 }, "\(bad.diagnostics)")
    }

    /// `old_unicast_checksum [never]` in an instance, and a wrong word at its column.
    @Test func oldUnicastChecksumReadsItsTwoForms() {
        func read(_ line: String) -> ConfigurationReport {
            ConfigurationLoader.load(text: Self.minimal.replacingOccurrences(of: "}", with: "  \(line)\n}"), file: "c.conf")
        }
        #expect(read("").configuration.instances.first?.unicastChecksum == .current)
        #expect(read("old_unicast_checksum").configuration.instances.first?.unicastChecksum == .old)
        #expect(read("old_unicast_checksum never").configuration.instances.first?.unicastChecksum == .currentOnly)
        let bad = read("old_unicast_checksum sometimes")
        #expect(bad.diagnostics.contains { $0.severity == .error && $0.message == "old_unicast_checksum: 'sometimes' is not 'never'" },
                "\(bad.diagnostics)")
    }
}
