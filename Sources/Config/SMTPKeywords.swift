/// global_defs' e-mail keywords, keepalived's meaning (see `SMTPSettings`).
enum SMTPKeywords {
    static func install(_ s: inout Schema<GlobalDefs>) {
        s.block("notification_email") { g, st, r in
            let addresses = (st.block ?? []).flatMap(\.words)
            if addresses.isEmpty { r.warning(st.location, "notification_email is empty: no alert mail is sent") }
            g.smtp.recipients += addresses.map(\.text)
        }
        s.value("notification_email_from") { g, st, r in g.smtp.from = r.string(st) }
        s.value("smtp_server") { g, st, r in
            guard let words = r.arguments(st, 1...2) else { return }
            g.smtp.server = words[0].text
            if words.count == 2 { g.smtp.port = r.int(words[1], 1...65535, what: "smtp_server port") ?? g.smtp.port }
        }
        s.value("smtp_helo_name") { g, st, r in g.smtp.heloName = r.string(st) }
        s.value("smtp_connect_timeout") { g, st, r in g.smtp.connectTimeout = r.seconds(st, 1...3600) ?? g.smtp.connectTimeout }
        s.value("smtp_alert") { g, st, r in g.smtp.alert = r.flag(st) }
        s.value("smtp_alert_vrrp") { g, st, r in g.smtp.alertVRRP = r.flag(st) }
        s.value("smtp_alert_checker") { g, st, r in g.smtp.alertChecker = r.flag(st) }
        s.value("no_email_faults") { g, st, r in g.smtp.noEmailFaults = r.flag(st) }
        s.ignore(["email_faults"], "not a keepalived 2 keyword; no_email_faults turns FAULT mails off")
        s.ignore(["no_checker_emails"], "Overcast already mails only when a real server changes state, not per checker")
    }
}
