#if canImport(Glibc)
import Glibc
#endif

/// The open-files limit the health checker needs. A check in flight holds a socket, and at
/// worst every check is in flight at once: a partition between the balancer and its real
/// servers leaves every connect waiting out its connect_timeout. systemd starts services
/// with a soft limit of 1,024 (the hard limit is 524,288), so past about a thousand real
/// servers checks would fail with EMFILE and mark healthy servers down. keepalived raises
/// its own limit for its checkers in the same way; the soft limit is the process's to
/// raise, up to the hard one.
public enum OpenFileLimit {
    public struct Change: Equatable, Sendable {
        public var before: UInt64
        public var after: UInt64
        /// The hard limit: when it is below what was needed, `after` is it.
        public var hard: UInt64
    }

    /// The soft and hard limits now.
    public static func current() -> (soft: UInt64, hard: UInt64)? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }

    /// Raises the soft limit to `needed` (up to the hard limit) when it is lower; nil when
    /// it was enough already, or could not be read or set.
    public static func raise(toAtLeast needed: UInt64) -> Change? {
        guard let (soft, hard) = current(), soft < needed else { return nil }
        var limit = rlimit(rlim_cur: rlim_t(min(needed, hard)), rlim_max: rlim_t(hard))
        guard setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return Change(before: soft, after: UInt64(limit.rlim_cur), hard: hard)
    }

    /// What the checker asks for: the descriptors any daemon needs, plus one per check
    /// target (each has at most one connection in flight).
    public static func needed(checkTargets: Int) -> UInt64 { 1024 + UInt64(max(0, checkTargets)) }
}
