import Foundation
import Lab
import Mailer
import Testing

/// keepalived's alert e-mails against a real SMTP server (Python's aiosmtpd, saving each
/// mail to a Maildir) in a namespace of a lab: a transition sends one mail with the
/// configured From and To and keepalived's subject, and a mail server that cannot be
/// reached holds nothing up.
@Suite struct SMTPAlertTests {
    static let mailServer = "10.9.0.25"

    /// The aiosmtpd node, listening on port 2525 once this returns.
    static func startMailServer(_ lab: NetworkLab, maildir: String) throws -> NetworkLab.Node {
        let node = try lab.addNode("mail", address: "\(mailServer)/24")
        _ = try lab.spawn(node, ["python3", "-m", "aiosmtpd", "-n", "-l", "\(mailServer):2525", "-c", "aiosmtpd.handlers.Mailbox", maildir],
                          log: "aiosmtpd.log")
        let listening = waitUntil(timeout: 20) {
            ((try? lab.exec(node, ["ss", "-Htln", "sport = :2525"])) ?? "").contains("2525")
        }
        guard listening else {
            throw ChildProcessError("aiosmtpd did not listen: " + ((try? String(contentsOfFile: lab.path("aiosmtpd.log"), encoding: .utf8)) ?? ""))
        }
        return node
    }

    static func mails(_ maildir: String) -> [String] {
        let new = maildir + "/new"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: new)) ?? []).sorted()
        return names.compactMap { try? String(contentsOfFile: new + "/" + $0, encoding: .utf8) }
    }

    static func config(server: String, port: Int, timeout: Int, vrid: Int, vip: String) -> String {
        var instance = LabInstance(priority: 150, advertInt: "0.5", extra: ["smtp_alert"])
        instance.vrid = vrid
        instance.vip = vip
        return """
            global_defs {
              router_id lb1
              notification_email {
                ops@example.com
                noc@example.com
              }
              notification_email_from overcast@lb1.example.com
              smtp_server \(server) \(port)
              smtp_helo_name lb1.example.com
              smtp_connect_timeout \(timeout)
            }

            """ + instance.text
    }

    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "ss"], pythonModules: ["aiosmtpd"], test: "smtp alerts")))
    func aTransitionSendsOneMailAndADeadServerBlocksNothing() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let maildir = lab.path("maildir")
        let server = try Self.startMailServer(lab, maildir: maildir)
        let n1 = try lab.addNode("n1", address: "10.9.0.10/24")
        _ = try lab.startOvercast(n1, config: Self.config(server: Self.mailServer, port: 2525, timeout: 5, vrid: 51, vip: "10.9.0.100"))
        #expect(waitUntil(timeout: 15) { lab.state(n1) == "MASTER" }, "\(lab.log(n1))")
        #expect(waitUntil(timeout: 15) { Self.mails(maildir).contains { $0.contains("Entering MASTER state") } }, "\(lab.log(n1))")
        let master = Self.mails(maildir).filter { $0.contains("Entering MASTER state") }
        #expect(master.count == 1)
        let mail = try #require(master.first)
        #expect(mail.contains("Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state\n"), "\(mail)")
        #expect(mail.contains("From: overcast@lb1.example.com\n"))
        #expect(mail.contains("To: ops@example.com,\n noc@example.com\n"), "\(mail)")
        #expect(mail.contains("X-MailFrom: overcast@lb1.example.com\n"))
        #expect(mail.contains("X-RcptTo: ops@example.com, noc@example.com\n"), "\(mail)")
        #expect(mail.contains("=> VRRP Instance is now owning VRRP VIPs <="))
        #expect(lab.log(n1).contains("alert mail sent"))

        // n2's mail server takes the connection and never greets: its mail waits out the
        // 60 s timeout, and the instance goes through BACKUP to MASTER all the same.
        _ = try lab.spawn(server, ["python3", "-c", "import socket, time\ns = socket.socket()\n"
                                   + "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\ns.bind(('\(Self.mailServer)', 2526))\n"
                                   + "s.listen()\nconnections = [s.accept() for _ in range(8)]\ntime.sleep(600)"], log: "silent.log")
        #expect(waitUntil(timeout: 20) { ((try? lab.exec(server, ["ss", "-Htln", "sport = :2526"])) ?? "").contains("2526") })
        let n2 = try lab.addNode("n2", address: "10.9.0.11/24")
        _ = try lab.startOvercast(n2, config: Self.config(server: Self.mailServer, port: 2526, timeout: 60, vrid: 52, vip: "10.9.0.101"))
        #expect(waitUntil(timeout: 15) { lab.state(n2) == "MASTER" }, "\(lab.log(n2))")
        #expect(((try? lab.exec(server, ["ss", "-Htn", "state", "established", "sport = :2526"])) ?? "").contains("10.9.0.11"),
                "n2's mail is connected to the silent server")
        #expect(!lab.log(n2).contains("alert mail sent") && !lab.log(n2).contains("alert mail failed"),
                "the mail to the silent server was still waiting while VRRP went on: \(lab.log(n2))")

        // n3's mail server does not exist: the failure is logged, and VRRP goes on.
        let n3 = try lab.addNode("n3", address: "10.9.0.12/24")
        _ = try lab.startOvercast(n3, config: Self.config(server: "10.9.0.99", port: 2525, timeout: 5, vrid: 53, vip: "10.9.0.102"))
        #expect(waitUntil(timeout: 15) { lab.state(n3) == "MASTER" && lab.log(n3).contains("alert mail failed") }, "\(lab.log(n3))")
        #expect(Self.mails(maildir).allSatisfy { $0.contains("X-Peer: ('10.9.0.10',") }, "only n1's mails arrived")
    }

    /// A real server that goes down and comes back mails each change once (real servers
    /// mail by default, as in keepalived), with the server and its virtual server named.
    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "ss"], pythonModules: ["aiosmtpd"], test: "smtp real server alerts")))
    func aRealServerGoingDownAndUpMailsEachChange() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let maildir = lab.path("maildir")
        let server = try Self.startMailServer(lab, maildir: maildir)
        func serve(_ tag: String) throws -> ChildProcess {
            try lab.spawn(server, ["python3", "-m", "http.server", "--bind", Self.mailServer, "--directory", "/usr/share/doc", "8080"],
                          log: "http\(tag).log")
        }
        var web = try serve("1")
        #expect(waitUntil(timeout: 20) { ((try? lab.exec(server, ["ss", "-Htln", "sport = :8080"])) ?? "").contains("8080") })
        let lb = try lab.addNode("lb", address: "10.9.0.10/24")
        let fifo = lab.path("lvs.fifo")
        let config = Self.config(server: Self.mailServer, port: 2525, timeout: 5, vrid: 51, vip: "10.9.0.100")
            .replacingOccurrences(of: "  smtp_alert\n", with: "  smtp_alert off\n")
            .replacingOccurrences(of: "  router_id lb1\n", with: "  router_id lb1\n  lvs_notify_fifo \(fifo)\n") + """
            virtual_server 10.9.0.200 80 {
              delay_loop 1
              lb_kind DR
              protocol TCP
              real_server \(Self.mailServer) 8080 {
                TCP_CHECK {
                  connect_timeout 1
                  retry 1
                  delay_before_retry 0.5
                }
              }
            }
            """
        _ = try lab.startOvercast(lb, config: config)
        let subject = "Subject: [lb1] Realserver \(Self.mailServer):8080 of virtual server TCP 10.9.0.200:80 - "
        func mails(_ state: String) -> Int { Self.mails(maildir).filter { $0.contains(subject + state + "\n") }.count }
        func up() -> Bool? {
            let list = lab.overcastStatus(lb)?["realServers"] as? [[String: Any]] ?? []
            return list.first { $0["address"] as? String == Self.mailServer }?["up"] as? Bool
        }
        #expect(waitUntil(timeout: 15) { up() == true }, "\(lab.log(lb))")
        web.stop()
        #expect(waitUntil(timeout: 20) { up() == false && mails("DOWN") == 1 }, "\(lab.log(lb))\n\(Self.mails(maildir))")
        web = try serve("2")
        #expect(waitUntil(timeout: 20) { up() == true && mails("UP") == 1 }, "\(lab.log(lb))\n\(Self.mails(maildir))")
        #expect(mails("DOWN") == 1)
        // lvs_notify_fifo: the same changes as keepalived's lines, and no VRRP line.
        let descriptor = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        #expect(String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
                == "RS [\(Self.mailServer)]:tcp:8080 [10.9.0.200]:tcp:80 DOWN\nVS [10.9.0.200]:tcp:80 DOWN\n"
                + "RS [\(Self.mailServer)]:tcp:8080 [10.9.0.200]:tcp:80 UP\nVS [10.9.0.200]:tcp:80 UP\n")
        // smtp_alert off in the instance: its transitions send nothing.
        #expect(!Self.mails(maildir).contains { $0.contains("VRRP Instance") })
        #expect(Self.mails(maildir).contains { $0.contains("=> CHECK failed on service <=") })
    }

    /// An instance a reload removes mails "Deleted"; at shutdown each instance mails
    /// "Stopping", and the daemon waits for the mail to leave before it exits.
    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "ss"], pythonModules: ["aiosmtpd"], test: "smtp stop alerts")))
    func aRemovedInstanceMailsDeletedAndShutdownMailsStopping() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let maildir = lab.path("maildir")
        _ = try Self.startMailServer(lab, maildir: maildir)
        let n1 = try lab.addNode("n1", address: "10.9.0.10/24")
        var second = LabInstance(priority: 150, advertInt: "0.5", extra: ["smtp_alert"])
        second.name = "VI_2"
        second.vrid = 52
        second.vip = "10.9.0.101"
        let one = Self.config(server: Self.mailServer, port: 2525, timeout: 5, vrid: 51, vip: "10.9.0.100")
        let daemon = try lab.startOvercast(n1, config: one + second.text)
        #expect(waitUntil(timeout: 15) { lab.state(n1) == "MASTER" && lab.state(n1, "VI_2") == "MASTER" }, "\(lab.log(n1))")
        func subjects() -> [String] {
            Self.mails(maildir).compactMap { $0.split(separator: "\n").first { $0.hasPrefix("Subject: ") }.map(String.init) }
        }
        #expect(waitUntil(timeout: 15) { subjects().filter { $0.contains("Entering MASTER state") }.count == 2 }, "\(subjects())")

        try one.write(toFile: lab.path("n1.conf"), atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        #expect(waitUntil(timeout: 15) { subjects().contains("Subject: [lb1] VRRP Instance VI_2 - Deleted") }, "\(subjects())\n\(lab.log(n1))")
        let deleted = Self.mails(maildir).first { $0.contains("VI_2 - Deleted") } ?? ""
        #expect(deleted.contains("=> VRRP Deleted at reload <="), "\(deleted)")

        // SIGTERM: the mail is in the Maildir by the time the process has exited.
        daemon.stop(signal: SIGTERM, timeout: 15)
        #expect(subjects().contains("Subject: [lb1] VRRP Instance VI_1 - Stopping"), "\(subjects())\n\(lab.log(n1))")
        #expect(!subjects().contains { $0.contains("VI_2 - Stopping") })
        #expect(Self.mails(maildir).first { $0.contains("VI_1 - Stopping") }?.contains("=> VRRP Instance stopping <=") == true)
    }

    /// The client on its own: a refused connection is a clear error, not a hang.
    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "ss"], pythonModules: ["aiosmtpd"], test: "smtp client")))
    func theClientSendsAndReportsARefusal() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let maildir = lab.path("maildir")
        let server = try Self.startMailServer(lab, maildir: maildir)
        let mail = AlertMail(from: "a@example.com", to: ["b@example.com"], subject: "test . subject", body: "line\n.\nafter a dot line")
        try inNetworkNamespace(server.namespace) {
            try SMTPClient.send(mail, via: SMTPServer(host: Self.mailServer, port: 2525, heloName: "lb1", connectTimeout: 5))
        }
        let saved = try #require(Self.mails(maildir).first)
        #expect(saved.contains("Subject: test . subject\n") && saved.contains("line\n.\nafter a dot line"), "\(saved)")
        #expect(throws: (any Error).self) {
            try inNetworkNamespace(server.namespace) {
                try SMTPClient.send(mail, via: SMTPServer(host: Self.mailServer, port: 2526, heloName: "lb1", connectTimeout: 5))
            }
        }
    }
}
