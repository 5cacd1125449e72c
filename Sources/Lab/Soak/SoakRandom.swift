#if canImport(Glibc)
import Glibc
#endif

/// The soak's random numbers: SplitMix64, so a seed replays the same schedule on any
/// machine and Swift version (the standard library's generator is not seedable).
public struct SoakRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A time in `range` seconds.
    public mutating func seconds(_ range: ClosedRange<Double>) -> Double { Double.random(in: range, using: &self) }

    /// An exponentially distributed gap with this mean: arrivals that bunch and overlap
    /// as real faults do, rather than a metronome.
    public mutating func gap(mean: Double) -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
        return -mean * (u.isFinite ? log(u) : 0)
    }
}
