import Testing
@testable import Config

/// keepalived's e-mail keywords and which transitions they make mail.
@Suite struct SMTPConfigTests {
    static let instance = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n smtp_alert\n}\n"

    @Test func globalDefsReadEveryMailKeyword() {
        let report = ConfigurationLoader.load(text: """
            global_defs {
              notification_email {
                ops@example.com
                noc@example.com
              }
              notification_email_from overcast@lb1.example.com
              smtp_server 192.168.1.25 2525
              smtp_helo_name lb1.example.com
              smtp_connect_timeout 5
              smtp_alert_vrrp off
              smtp_alert_checker
              no_email_faults
            }
            """ + Self.instance, file: "t.conf")
        #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
        let smtp = report.configuration.globalDefs.smtp
        #expect(smtp.recipients == ["ops@example.com", "noc@example.com"])
        #expect(smtp.from == "overcast@lb1.example.com")
        #expect(smtp.server == "192.168.1.25" && smtp.port == 2525 && smtp.heloName == "lb1.example.com")
        #expect(smtp.connectTimeout == 5 && smtp.alertVRRP == false && smtp.alertChecker == true && smtp.noEmailFaults)
        #expect(smtp.alert == nil)
        #expect(report.configuration.instances.first?.smtpAlert == true)
    }

    /// keepalived's precedence: the block's own smtp_alert, then smtp_alert_vrrp or
    /// smtp_alert_checker, then smtp_alert; unset, instances do not mail and real servers do.
    @Test func whichTransitionsMail() {
        var smtp = SMTPSettings()
        #expect(!smtp.mailsVRRP(true) && !smtp.mailsRealServer(true), "nothing without recipients and a server")
        smtp.recipients = ["ops@example.com"]
        smtp.server = "192.168.1.25"
        #expect(!smtp.mailsVRRP(nil) && smtp.mailsVRRP(true))
        #expect(smtp.mailsRealServer(nil) && !smtp.mailsRealServer(false) && !smtp.mailsVirtualServer(nil))
        smtp.alert = true
        #expect(smtp.mailsVRRP(nil) && smtp.mailsVirtualServer(nil) && !smtp.mailsVRRP(false))
        smtp.alertVRRP = false
        smtp.alertChecker = false
        #expect(!smtp.mailsVRRP(nil) && smtp.mailsVRRP(true) && !smtp.mailsRealServer(nil) && smtp.mailsRealServer(true))
    }

    @Test func smtpAlertInEveryBlockKeepalivedHasIt() {
        let report = ConfigurationLoader.load(text: Self.instance + """
            vrrp_sync_group G {
              group {
                VI_1
              }
              smtp_alert false
            }
            virtual_server 10.0.0.1 80 {
              smtp_alert
              real_server 10.0.0.2 80 {
                smtp_alert no
              }
            }
            """, file: "t.conf")
        #expect(!report.diagnostics.contains { $0.message.contains("smtp_alert") }, "\(report.diagnostics)")
        #expect(report.configuration.syncGroups.first?.smtpAlert == false)
        #expect(report.configuration.virtualServers.first?.smtpAlert == true)
        #expect(report.configuration.virtualServers.first?.realServers.first?.smtpAlert == false)
    }

    @Test func badValuesAreErrorsAtTheirPlace() {
        let report = ConfigurationLoader.load(text: "global_defs {\n smtp_server 10.0.0.1 99999\n smtp_alert maybe\n notification_email {\n }\n}\n",
                                              file: "t.conf")
        let lines = report.diagnostics.map(\.description)
        #expect(lines.contains("t.conf:2:23: error: smtp_server port 99999 is out of range 1-65535"), "\(lines)")
        #expect(lines.contains("t.conf:3:13: error: 'smtp_alert': 'maybe' is not true/false"), "\(lines)")
        #expect(lines.contains("t.conf:4:2: warning: notification_email is empty: no alert mail is sent"), "\(lines)")
    }
}
