import NetworkTypes
import Synchronization
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// The sending half of authenticated advertisements (`auth_type HMAC_SHA256`): appends
/// the authenticator's trailer to each encoded advertisement with the next sequence (the
/// wall clock in microseconds, kept increasing). Transports call it once per copy they
/// send; receiving is checked in the virtual router (`AdvertisementAuthenticator.open`).
public final class AdvertisementSealer: Sendable {
    private let authenticator: any AdvertisementAuthenticator
    private let last = Mutex<UInt64>(0)

    public init(_ authenticator: any AdvertisementAuthenticator) {
        self.authenticator = authenticator
    }

    public func seal(_ message: [UInt8], source: IPv4Address) -> [UInt8] {
        let now = Self.wallClockMicroseconds()
        let sequence = last.withLock { last in
            last = Self.nextSequence(after: last, now: now)
            return last
        }
        return authenticator.seal(message, source: source, sequence: sequence)
    }

    /// The sequence to send after `last` at wall clock `now`: the clock, or one more
    /// than the last if the clock stepped back (receivers refuse a sequence that is not
    /// after the last they accepted).
    public static func nextSequence(after last: UInt64, now: UInt64) -> UInt64 {
        max(last &+ 1, now)
    }

    /// Microseconds since 1970 (CLOCK_REALTIME): the sequence must mean the same on
    /// every node, so it is wall time, not monotonic time.
    public static func wallClockMicroseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(max(0, ts.tv_sec)) &* 1_000_000 &+ UInt64(max(0, ts.tv_nsec / 1000))
    }
}
