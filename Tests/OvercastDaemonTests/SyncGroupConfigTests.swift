import Config
import InstanceConfiguration
import NetworkTypes
import Testing
import VRRP

/// A sync group's track_interface and track_script reach every member's core; its
/// notify scripts reach the group's core.
@Suite struct SyncGroupConfigTests {
    static let text = """
        vrrp_script chk {
          script /bin/true
        }
        vrrp_script grp {
          script /bin/true
        }
        vrrp_sync_group G {
          group {
            VI_1
            VI_2
          }
          track_interface {
            eth1
          }
          track_script {
            grp
          }
          notify "/g/notify.sh"
          notify_master_rx_lower_pri /g/reclaim.sh nobody
        }
        vrrp_instance VI_1 {
          interface eth0
          virtual_router_id 51
          notify_master_rx_lower_pri /i/reclaim.sh
          notify_priority_changes
          track_script {
            chk
          }
        }
        vrrp_instance VI_2 {
          interface eth0
          virtual_router_id 52
          track_interface {
            eth1 weight -20
          }
        }
        """

    @Test func syncGroupTrackingReachesEveryMemberAndItsNotifiesTheGroup() throws {
        let report = ConfigurationLoader.load(text: Self.text)
        let group = try #require(report.configuration.syncGroups.first)
        #expect(group.trackInterfaces.map(\.name) == ["eth1"])
        let instance = try #require(report.configuration.instances.first { $0.name == "VI_1" })
        let core = try InstanceCore.Configuration(instance, in: report.configuration, source: IPv4Address(10, 0, 0, 1))
        #expect(core.tracked.map(\.name).sorted() == ["chk", "eth0", "eth1", "grp"])
        #expect(core.notify.masterRxLowerPriority == "/i/reclaim.sh" && core.notify.priorityChanges)
        let groupCore = SyncGroupCore.Configuration(group, running: ["VI_1"], globals: report.configuration.globalDefs)
        #expect(groupCore.members == ["VI_1"] && groupCore.notify.any == "/g/notify.sh")
        let second = try #require(report.configuration.instances.first { $0.name == "VI_2" })
        let secondCore = try InstanceCore.Configuration(second, in: report.configuration, source: IPv4Address(10, 0, 0, 1))
        // The instance's own tracking of eth1 is kept (once), its weight set to 0 as
        // keepalived does for sync group members, with a warning at the group.
        #expect(secondCore.tracked.filter { $0.name == "eth1" }.map(\.weight) == [0])
        #expect(report.diagnostics.contains { "\($0)".contains("vrrp_instance VI_2 track_interface: weight ignored") })
        #expect(secondCore.tracked.contains { $0.kind == .script && $0.name == "grp" && $0.weight == 0 })
        #expect(!secondCore.notify.priorityChanges)
        // The group's notify_master_rx_lower_pri reaches the member that has none.
        #expect(secondCore.notify.masterRxLowerPriority == "/g/reclaim.sh")
        #expect(secondCore.notify.call("/g/reclaim.sh").user == "nobody")
    }


    @Test func syncGroupTrackingWeightKeepsTheMembersWeights() throws {
        let text = Self.text.replacingOccurrences(of: "  notify \"/g/notify.sh\"", with: "  notify \"/g/notify.sh\"\n  sync_group_tracking_weight")
        let report = ConfigurationLoader.load(text: text)
        #expect(report.configuration.syncGroups.first?.trackingWeight == true)
        #expect(!report.diagnostics.contains { "\($0)".contains("weight ignored") })
        let second = try #require(report.configuration.instances.first { $0.name == "VI_2" })
        let core = try InstanceCore.Configuration(second, in: report.configuration, source: IPv4Address(10, 0, 0, 1))
        #expect(core.tracked.filter { $0.name == "eth1" }.map(\.weight) == [-20])
        let old = ConfigurationLoader.load(text: Self.text.replacingOccurrences(of: "  notify \"/g/notify.sh\"",
                                                                                with: "  global_tracking"))
        #expect(old.configuration.syncGroups.first?.trackingWeight == true)
        #expect(old.diagnostics.contains { $0.severity == .warning && "\($0)".contains("global_tracking is deprecated") })
    }
}
