import Foundation
import Mailer
import Testing

/// The alert mails in keepalived's words (keepalived's core/smtp.c and vrrp_notify.c).
@Suite struct AlertMailTests {
    @Test func vrrpSubjectsAndBodiesAreKeepalivedsWords() {
        let master = AlertMail.vrrp(routerID: "lb1", name: "VI_1", entering: .master)
        #expect(master.subject == "[lb1] VRRP Instance VI_1 - Entering MASTER state")
        #expect(master.body == "=> VRRP Instance is now owning VRRP VIPs <=")
        #expect(AlertMail.vrrp(routerID: nil, name: "VI_1", entering: .backup)
                == ("VRRP Instance VI_1 - Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="))
        #expect(AlertMail.vrrp(routerID: "lb1", name: "VI_1", entering: .fault).subject == "[lb1] VRRP Instance VI_1 - Entering FAULT state")
        #expect(AlertMail.vrrp(routerID: "lb1", name: "G", group: true, entering: .master)
                == ("[lb1] VRRP Group G - Entering MASTER state", "=> All VRRP group instances are now in MASTER state <="))
        #expect(AlertMail.realServer(routerID: "lb1", server: "10.0.0.2:80", of: "TCP 10.0.0.1:80", up: false, check: "CHECK").subject
                == "[lb1] Realserver 10.0.0.2:80 of virtual server TCP 10.0.0.1:80 - DOWN")
        #expect(AlertMail.virtualServer(routerID: "lb1", "TCP 10.0.0.1:80", up: true).subject == "[lb1] Virtualserver TCP 10.0.0.1:80 - UP")
    }

    @Test func theMessageHasKeepalivedsHeadersInCRLFLines() {
        let mail = AlertMail(from: "overcast@lb1", to: ["ops@example.com", "noc@example.com"],
                             subject: "[lb1] VRRP Instance VI_1 - Entering MASTER state", body: "=> line one <=\nline two")
        let text = mail.message(date: Date(timeIntervalSince1970: 1_796_623_200), timeZone: TimeZone(identifier: "UTC")!)
        #expect(text == "Date: Mon, 07 Dec 2026 06:00:00 +0000\r\nFrom: overcast@lb1\r\n"
                + "Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\r\nX-Mailer: Overcast\r\n"
                + "To: ops@example.com,\r\n noc@example.com\r\n\r\n=> line one <=\r\nline two\r\n")
    }

    /// A name from the configuration cannot add a header: line breaks become blanks.
    @Test func headerValuesCannotStartANewHeader() {
        let mail = AlertMail(from: "a@b\r\nBcc: x@y", to: ["c@d"], subject: "s\nBcc: x@y", body: "")
        let headers = mail.message(date: Date()).components(separatedBy: "\r\n\r\n")[0]
        #expect(!headers.components(separatedBy: "\r\n").contains { $0.hasPrefix("Bcc:") })
    }
}
