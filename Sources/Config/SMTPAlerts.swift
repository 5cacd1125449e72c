/// keepalived's e-mail alerts (global_defs `notification_email`, `notification_email_from`,
/// `smtp_server`, `smtp_helo_name`, `smtp_connect_timeout`, `smtp_alert`,
/// `smtp_alert_vrrp`, `smtp_alert_checker`): who gets mail, through which server, and
/// which transitions send it.
public struct SMTPSettings: Codable, Hashable, Sendable {
    public var recipients: [String] = []
    /// nil: keepalived's default, `USER@HOSTNAME` of the daemon.
    public var from: String?
    public var server: String?
    public var port = 25
    /// nil: keepalived's default, the host name.
    public var heloName: String?
    public var connectTimeout = 30.0
    public var alert: Bool?
    public var alertVRRP: Bool?
    public var alertChecker: Bool?
    /// `no_email_faults`: entering FAULT sends no mail.
    public var noEmailFaults = false

    public init() {}

    /// keepalived sends mail only with recipients and a server.
    public var isConfigured: Bool { !recipients.isEmpty && server != nil }

    /// Whether a vrrp_instance or vrrp_sync_group with `smtp_alert` `own` mails its
    /// transitions: its own setting, else `smtp_alert_vrrp`, else `smtp_alert`, else no.
    public func mailsVRRP(_ own: Bool?) -> Bool { isConfigured && (own ?? alertVRRP ?? alert ?? false) }

    /// Whether a real server mails its up and down: its own setting, else
    /// `smtp_alert_checker`, else `smtp_alert`, else yes (keepalived's default for real
    /// servers, kept for compatibility).
    public func mailsRealServer(_ own: Bool?) -> Bool { isConfigured && (own ?? alertChecker ?? alert ?? true) }

    /// Whether a virtual server mails its quorum changes: as a real server, but no by default.
    public func mailsVirtualServer(_ own: Bool?) -> Bool { isConfigured && (own ?? alertChecker ?? alert ?? false) }
}
