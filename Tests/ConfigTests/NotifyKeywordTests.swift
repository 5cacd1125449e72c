import Foundation
import Testing
@testable import Config

/// The notify keywords of global_defs, vrrp_sync_group and vrrp_script: read with
/// keepalived's meaning, no longer ignored.
@Suite struct NotifyKeywordTests {
    public static let text = """
        global_defs {
          vrrp_notify_fifo /run/overcast/vrrp.fifo
          vrrp_notify_fifo_script "/usr/local/bin/reader --verbose" nobody nogroup
          notify_fifo /run/overcast/all.fifo nobody nogroup
          vrrp_notify_priority_changes true
          vrrp_startup_delay 5.5
          startup_script_timeout 20
          startup_script /usr/local/bin/up.sh
          shutdown_script "/usr/local/bin/down.sh now" nobody
        }
        vrrp_script chk {
          script /bin/true
          user nobody nogroup
        }
        vrrp_script grp {
          script /bin/true
        }
        vrrp_sync_group G {
          group {
            VI_1
          }
          track_interface {
            eth1
          }
          track_script {
            grp
          }
          notify "/g/notify.sh"
          notify_master_rx_lower_pri /g/reclaim.sh
        }
        vrrp_instance VI_1 {
          interface eth0
          virtual_router_id 51
          notify_master_rx_lower_pri /i/reclaim.sh
          notify_master "/i/master.sh --now" nobody nogroup
          notify_backup /i/backup.sh nosuchuser
          track_script {
            chk
          }
        }
        """

    @Test func globalNotifyKeywordsHaveTheirMeaning() throws {
        let report = ConfigurationLoader.load(text: Self.text)
        #expect(report.diagnostics.filter { $0.severity == .error }.isEmpty, "\(report.diagnostics)")
        #expect(!report.diagnostics.contains { "\($0)".contains("notify_fifo") || "\($0)".contains("startup") })
        let g = report.configuration.globalDefs
        #expect(g.notifyFIFOs.map(\.path) == ["/run/overcast/vrrp.fifo", "/run/overcast/all.fifo"])
        #expect(g.notifyFIFOs.first?.script == "/usr/local/bin/reader --verbose")
        #expect(g.notifyFIFOs.first?.scriptUser == "nobody" && g.notifyFIFOs.first?.scriptGroup == "nogroup")
        #expect(g.notifyFIFOs.first?.owner == nil && g.notifyFIFOs.last?.owner == "nobody" && g.notifyFIFOs.last?.ownerGroup == "nogroup")
        #expect(g.vrrpNotifyPriorityChanges && g.vrrpStartupDelay == 5.5)
        #expect(g.startupScript?.command == "/usr/local/bin/up.sh" && g.startupScript?.timeout == 20)
        #expect(g.shutdownScript?.command == "/usr/local/bin/down.sh now" && g.shutdownScript?.user == "nobody"
                && g.shutdownScript?.timeout == 10)
        let instance = try #require(report.configuration.instances.first)
        #expect(instance.notify.master == "/i/master.sh --now" && instance.notify.backup == "/i/backup.sh")
        #expect(instance.notify.runAs["/i/master.sh --now"] == ScriptUser(user: "nobody", group: "nogroup"))
        #expect(instance.notify.runAs["/i/reclaim.sh"] == nil)
        #expect(report.diagnostics.contains { $0.severity == .warning && "\($0)".contains("no user 'nosuchuser'") })
        let script = try #require(report.configuration.vrrpScripts.first { $0.name == "chk" })
        #expect(script.user == "nobody" && script.group == "nogroup")
    }

    @Test func lvsNotifyFIFOIsRead() {
        let report = ConfigurationLoader.load(text: "global_defs {\n  lvs_notify_fifo /tmp/lvs nobody\n  lvs_notify_fifo_script /bin/cat\n}\n")
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        let fifo = report.configuration.globalDefs.notifyFIFOs.first
        #expect(fifo?.keyword == "lvs_notify_fifo" && fifo?.path == "/tmp/lvs" && fifo?.owner == "nobody" && fifo?.script == "/bin/cat")
        let same = ConfigurationLoader.load(text: "global_defs {\n  vrrp_notify_fifo /tmp/f\n  lvs_notify_fifo /tmp/f\n}\n")
        #expect(same.diagnostics.contains { $0.severity == .error && "\($0)".contains("lvs_notify_fifo: vrrp_notify_fifo writes to this FIFO too") })
    }

    @Test func oneFIFOForBothKeywordsIsAnError() {
        let report = ConfigurationLoader.load(text: "global_defs {\n  notify_fifo /tmp/f\n  vrrp_notify_fifo /tmp/f\n}\n")
        #expect(report.diagnostics.contains { $0.severity == .error && "\($0)".contains("must be different FIFOs") })
    }
}
