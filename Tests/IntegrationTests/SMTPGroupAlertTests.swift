import Foundation
import Lab
import Testing

/// A sync group's alert mail follows the group's own state: one "VRRP Group" mail when
/// the group (both members) reaches MASTER, as keepalived sends it.
@Suite struct SMTPGroupAlertTests {
    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "ss"], pythonModules: ["aiosmtpd"], test: "smtp group alerts")))
    func aSyncGroupMailsItsOwnTransitionOnce() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let maildir = lab.path("maildir")
        _ = try SMTPAlertTests.startMailServer(lab, maildir: maildir)
        let n1 = try lab.addNode("n1", address: "10.9.0.10/24")
        var second = LabInstance(priority: 150, advertInt: "0.5")
        second.name = "VI_2"
        second.vrid = 52
        second.vip = "10.9.0.102"
        let config = SMTPAlertTests.config(server: SMTPAlertTests.mailServer, port: 2525, timeout: 5, vrid: 51, vip: "10.9.0.101")
            + second.text + """

            vrrp_sync_group G {
              group {
                VI_1
                VI_2
              }
              smtp_alert
            }

            """
        _ = try lab.startOvercast(n1, config: config)
        #expect(waitUntil(timeout: 15) { lab.state(n1, "VI_1") == "MASTER" && lab.state(n1, "VI_2") == "MASTER" }, "\(lab.log(n1))")
        let subject = "Subject: [lb1] VRRP Group G - Entering MASTER state\n"
        #expect(waitUntil(timeout: 15) { SMTPAlertTests.mails(maildir).contains { $0.contains(subject) } }, "\(lab.log(n1))")
        usleep(1_500_000)   // a second mail for the same state would have come by now
        #expect(SMTPAlertTests.mails(maildir).filter { $0.contains(subject) }.count == 1)
    }
}
