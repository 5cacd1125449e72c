import Foundation
import LinuxNet
import Logging

/// ha_suspend's view of the host's addresses: a thread that waits on a route netlink
/// address subscription and, at each wake-up, has the address table read and hands it
/// to the health monitor (which decides what rests). Idle while no address changes.
final class LocalAddressWatch: @unchecked Sendable {
    /// Starts the thread; the subscription is opened before the first read, so a change
    /// between the two is seen. A subscription that cannot be opened is logged, and the
    /// addresses read at each configuration are all the monitor learns.
    func start<Read: Sendable>(logger: Logger, read: @escaping @Sendable () -> Read?,
                               onChange: @escaping @Sendable (Read) -> Void) {
        let events: LinkEvents
        do { events = try LinkEvents.addresses() } catch {
            logger.error("ha_suspend: cannot watch the host's addresses; they are read at start and reload only",
                         metadata: ["error": "\(error)"])
            return
        }
        let thread = Thread.named("addresses") {
            while true {
                if let addresses = read() { onChange(addresses) }
                var p = pollfd(fd: events.descriptor, events: Int16(POLLIN), revents: 0)
                while poll(&p, 1, -1) < 0 && errno == EINTR {}
                events.drain()
            }
        }
        thread.start()
    }
}
