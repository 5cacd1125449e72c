import Foundation
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
///
/// With a `floorFile` the sequence also keeps increasing across restarts: the sealer
/// reserves sequences ahead (`reservation`) and writes how far in the file before it
/// uses them, and a new sealer starts past what the file says. Without it, a daemon
/// restarted after its clock stepped back by D would start behind what its peers
/// remember of it and be refused for D (the fault soak, seed 401).
public final class AdvertisementSealer: Sendable {
    /// How far ahead (microseconds) each write of the floor file reserves: one write
    /// every 10 s of sending, and a restarted sender starts at most 10 s ahead of its
    /// clock (well within a receiver's window).
    public static let reservation: UInt64 = 10_000_000

    private struct State {
        var last: UInt64
        var reserved: UInt64
    }

    private let authenticator: any AdvertisementAuthenticator
    private let floorFile: String?
    private let state: Mutex<State>

    public init(_ authenticator: any AdvertisementAuthenticator) {
        self.authenticator = authenticator
        floorFile = nil
        state = Mutex(State(last: 0, reserved: .max))
    }

    /// A sealer that starts past the floor in `floorFile` (created with its directory if
    /// missing) and keeps it ahead of what it sends. Throws when the file cannot be
    /// written: the caller decides to go on without it.
    public init(_ authenticator: any AdvertisementAuthenticator, floorFile: String,
                now: UInt64 = AdvertisementSealer.wallClockMicroseconds()) throws {
        self.authenticator = authenticator
        self.floorFile = floorFile
        let floor = (try? String(contentsOfFile: floorFile, encoding: .utf8))
            .flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        let start = max(floor, now)
        let reserved = start &+ Self.reservation
        try FileManager.default.createDirectory(atPath: (floorFile as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Self.write(reserved, to: floorFile)
        state = Mutex(State(last: floor, reserved: reserved))
    }

    public func seal(_ message: [UInt8], source: IPv4Address) -> [UInt8] {
        seal(message, source: source, now: Self.wallClockMicroseconds())
    }

    /// `seal` at wall clock `now` (microseconds since 1970).
    public func seal(_ message: [UInt8], source: IPv4Address, now: UInt64) -> [UInt8] {
        let sequence = state.withLock { state in
            state.last = Self.nextSequence(after: state.last, now: now)
            // The file is written before a sequence past the last reservation is sent; a
            // failed write keeps the sequence (sending matters more) and retries next time.
            if state.last >= state.reserved, let floorFile {
                let next = state.last &+ Self.reservation
                if (try? Self.write(next, to: floorFile)) != nil { state.reserved = next }
            }
            return state.last
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

    /// Written whole (a temporary file renamed over it): a crash leaves the old floor or
    /// the new one, never a torn number.
    private static func write(_ floor: UInt64, to path: String) throws {
        try "\(floor)\n".write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Where a daemon keeps an instance's floor: one file per interface, VRID and source,
    /// so that instances (and lab nodes sharing a file system) never share one.
    public static func floorFile(directory: String = "/run/overcast", interface: String, virtualRouterID: UInt8,
                                 source: IPv4Address) -> String {
        "\(directory)/hmac-\(interface)-\(virtualRouterID)-\(source).sequence"
    }
}
