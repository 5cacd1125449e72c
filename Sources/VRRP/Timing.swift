/// The timer formulas of RFC 3768 §6.1 (v2) and RFC 5798 §6.1 (v3), in one place.
///
/// v2:  Skew_Time = (256 - Priority) / 256 seconds
///      Master_Down_Interval = 3 * Advertisement_Interval + Skew_Time
/// v3:  Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256
///      Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
///
/// v2's skew does not scale with the interval; v3's does, which is what makes
/// sub-second failover work. `Duration` keeps the division exact (keepalived rounds to
/// microseconds; the difference is below a microsecond).
public enum VRRPTiming {
    public static func skewTime(version: VRRPVersion, priority: UInt8, masterAdvertisementInterval: Centiseconds) -> Duration {
        let weight = 256 - Int(priority)
        switch version {
        case .v2: return .seconds(1) * weight / 256
        case .v3: return masterAdvertisementInterval.duration * weight / 256
        }
    }

    public static func masterDownInterval(version: VRRPVersion, priority: UInt8,
                                          masterAdvertisementInterval: Centiseconds) -> Duration {
        masterAdvertisementInterval.duration * 3
            + skewTime(version: version, priority: priority, masterAdvertisementInterval: masterAdvertisementInterval)
    }
}
