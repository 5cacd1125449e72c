#if canImport(Glibc)
import Glibc
#endif

/// The host's users and groups by name (or number), through NSS's reentrant calls: the
/// configuration is read on several threads, and scripts start on several more.
public enum SystemAccounts {
    /// `name`'s user id and primary group, or nil when the host has no such user. A
    /// number is taken as a user id, as setpriv and chown(1) take it.
    public static func user(named name: String) -> (uid: uid_t, gid: gid_t)? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        if getpwnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil { return (entry.pw_uid, entry.pw_gid) }
        if let number = uid_t(name) {
            if getpwuid_r(number, &entry, &buffer, buffer.count, &result) == 0, result != nil { return (entry.pw_uid, entry.pw_gid) }
            return (number, number)
        }
        return nil
    }

    /// `name`'s group id (or the number given), or nil when the host has no such group.
    public static func group(named name: String) -> gid_t? {
        var entry = Glibc.group()
        var result: UnsafeMutablePointer<Glibc.group>?
        var buffer = [CChar](repeating: 0, count: 16_384)
        if getgrnam_r(name, &entry, &buffer, buffer.count, &result) == 0, result != nil { return entry.gr_gid }
        return gid_t(name)
    }
}
