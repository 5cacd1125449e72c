import MonotonicTime
import Config
import Foundation
import HealthChecks
import LinuxNet
import Logging
import Mailer
import VRRP

/// keepalived's e-mail alerts: decides which transitions mail (`SMTPSettings`), words
/// them as keepalived does (`AlertMail`), and sends them on a thread of its own, so a
/// mail server that is slow or gone never holds up VRRP, the checks or the load
/// balancer: callers only append to a short queue. A failed send is logged; a full queue
/// drops the new mail with a log line.
final class AlertMailer: @unchecked Sendable {
    static let maximumQueued = 64

    private let logger: Logger
    private let condition = MonotonicCondition()
    // Under `condition`.
    private var queue: [AlertMail] = []
    private var config = OvercastConfiguration()
    private var server: SMTPServer?
    private var from = ""
    /// keepalived's `last_email_state`: an instance mails a state once, not each time
    /// it is re-entered without another state between.
    private var lastMailed: [String: AlertMail.VRRPState] = [:]
    private var thread: Thread?
    /// A mail is being handed to the server (`drain` waits for it too).
    private var sending = false

    init(logger: Logger) { self.logger = logger }

    /// Takes the settings of a (re)loaded configuration.
    func configure(_ config: OvercastConfiguration) {
        let smtp = config.globalDefs.smtp
        let host = ProcessInfo.processInfo.hostName
        condition.withLock {
            self.config = config
            server = smtp.server.map {
                SMTPServer(host: $0, port: smtp.port, heloName: smtp.heloName ?? host, connectTimeout: smtp.connectTimeout)
            }
            from = smtp.from ?? "\(NSUserName())@\(host)"
            if smtp.isConfigured && thread == nil {
                let thread = Thread.named("smtp") { [weak self] in self?.run() }
                self.thread = thread
                thread.start()
            }
        }
    }

    /// An instance entered `state` (the daemon's transition log).
    func vrrpTransition(instance name: String, to state: VRRPStateMachine.State) {
        mailTransition(name, group: false, to: state) { config in config.instances.first { $0.name == name }.map(\.smtpAlert) }
    }

    /// A sync group entered `state` (its own state, as `SyncGroupCore` moves it: FAULT with
    /// its first member's, MASTER when all are MASTER), as keepalived mails it.
    func syncGroupTransition(group name: String, to state: VRRPStateMachine.State) {
        mailTransition(name, group: true, to: state) { config in config.syncGroups.first { $0.name == name }.map(\.smtpAlert) }
    }

    /// An instance stopped: at shutdown ("Stopping") or because a reload removed it
    /// ("Deleted"), as keepalived mails them. Mailed with the configuration it ran under.
    func instanceLeft(_ name: String, deleted: Bool) {
        let state: AlertMail.VRRPState = deleted ? .deleted : .stop
        condition.withLock {
            guard let own = config.instances.first(where: { $0.name == name })?.smtpAlert,
                  config.globalDefs.smtp.mailsVRRP(own), lastMailed[name] != state else { return }
            lastMailed[name] = deleted ? nil : state
            enqueue(AlertMail.vrrp(routerID: config.globalDefs.routerID, name: name, entering: state))
        }
    }

    /// Waits until the queued mails are sent (or failed), for at most `timeout` seconds:
    /// at shutdown, so the "Stopping" mails leave before the process does. True when
    /// nothing is left.
    @discardableResult
    func drain(timeout: Double) -> Bool {
        let deadline = MonotonicClock.seconds + timeout
        return condition.withLock {
            while server != nil && (!queue.isEmpty || sending) {
                guard condition.wait(until: deadline) else { break }
            }
            if server != nil && !queue.isEmpty {
                logger.warning("alert mails left unsent at shutdown", metadata: ["count": "\(queue.count)"])
            }
            return server == nil || (queue.isEmpty && !sending)
        }
    }

    /// One mail per state entered, when the block's `smtp_alert` (found by `setting`; nil:
    /// no such block) and global_defs ask for it.
    private func mailTransition(_ name: String, group: Bool, to state: VRRPStateMachine.State,
                                setting: (OvercastConfiguration) -> Bool??) {
        let mailed: AlertMail.VRRPState
        switch state {
        case .master: mailed = .master
        case .backup: mailed = .backup
        case .fault: mailed = .fault
        case .initialize: return
        }
        condition.withLock {
            let smtp = config.globalDefs.smtp
            guard !(smtp.noEmailFaults && mailed == .fault), let own = setting(config), smtp.mailsVRRP(own) else { return }
            let key = group ? "group " + name : name
            guard lastMailed[key] != mailed else { return }
            lastMailed[key] = mailed
            enqueue(AlertMail.vrrp(routerID: config.globalDefs.routerID, name: name, group: group, entering: mailed))
        }
    }

    /// A real server went up or down (the health monitor's announcement).
    func realServer(_ change: CheckerTable.ServerChange) {
        condition.withLock {
            let id = change.server.id
            guard config.virtualServers.indices.contains(id.virtualServer) else { return }
            let real = config.virtualServers[id.virtualServer].realServers.first {
                $0.address == id.address && UInt16(clamping: $0.port ?? 0) == id.port
            }
            guard config.globalDefs.smtp.mailsRealServer(real?.smtpAlert) else { return }
            var words = AlertMail.realServer(routerID: config.globalDefs.routerID, server: "\(id.address):\(id.port)",
                                             of: change.server.label, up: change.isUp, check: "CHECK")
            if !change.isUp { words.body += "\n\(change.reason)" }
            enqueue(words)
        }
    }

    /// A virtual server's quorum was regained or lost (the load balancer).
    func virtualServer(_ index: Int, up: Bool) {
        condition.withLock {
            guard config.virtualServers.indices.contains(index),
                  config.globalDefs.smtp.mailsVirtualServer(config.virtualServers[index].smtpAlert) else { return }
            let vs = config.virtualServers[index]
            let label: String
            switch vs.key {
            case .address(let address, let port): label = "\(vs.protocolName) \(address):\(port)"
            case .fwmark(let mark): label = "fwmark \(mark)"
            case .group(let group): label = "group \(group)"
            }
            enqueue(AlertMail.virtualServer(routerID: config.globalDefs.routerID, label, up: up))
        }
    }

    /// Under `condition`.
    private func enqueue(_ words: (subject: String, body: String)) {
        let mail = AlertMail(from: from, to: config.globalDefs.smtp.recipients, subject: words.subject, body: words.body)
        guard queue.count < Self.maximumQueued else {
            logger.error("alert mail dropped: \(Self.maximumQueued) mails are waiting for the SMTP server", metadata: ["smtp.subject": "\(mail.subject)"])
            return
        }
        queue.append(mail)
        condition.broadcast()
    }

    private func run() {
        while true {
            let (mail, server) = condition.withLock { () -> (AlertMail, SMTPServer?) in
                while queue.isEmpty { condition.wait() }
                sending = self.server != nil
                return (queue.removeFirst(), self.server)
            }
            defer { condition.withLock { sending = false; condition.broadcast() } }
            guard let server else { continue }
            do {
                try SMTPClient.send(mail, via: server)
                logger.info("alert mail sent", metadata: ["smtp.subject": "\(mail.subject)", "smtp.server": "\(server.host):\(server.port)"])
            } catch {
                logger.error("alert mail failed", metadata: ["smtp.subject": "\(mail.subject)", "smtp.server": "\(server.host):\(server.port)",
                                                             "error": "\(error)"])
            }
        }
    }
}
