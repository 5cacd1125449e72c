import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The soak's random numbers: the tests' SplitMix64, so a seed replays the same schedule
/// on any machine and Swift version (the standard library's generator is not seedable).
public typealias SoakRandom = SeededRandom

extension SeededRandom {
    /// A time in `range` seconds.
    public mutating func seconds(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }

    /// An exponentially distributed gap with this mean: arrivals that bunch and overlap
    /// as real faults do, rather than a metronome.
    public mutating func gap(mean: Double) -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        return -mean * log(u)
    }
}
