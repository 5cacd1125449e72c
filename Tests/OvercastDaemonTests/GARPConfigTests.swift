import Config
import InstanceConfiguration
import NetworkTypes
import Testing
import VRRP

/// global_defs' gratuitous-ARP settings reach the core's schedule, an instance's own
/// values first.
@Suite struct GARPConfigTests {
    @Test func theScheduleTakesTheGlobalIntervalAndTheInstancesRepeat() throws {
        let report = ConfigurationLoader.load(text: """
            global_defs {
              vrrp_garp_interval 0.005
              vrrp_garp_master_repeat 3
            }
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 51
              garp_master_repeat 7
            }
            """)
        try #require(report.isValid, "\(report.diagnostics)")
        let instance = try #require(report.configuration.instances.first)
        let core = try InstanceCore.Configuration(instance, in: report.configuration, source: IPv4Address(10, 0, 0, 1))
        #expect(core.garp.interval == .milliseconds(5) && core.garp.repeatCount == 7)
        let bad = ConfigurationLoader.load(text: "global_defs {\n  vrrp_garp_interval 2\n}\n", file: "g.conf")
        #expect(bad.diagnostics.map(\.description) == ["g.conf:2:22: error: vrrp_garp_interval 2 is out of range 0-1 seconds"])
    }
}
