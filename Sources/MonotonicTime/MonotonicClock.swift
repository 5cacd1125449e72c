#if canImport(Glibc)
import Glibc
#endif

/// CLOCK_MONOTONIC: the time base of every timer, deadline and timeout in the daemon. A
/// step of the wall clock (NTP correcting it, an operator's `date`) must never fire,
/// delay or cut short any of them; only what is shown to people or sent to AWS (log
/// times, SigV4 dates, HMAC sequences) reads the wall clock.
public enum MonotonicClock {
    /// Nanoseconds since an arbitrary start (the boot).
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Seconds since the same start, for deadlines kept as Doubles.
    public static var seconds: Double { Double(now()) / 1e9 }
}
