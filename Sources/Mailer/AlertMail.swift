import Foundation

/// One alert e-mail in keepalived's words (keepalived's core/smtp.c): the subject names
/// the router and what changed, `[ROUTER_ID] VRRP Instance VI_1 - Entering MASTER state`,
/// and the body is keepalived's one line, `=> VRRP Instance is now owning VRRP VIPs <=`.
public struct AlertMail: Sendable, Hashable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String

    public init(from: String, to: [String], subject: String, body: String) {
        self.from = from
        self.to = to
        self.subject = subject
        self.body = body
    }

    /// The state a VRRP instance or sync group entered, as keepalived's mails name it.
    public enum VRRPState: String, Sendable {
        case master = "MASTER", backup = "BACKUP", fault = "FAULT", stop = "STOP", deleted = "DELETED"
    }

    /// `[ID] VRRP Instance NAME - Entering STATE state`; `group` for a vrrp_sync_group.
    public static func vrrp(routerID: String?, name: String, group: Bool = false, entering state: VRRPState) -> (subject: String, body: String) {
        let what = group ? "VRRP Group" : "VRRP Instance"
        let subject = state == .stop ? "Stopping" : state == .deleted ? "Deleted" : "Entering \(state.rawValue) state"
        let body: String
        switch (state, group) {
        case (.master, false): body = "=> VRRP Instance is now owning VRRP VIPs <="
        case (.master, true): body = "=> All VRRP group instances are now in MASTER state <="
        case (.backup, true): body = "=> All VRRP group instances are now in BACKUP state <="
        case (.fault, true): body = "=> All VRRP group instances are now in FAULT state <="
        case (.stop, _): body = "=> VRRP Instance stopping <="
        case (.deleted, _): body = "=> VRRP Deleted at reload <="
        default: body = "=> VRRP Instance is no longer owning VRRP VIPs <="
        }
        return (prefixed(routerID, "\(what) \(name) - \(subject)"), body)
    }

    /// `[ID] Realserver 10.0.0.2:80 of virtual server TCP 10.0.0.1:80 - UP`.
    public static func realServer(routerID: String?, server: String, of virtualServer: String, up: Bool,
                                  check: String) -> (subject: String, body: String) {
        (prefixed(routerID, "Realserver \(server) of virtual server \(virtualServer) - \(up ? "UP" : "DOWN")"),
         up ? "=> \(check) succeed on service <=" : "=> \(check) failed on service <=")
    }

    /// `[ID] Virtualserver TCP 10.0.0.1:80 - UP` when its quorum is regained (DOWN when lost).
    public static func virtualServer(routerID: String?, _ virtualServer: String, up: Bool) -> (subject: String, body: String) {
        (prefixed(routerID, "Virtualserver \(virtualServer) - \(up ? "UP" : "DOWN")"),
         up ? "=> Gained quorum <=" : "=> Lost quorum <=")
    }

    private static func prefixed(_ routerID: String?, _ text: String) -> String {
        routerID.map { "[\($0)] \(text)" } ?? text
    }

    /// The message as it goes after DATA (CRLF lines; libcurl adds the dot-stuffing and
    /// the final `.`): keepalived's headers, `X-Mailer: Overcast`.
    public func message(date: Date, timeZone: TimeZone = .current) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        // Header values may not hold line breaks: a name with one would start a header.
        func line(_ text: String) -> String { text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ") }
        return "Date: \(formatter.string(from: date))\r\n"
            + "From: \(line(from))\r\n"
            + "Subject: \(line(subject))\r\n"
            + "X-Mailer: Overcast\r\n"
            + "To: \(to.map(line).joined(separator: ",\r\n "))\r\n"
            + "\r\n"
            + body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
    }
}
