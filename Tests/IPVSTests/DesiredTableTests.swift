import Foundation
import Testing
import Config
@testable import IPVS

@Suite struct DesiredTableTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func config(_ text: String) -> OvercastConfiguration {
        let report = ConfigurationLoader.load(text: text)
        precondition(report.isValid, "\(report.diagnostics)")
        return report.configuration
    }

    @Test func theArticlesGroupBecomesOneDRServiceWithTwoWebServers() throws {
        let config = ConfigurationLoader.load(path: Self.root + "/conf/article-lvs2-backup.conf").configuration
        let (table, _) = DesiredTable.build(config, alive: { _ in true })
        let key = IPVSServiceKey.address(.tcp, "192.168.20.11", port: 80)
        #expect(Array(table.services.keys) == [key])
        #expect(table.services[key]?.scheduler == "rr")
        let dests = try #require(table.destinations[key])
        #expect(dests.keys.map(\.description).sorted() == ["172.31.8.1:80", "172.31.8.2:80"])
        #expect(dests.values.allSatisfy { $0.forwarding == .dr && $0.weight == 1 })
    }

    static let pool = """
        virtual_server 10.0.0.1 80 {
          lb_algo wlc
          lb_kind NAT
          quorum 3
          hysteresis 1
          sorry_server 10.0.9.9 8080
          real_server 10.0.1.1 80 {
            weight 2
          }
          real_server 10.0.1.2 80 {
            weight 2
            inhibit_on_failure
          }
        }
        """

    @Test func failedServersAreRemovedOrInhibitedAndQuorumBringsTheSorryServer() throws {
        let config = Self.config(Self.pool)
        let key = IPVSServiceKey.address(.tcp, "10.0.0.1", port: 80)
        func names(_ table: IPVSTable) -> [String] {
            (table.destinations[key] ?? [:]).values.sorted { $0.key < $1.key }.map { "\($0.key) \($0.weight)" }
        }
        // All up: weight 4 >= quorum 3.
        let (all, q1) = DesiredTable.build(config, alive: { _ in true })
        #expect(names(all) == ["10.0.1.1:80 2", "10.0.1.2:80 2"] && q1[0] == true)
        // 10.0.1.1 fails: removed; live weight 2 >= 3 - 1: quorum kept.
        let (one, q2) = DesiredTable.build(config, alive: { $0.address != "10.0.1.1" }, quorumWasUp: q1)
        #expect(names(one) == ["10.0.1.2:80 2"] && q2[0] == true)
        // Both fail: inhibited server stays at weight 0, quorum lost, sorry server joins.
        let (none, q3) = DesiredTable.build(config, alive: { _ in false }, quorumWasUp: q2)
        #expect(names(none) == ["10.0.1.2:80 0", "10.0.9.9:8080 1"] && q3[0] == false)
        // One comes back (weight 2 < 3 + 1): quorum still lost, hysteresis holds.
        let (back, q4) = DesiredTable.build(config, alive: { $0.address == "10.0.1.2" }, quorumWasUp: q3)
        #expect(names(back) == ["10.0.1.2:80 2", "10.0.9.9:8080 1"] && q4[0] == false)
        let (healed, q5) = DesiredTable.build(config, alive: { _ in true }, quorumWasUp: q4)
        #expect(names(healed) == ["10.0.1.1:80 2", "10.0.1.2:80 2"] && q5[0] == true)
    }

    @Test func groupsExpandRangesAndFwmarks() {
        let config = Self.config("""
            virtual_server_group G {
              10.0.0.1-3 80
              fwmark 7
            }
            virtual_server group G {
              lb_algo rr
              persistence_timeout 300
              persistence_granularity 255.255.255.0
              real_server 10.0.1.1 80 {
              }
            }
            """)
        let (table, _) = DesiredTable.build(config, alive: { _ in true })
        #expect(table.services.keys.map(\.description).sorted() == ["FWM 7", "TCP 10.0.0.1:80", "TCP 10.0.0.2:80", "TCP 10.0.0.3:80"])
        #expect(table.services.values.allSatisfy { $0.persistenceTimeout == 300 && $0.persistenceNetmask == 0xFFFF_FF00 })
        #expect(table.destinationCount == 4)
    }
}

extension DesiredTableTests {
    /// MISC_CHECK with misc_dynamic: the script's status sets a live server's weight.
    @Test func aDynamicWeightReplacesTheConfiguredOne() throws {
        let config = Self.config(Self.pool)
        let key = IPVSServiceKey.address(.tcp, "10.0.0.1", port: 80)
        let (table, _) = DesiredTable.build(config, alive: { _ in true }, weight: { $0.address == "10.0.1.1" ? 9 : nil })
        #expect(table.destinations[key]?[IPVSDestinationKey(address: "10.0.1.1", port: 80)]?.weight == 9)
        #expect(table.destinations[key]?[IPVSDestinationKey(address: "10.0.1.2", port: 80)]?.weight == 2)
    }
}
