import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A set of descriptors an event loop sleeps on (epoll), each known by a small slot
/// number, woken when one is readable or when a nanosecond timeout ends.
///
/// Why not ppoll: ppoll hands the kernel the whole list on every call, and the kernel
/// looks up and polls each descriptor every time. An instance loop wakes for every
/// advertisement, and on an idle BACKUP that per-call setup was a tenth of the work
/// per packet (perf); an epoll set is registered once.
public final class EventSet {
    private let epoll: Int32
    private var events = [epoll_event](repeating: epoll_event(), count: 8)
    /// Whether epoll_pwait2 (nanosecond timeouts, Linux 5.11) works here; any error but
    /// EINTR turns it off for good.
    private var nanosecondTimeouts = true

    public init() throws(SystemCallError) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError("epoll_create1", errno: errno, context: "creating an event loop's wait set") }
        epoll = fd
    }

    deinit { close(epoll) }

    /// Starts (or stops) waking for `fd` becoming readable, as `slot` (0-31).
    public func watch(_ fd: Int32, slot: UInt32, _ on: Bool = true) throws(SystemCallError) {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u32 = slot
        let result = on ? epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) : epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
        guard result == 0 else {
            throw SystemCallError("epoll_ctl", errno: errno, context: "\(on ? "watching" : "unwatching") descriptor \(fd)")
        }
    }

    /// Sleeps until a watched descriptor is readable or `nanoseconds` have passed, and
    /// returns the readable slots as bits (bit n: slot n). An interrupted wait returns 0.
    public func wait(nanoseconds: UInt64) -> UInt32 {
        let count: Int32 = events.withUnsafeMutableBufferPointer { buffer in
            if nanosecondTimeouts {
                var timeout = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
                let count = overcast_epoll_pwait2(epoll, buffer.baseAddress, Int32(buffer.count), &timeout)
                guard count < 0, errno != EINTR else { return count }
                // ENOSYS on a kernel before 5.11, EPERM under a seccomp filter that
                // predates the call: from now on the old call, never a loop that spins.
                nanosecondTimeouts = false
            }
            // Milliseconds, rounded up: never wake before the deadline and spin.
            let milliseconds = Int32(clamping: (nanoseconds + 999_999) / 1_000_000)
            return epoll_wait(epoll, buffer.baseAddress, Int32(buffer.count), milliseconds)
        }
        var ready: UInt32 = 0
        for index in 0..<max(0, Int(count)) where events[index].data.u32 < 32 {
            ready |= 1 << events[index].data.u32
        }
        return ready
    }
}
