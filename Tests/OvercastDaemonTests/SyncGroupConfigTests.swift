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
        // The instance's own tracking of eth1 keeps its weight; the group's script is added.
        #expect(secondCore.tracked.filter { $0.name == "eth1" }.map(\.weight) == [-20])
        #expect(secondCore.tracked.contains { $0.kind == .script && $0.name == "grp" && $0.weight == 0 })
        #expect(!secondCore.notify.priorityChanges)
    }

}
