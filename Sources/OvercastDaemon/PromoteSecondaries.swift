import Foundation

/// keepalived's `promote_secondaries`: sets net.ipv4.conf.IF.promote_secondaries, so that
/// removing the primary address of a subnet (a VIP in the interface's own subnet, when
/// the MASTER steps down) promotes the next one instead of deleting every secondary
/// address of that subnet with it. As keepalived, the daemon sets it when the instance
/// starts and puts the interface's own value back when it stops.
enum PromoteSecondaries {
    /// Interface names cannot contain '/', and the name was resolved against the kernel's links.
    static func path(_ interface: String) -> String { "/proc/sys/net/ipv4/conf/\(interface)/promote_secondaries" }

    static func set(_ enabled: Bool, on interface: String) throws {
        try Data((enabled ? "1\n" : "0\n").utf8).write(to: URL(fileURLWithPath: path(interface)))
    }

    static func isEnabled(on interface: String) -> Bool {
        (try? String(contentsOfFile: path(interface), encoding: .utf8))?.hasPrefix("1") == true
    }
}
