import Foundation
import Testing
@testable import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// The instance loops' wait (epoll): readable slots come back as bits, timeouts are
/// kept to the nanosecond's order, and a descriptor stops waking once unwatched.
@Suite struct EventSetTests {
    static func monotonic() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    @Test func readableSlotsTimeoutsAndUnwatching() throws {
        var a: [Int32] = [0, 0], b: [Int32] = [0, 0]
        try #require(pipe(&a) == 0 && pipe(&b) == 0)
        defer { [a[0], a[1], b[0], b[1]].forEach { close($0) } }
        let set = try EventSet()
        try set.watch(a[0], slot: 0)
        try set.watch(b[0], slot: 5)

        // Nothing readable: the wait lasts its timeout, not less (a loop must never wake
        // before its deadline and spin), and not a whole millisecond tick more.
        let started = Self.monotonic()
        #expect(set.wait(nanoseconds: 20_000_000) == 0)
        let waited = Self.monotonic() - started
        #expect(waited >= 20_000_000, "\(waited) ns")

        #expect(write(b[1], "x", 1) == 1)
        #expect(set.wait(nanoseconds: 1_000_000_000) == 1 << 5)
        #expect(write(a[1], "x", 1) == 1)
        #expect(set.wait(nanoseconds: 0) == (1 << 0 | 1 << 5))   // level-triggered: b is still unread

        try set.watch(b[0], slot: 5, false)
        var byte: UInt8 = 0
        #expect(read(a[0], &byte, 1) == 1)
        #expect(set.wait(nanoseconds: 10_000_000) == 0)         // b readable but unwatched
    }

    @Test func aBadDescriptorIsAnErrorThatSaysWhich() throws {
        let set = try EventSet()
        #expect(throws: SystemCallError.self) { try set.watch(-1, slot: 0) }
        let error = #expect(throws: SystemCallError.self) { try set.watch(987_654, slot: 1) }
        #expect(error.map { "\($0)" }?.contains("987654") == true)
    }
}
