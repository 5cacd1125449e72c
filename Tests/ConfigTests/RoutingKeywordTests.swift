import NetworkTypes
import Testing
@testable import Config

/// `virtual_routes`, `virtual_rules`, `virtual_ipaddress_excluded`, `promote_secondaries`
/// and the static blocks: typed values for the common subset, and every word Overcast
/// cannot act on named at its place.
@Suite struct RoutingKeywordTests {
    static func instance(_ body: String) -> String {
        """
        vrrp_instance VI_1 {
          interface eth0
          virtual_router_id 51
        \(body)
        }
        """
    }

    static func network(_ text: String) -> IPv4Network? { IPv4Network(text) }

    /// The diagnostics but the once-per-block note that nothing is watched (its own test).
    static func lines(_ report: ConfigurationReport) -> [String] {
        report.diagnostics.map(\.description).filter { !$0.contains("watching the kernel") }
    }

    /// Deleted entries are watched now (the daemon's KernelWatch): no warning either way,
    /// and `no_track` is carried on routes, rules and virtual addresses.
    @Test func noTrackIsReadOnRoutesRulesAndAddressesWithoutAWarning() throws {
        let report = ConfigurationLoader.load(text: Self.instance("""
              virtual_routes {
                10.1.0.0/16 dev eth0
                10.2.0.0/16 dev eth0 no_track
              }
              virtual_rules {
                from 10.1.0.0/16 table 5 priority 9 no_track
                from 10.3.0.0/16 table 5 priority 10
              }
              virtual_ipaddress_excluded {
                192.168.30.5/32 no_track
                192.168.30.6/32
              }
              track_src_ip
            """), file: "t.conf")
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        let instance = try #require(report.configuration.instances.first)
        #expect(instance.virtualRoutes.map(\.noTrack) == [false, true])
        #expect(instance.virtualRules.map(\.noTrack) == [true, false])
        #expect(instance.virtualIPAddressesExcluded.map(\.noTrack) == [true, false])
        #expect(instance.trackSrcIP)
    }

    @Test func routesReadWithKeepalivedsOptions() throws {
        let report = ConfigurationLoader.load(text: Self.instance("""
              virtual_routes {
                src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1
                192.168.110.0/24 via 192.168.200.254 metric 7 table 100 proto static scope global tos 0x10 no_track
                192.168.111.0/24 dev eth2 no_track
                blackhole 192.168.114.0/24
                default gw 192.168.0.1 table main onlink
                unreachable 10.9.0.0/16 preference 3
              }
            """))
        #expect(Self.lines(report).isEmpty, "\(report.diagnostics)")
        let routes = try #require(report.configuration.instances.first?.virtualRoutes)
        #expect(routes.count == 6)
        #expect(routes[0].source?.description == "192.168.100.1" && routes[0].destination == Self.network("192.168.109.0/24")
                && routes[0].gateway?.description == "192.168.200.254" && routes[0].device == "eth1"
                && routes[0].table == 254 && routes[0].protocolNumber == 18 && routes[0].type == .unicast)
        #expect(routes[0].text == "src 192.168.100.1 to 192.168.109.0/24 via 192.168.200.254 dev eth1")
        #expect(routes[1].metric == 7 && routes[1].tos == 16 && routes[1].table == 100 && routes[1].protocolNumber == 4 && routes[1].scope == 0
                && routes[1].device == nil)
        #expect(routes[2].device == "eth2" && routes[2].noTrack && routes[2].gateway == nil && routes[2].protocolNumber == 3,
                "no_track without proto: boot, as ip route add")
        #expect(routes[3].type == .blackhole && routes[3].destination == Self.network("192.168.114.0/24"))
        #expect(routes[4].destination == Self.network("0.0.0.0/0") && routes[4].onLink && routes[4].table == 254)
        #expect(routes[5].type == .unreachable && routes[5].metric == 3)
        #expect(routes[2].location.line == 7 && routes[2].location.column == 5)
    }

    @Test func badRoutesAreErrorsAtTheirWord() {
        let report = ConfigurationLoader.load(text: Self.instance("""
              virtual_routes {
                192.168.110.0/24 via 192.168.200.300
                192.168.110.1/24 dev eth1
                192.168.111.0/24 table sometable
                192.168.112.0/24 encap mpls 100 via 10.0.0.1
                192.168.113.0/24 bogus 1
                via 10.0.0.1
                blackhole 10.1.0.0/16 dev eth0
                2001:db8::/64 dev eth0
                192.168.115.0/24 metric
              }
            """), file: "r.conf")
        let errors = report.diagnostics.filter { $0.severity == .error }.map(\.description)
        #expect(errors == [
            "r.conf:5:26: error: route via: '192.168.200.300' is not an IPv4 address",
            "r.conf:6:5: error: route destination: '192.168.110.1/24' has host bits set (the network is 192.168.110.0/24)",
            "r.conf:7:28: error: table 'sometable' is not main, local, default, 1-4294967295 or a name in this host's iproute2 rt_tables",
            "r.conf:8:22: error: route option 'encap' is not supported by Overcast",
            "r.conf:9:22: error: unknown route option 'bogus'",
            "r.conf:10:5: error: route has no destination",
            "r.conf:11:5: error: a blackhole route takes no via, dev or nexthop",
            "r.conf:12:5: error: route destination: IPv6 '2001:db8::/64' is not supported by Overcast",
            "r.conf:13:22: error: route option 'metric' needs a value",
        ], "\(errors)")
        #expect(report.configuration.instances.first?.virtualRoutes.isEmpty == true)
    }

    @Test func tuningOptionsAreWarnedAndTheRouteKept() throws {
        let report = ConfigurationLoader.load(text: Self.instance("""
              virtual_routes {
                192.168.200.0/24 dev eth0 mtu lock 1000 advmss 101 append
                192.168.201.0/24 via 10.0.0.1 proto bird
              }
            """), file: "w.conf")
        #expect(report.configuration.instances.first?.virtualRoutes.last?.protocolNumber == 18)
        #expect(Self.lines(report) == [
            "w.conf:5:31: warning: route option 'mtu' is not supported by Overcast; ignored (the route is added without it)",
            "w.conf:5:45: warning: route option 'advmss' is not supported by Overcast; ignored (the route is added without it)",
            "w.conf:5:56: warning: route option 'append' is not supported by Overcast; the route is added before any matching one",
            "w.conf:6:41: warning: route protocol 'bird' is reset to keepalived (18), as keepalived does for a route without no_track",
        ], "\(report.diagnostics)")
        #expect(report.configuration.instances.first?.virtualRoutes.first?.device == "eth0")
    }

    @Test func rulesReadWithEveryAction() throws {
        let report = ConfigurationLoader.load(text: Self.instance("""
              virtual_rules {
                from 192.168.2.0/24 table 1 priority 10
                to 192.168.2.0/24 table 1 no_track protocol static pref 11
                from 192.168.28.0/24 to 192.168.29.0/26 table 100 iif eth0 oif eth1 fwmark 24/0xff preference 39
                from all fwmark 0x10 priority 40 goto 100
                from 10.0.0.0/8 pref 41 blackhole
                to 10.1.0.0/16 unreachable
                to 10.2.0.0/16 prohibit order 43 tos 4
                from 10.3.0.0/16
              }
            """), file: "u.conf")
        #expect(Self.lines(report) == [
            "u.conf:10:5: warning: rule has no priority; set to 16384, as keepalived does (give each rule its own priority)",
            "u.conf:12:5: warning: rule has no priority; set to 16383, as keepalived does (give each rule its own priority)",
        ], "\(report.diagnostics)")
        let rules = try #require(report.configuration.instances.first?.virtualRules).map(\.rule)
        #expect(rules.count == 8)
        #expect(rules[0] == PolicyRule(from: Self.network("192.168.2.0/24"), priority: 10, action: .table(1), protocolNumber: 18))
        #expect(report.configuration.instances.first?.virtualRules[1].noTrack == true && rules[1].protocolNumber == 4)
        #expect(rules[2] == PolicyRule(from: Self.network("192.168.28.0/24"), to: Self.network("192.168.29.0/26"),
                                       inputInterface: "eth0", outputInterface: "eth1", fwmark: 24, fwmask: 255,
                                       priority: 39, action: .table(100), protocolNumber: 18))
        #expect(rules[3] == PolicyRule(fwmark: 16, priority: 40, action: .goto(100), protocolNumber: 18))
        #expect(rules[4].action == .blackhole && rules[4].priority == 41)
        #expect(rules[5].action == .unreachable && rules[5].priority == 16384 && rules[6].action == .prohibit && rules[6].priority == 43
                && rules[6].tos == 4)
        #expect(rules[7].action == .table(254) && rules[7].priority == 16383, "ip rule's default: the main table")
    }

    @Test func badRulesAreErrorsAtTheirWord() {
        let report = ConfigurationLoader.load(text: Self.instance("""
              virtual_rules {
                from 192.168.2.0/33 table 1
                to 192.168.2.0/24 table 1 goto 3
                not from 10.0.0.0/8 table 2
                fwmark 0xzz table 2
                from 10.0.0.0/8 table 2 uidrange 1-2
                from 10.0.0.0/8 priority -1
                from 10.0.0.0/8 table
              }
            """), file: "q.conf")
        let errors = report.diagnostics.filter { $0.severity == .error }.map(\.description)
        #expect(errors == [
            "q.conf:5:10: error: rule from: '192.168.2.0/33' is not an IPv4 address or ADDRESS/LENGTH (0-32)",
            "q.conf:6:31: error: rule has a second action 'goto'",
            "q.conf:7:5: error: rule option 'not' is not supported by Overcast",
            "q.conf:8:12: error: rule fwmark: '0xzz' is not N or N/MASK (decimal or 0x hex)",
            "q.conf:9:29: error: rule option 'uidrange' is not supported by Overcast",
            "q.conf:10:30: error: rule priority: '-1' is not a number 0-4294967295",
            "q.conf:11:21: error: rule option 'table' needs a value",
        ], "\(errors)")
        #expect(report.configuration.instances.first?.virtualRules.isEmpty == true)
    }

    @Test func excludedAddressesAndPromoteSecondariesAreKeptAndNoDADIsWarned() throws {
        let report = ConfigurationLoader.load(text: Self.instance("""
              promote_secondaries
              virtual_ipaddress {
                10.0.0.10/24 -nodad
              }
              virtual_ipaddress_excluded {
                10.0.0.11/24 dev eth1 nodad
                10.0.0.12
              }
            """), file: "x.conf")
        #expect(report.diagnostics.map(\.description) == [
            "x.conf:6:18: warning: '-nodad' has no effect on an IPv4 address (the kernel runs duplicate address detection for IPv6 only); ignored",
            "x.conf:9:27: warning: 'nodad' has no effect on an IPv4 address (the kernel runs duplicate address detection for IPv6 only); ignored",
        ], "\(report.diagnostics)")
        let i = try #require(report.configuration.instances.first)
        #expect(i.promoteSecondaries && i.virtualIPAddresses.count == 1)
        #expect(i.virtualIPAddressesExcluded.map(\.address.description) == ["10.0.0.11", "10.0.0.12"])
        #expect(i.virtualIPAddressesExcluded[0].device == "eth1" && i.virtualIPAddressesExcluded[0].prefixLength == 24)
        #expect(i.virtualIPAddressesExcluded[1].prefixLength == 32)
    }

    @Test func staticBlocksReadAtTheTopLevel() throws {
        let report = ConfigurationLoader.load(text: """
            global_defs {
              default_interface eth9
            }
            static_ipaddress {
              192.168.1.1/24 dev eth0 scope global
              192.168.1.2/24
            }
            static_routes {
              192.168.2.0/24 via 192.168.1.100 dev eth0 track_group GROUP1
            }
            static_rules {
              from 192.168.2.0/24 table 1 track_group GROUP1
            }
            """, file: "s.conf")
        #expect(Self.lines(report) == [
            "s.conf:9:45: warning: route option 'track_group' is not supported by Overcast (no instance tracks this route); ignored",
            "s.conf:12:3: warning: rule has no priority; set to 16384, as keepalived does (give each rule its own priority)",
            "s.conf:12:31: warning: rule option 'track_group' is not supported by Overcast (no instance tracks this rule); ignored",
        ], "\(report.diagnostics)")
        let c = report.configuration
        #expect(c.globalDefs.defaultInterface == "eth9")
        #expect(c.staticAddresses.map(\.address.description) == ["192.168.1.1", "192.168.1.2"])
        #expect(c.staticRoutes.first?.gateway?.description == "192.168.1.100")
        #expect(c.staticRules.first?.rule == PolicyRule(from: Self.network("192.168.2.0/24"), priority: 16384, action: .table(1),
                                                        protocolNumber: 18))
        #expect(ConfigurationLoader.load(text: "").configuration.globalDefs.defaultInterface == "eth0")
    }
}

extension RoutingKeywordTests {
    @Test func anAddressOwnedTwiceIsAnErrorAndAMissingInterfaceAWarning() {
        let text = """
            static_ipaddress {
              10.0.0.10/32 dev eth0
            }
            static_routes {
              10.5.0.0/16 via 10.0.0.1
            }
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 51
              virtual_ipaddress {
                10.0.0.10
              }
              virtual_ipaddress_excluded {
                10.0.0.11 dev eth7
              }
              virtual_routes {
                10.6.0.0/16 dev eth8
              }
            }
            vrrp_instance VI_2 {
              interface eth0
              virtual_router_id 52
              virtual_ipaddress_excluded {
                10.0.0.11
              }
            }
            """
        let report = ConfigurationLoader.load(text: text, file: "o.conf", hostInterfaces: ["eth0", "lo"])
        #expect(Self.lines(report) == [
            "o.conf:2:3: error: static address 10.0.0.10 is also managed by vrrp_instance VI_1 (a static address is never removed, so it would stay on every node)",
            "o.conf:14:5: warning: virtual_ipaddress_excluded 10.0.0.11: interface eth7 does not exist on this host",
            "o.conf:17:5: warning: route 10.6.0.0/16 dev eth8: interface eth8 does not exist on this host",
            "o.conf:24:5: error: excluded address 10.0.0.11 is also managed by vrrp_instance VI_1",
        ], "\(report.diagnostics)")
        let elsewhere = ConfigurationLoader.load(text: "global_defs {\n  default_interface ens5\n}\n" + text.replacingOccurrences(of: "10.0.0.10/32 dev eth0", with: "10.0.0.20/32"),
                                                 file: "p.conf", hostInterfaces: ["eth0"])
        #expect(elsewhere.diagnostics.map(\.description).filter { $0.contains("ens5") } == [
            "p.conf:5:3: warning: static_ipaddress 10.0.0.20: interface ens5 does not exist on this host",
        ])
    }
}

extension RoutingKeywordTests {
    @Test func tableNamesComeFromIproute2sFiles() {
        let names = RouteTableNames.parse("""
            #
            # reserved values
            255\tlocal
            254  main   # trailing comment
            0x64 small
            nonsense line
            7
            """)
        #expect(names == ["local": 255, "main": 254, "small": 100])
    }
}

extension RoutingKeywordTests {
    @Test func dumpConfigShowsEachRouteAndRuleWithItsDefaults() {
        let report = ConfigurationLoader.load(text: """
            static_routes {
              10.9.0.0/16 via 10.0.0.1 no_track
            }
            """ + Self.instance("""
              virtual_ipaddress_excluded {
                10.0.0.12/24
              }
              virtual_routes {
                10.1.0.0/16 via 10.0.0.1
              }
              virtual_rules {
                from 10.1.0.0/16 table 7
              }
            """))
        let lines = ConfigurationSummary.text(report.configuration).split(separator: "\n").map(String.init)
        #expect(lines.contains("  excluded vip 10.0.0.12/24 dev eth0"))
        #expect(lines.contains("  route 10.1.0.0/16 via 10.0.0.1 table 254 proto 18"))
        #expect(lines.contains("  rule pref 16384 from 10.1.0.0/16 table 7 proto 18"))
        #expect(lines.contains("static route 10.9.0.0/16 via 10.0.0.1 table 254 proto 3 no_track"), "\(lines)")
    }
}

extension RoutingKeywordTests {
    @Test func multipathRoutesReadFromNexthopAndFromOr() throws {
        let report = ConfigurationLoader.load(text: Self.instance("""
              virtual_routes {
                192.168.100.0/24 table 6909 nexthop via 192.168.101.1 dev wlan0 onlink weight 1 nexthop via 192.168.101.2 dev wlan0 weight 2
                192.168.113.0/24 via 192.168.200.254 or 192.168.100.254 dev eth1
              }
            """))
        #expect(Self.lines(report).isEmpty, "\(report.diagnostics)")
        let routes = try #require(report.configuration.instances.first?.virtualRoutes)
        #expect(routes[0].table == 6909 && routes[0].gateway == nil && routes[0].nextHops == [
            .init(gateway: IPv4Address("192.168.101.1"), device: "wlan0", weight: 1, onLink: true),
            .init(gateway: IPv4Address("192.168.101.2"), device: "wlan0", weight: 2),
        ])
        #expect(routes[1].gateway == nil && routes[1].device == "eth1"
                && routes[1].nextHops.map(\.gateway) == [IPv4Address("192.168.200.254"), IPv4Address("192.168.100.254")])
        #expect(routes[1].effective == "192.168.113.0/24 dev eth1 table 254 proto 18 nexthop via 192.168.200.254 dev eth1 weight 1 nexthop via 192.168.100.254 dev eth1 weight 1")

        let bad = ConfigurationLoader.load(text: Self.instance("""
              virtual_routes {
                10.1.0.0/16 nexthop via 10.0.0.1 nexthop weight 2
                10.2.0.0/16 nexthop via 10.0.0.1 weight 300
                10.3.0.0/16 nexthop via 10.0.0.1 mtu 1400
                10.4.0.0/16 or 10.0.0.2
                10.5.0.0/16 via 10.0.0.1 nexthop via 10.0.0.2
              }
            """), file: "m.conf")
        #expect(bad.diagnostics.filter { $0.severity == .error }.map(\.description) == [
            "m.conf:5:38: error: nexthop needs a via or a dev",
            "m.conf:6:45: error: nexthop weight 300 is out of range 1-256",
            "m.conf:7:38: error: unknown nexthop option 'mtu'",
            "m.conf:8:17: error: route option 'or' needs one via before it",
            "m.conf:9:30: error: route option 'nexthop' cannot follow via or or",
        ], "\(bad.diagnostics)")
    }
}

extension RoutingKeywordTests {
    /// Options that would change where packets go are refused, not dropped.
    @Test func selectorsOverlayCannotCarryOutAreErrors() {
        let report = ConfigurationLoader.load(text: Self.instance("""
              virtual_routes {
                10.1.0.0/16 dev eth0 pref high
                10.2.0.0/16 dev eth0 vrf blue
              }
              virtual_rules {
                from 10.0.0.0/8 table 2 suppress_prefixlength 0
              }
            """), file: "e.conf")
        #expect(report.diagnostics.filter { $0.severity == .error }.map(\.description) == [
            "e.conf:5:26: error: route option 'pref' is for IPv6 routes only",
            "e.conf:6:26: error: route option 'vrf' is not supported by Overcast",
            "e.conf:9:29: error: rule option 'suppress_prefixlength' is not supported by Overcast",
        ], "\(report.diagnostics)")
    }

    /// A route or rule both static and a MASTER's would be deleted from every node that
    /// leaves MASTER: an error at the static line.
    @Test func aStaticRouteOrRuleThatIsAlsoVirtualIsAnError() {
        let report = ConfigurationLoader.load(text: """
            static_routes {
              10.9.0.0/16 via 10.0.0.1 dev eth0
            }
            static_rules {
              from 10.9.0.0/16 table 7 priority 100
            }
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 51
              virtual_routes {
                10.9.0.0/16 via 10.0.0.2 dev eth0
              }
              virtual_rules {
                from 10.9.0.0/16 table 7 priority 100
              }
            }
            """, file: "o.conf")
        let errors = report.diagnostics.filter { $0.severity == .error }.map(\.description)
        #expect(errors == [
            "o.conf:2:3: error: static route 10.9.0.0/16 via 10.0.0.1 dev eth0 is also a virtual route of vrrp_instance VI_1 (leaving MASTER would delete it)",
            "o.conf:5:3: error: static rule from 10.9.0.0/16 table 7 priority 100 is also a virtual rule of vrrp_instance VI_1 (leaving MASTER would delete it)",
        ], "\(report.diagnostics)")
    }
}
