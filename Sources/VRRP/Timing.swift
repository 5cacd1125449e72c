/// The timer formulas of RFC 3768 §6.1 (v2) and RFC 5798 §6.1 (v3), in one place.
///
/// v2:  Skew_Time = (256 - Priority) / 256 seconds
///      Master_Down_Interval = 3 * Advertisement_Interval + Skew_Time
/// v3:  Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256
///      Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
///
/// v2's skew does not scale with the interval; v3's does, which is what makes
/// sub-second failover work. The results are exact (keepalived rounds to microseconds;
/// the difference is below a microsecond).
public enum VRRPTiming {
    public static func skewTime(version: VRRPVersion, priority: UInt8, masterAdvertisementInterval: Centiseconds) -> Duration {
        duration(picoseconds: skewPicoseconds(version: version, priority: priority, interval: masterAdvertisementInterval))
    }

    public static func masterDownInterval(version: VRRPVersion, priority: UInt8,
                                          masterAdvertisementInterval: Centiseconds) -> Duration {
        duration(picoseconds: 3 * picoseconds(masterAdvertisementInterval)
                    + skewPicoseconds(version: version, priority: priority, interval: masterAdvertisementInterval))
    }

    // In whole picoseconds, which hold every value exactly: a centisecond is 10^10 ps
    // and 1/256 of it 39,062,500. Computed in Int64 rather than with `Duration * Int`,
    // which goes through generic Int128 code: a BACKUP re-arms this timer on every
    // advertisement it hears, and that arithmetic was a tenth of the work per packet.
    // Intervals are 12 bits (v3) or 8 bits of seconds (v2); clamped all the same to 2^20
    // cs, so nothing can overflow: the largest product, 2^20 cs x 256 in the skew, is
    // about 2.7 x 10^18 ps, under Int64's 9.2 x 10^18.
    private static let picosecondsPerSecond: Int64 = 1_000_000_000_000

    private static func picoseconds(_ interval: Centiseconds) -> Int64 {
        Int64(min(max(interval.value, 0), 1 << 20)) * 10_000_000_000
    }

    private static func skewPicoseconds(version: VRRPVersion, priority: UInt8, interval: Centiseconds) -> Int64 {
        let weight = 256 - Int64(priority)
        switch version {
        case .v2: return picosecondsPerSecond * weight / 256
        case .v3: return picoseconds(interval) * weight / 256
        }
    }

    private static func duration(picoseconds: Int64) -> Duration {
        Duration(secondsComponent: picoseconds / picosecondsPerSecond,
                 attosecondsComponent: (picoseconds % picosecondsPerSecond) * 1_000_000)
    }
}
