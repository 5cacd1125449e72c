import Foundation

/// keepalived's `promote_secondaries`: sets net.ipv4.conf.IF.promote_secondaries, so that
/// removing the primary address of a subnet (a VIP in the interface's own subnet, when
/// the MASTER steps down) promotes the next one instead of deleting every secondary
/// address of that subnet with it. Set when the instance starts and left set: the
/// setting only ever keeps addresses, so leaving it on at stop is harmless.
enum PromoteSecondaries {
    static func enable(on interface: String) throws {
        // Interface names cannot contain '/', and this one was resolved against the kernel's links.
        let path = "/proc/sys/net/ipv4/conf/\(interface)/promote_secondaries"
        try Data("1\n".utf8).write(to: URL(fileURLWithPath: path))
    }

    static func isEnabled(on interface: String) -> Bool {
        let path = "/proc/sys/net/ipv4/conf/\(interface)/promote_secondaries"
        return (try? String(contentsOfFile: path, encoding: .utf8))?.hasPrefix("1") == true
    }
}
