import Foundation
import LinuxNet
import Logging
import VRRP

/// keepalived's watch over what it put into the kernel (keepalived_netlink.c): when
/// someone deletes a VIP, an excluded VIP, a virtual route or rule of a MASTER, the
/// instance is told (`InstanceCore` leaves MASTER for a quick re-election, which puts
/// it all back); a deleted static address, route or rule is put back at once. Entries
/// written `no_track` are let be. A netlink notification is only a wake-up: the tables
/// are read and compared with what each owner has in (`KernelOwnership`), which also
/// covers notifications lost to a full buffer; a read every 60 s is the backstop.
final class KernelWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var instances: [InstanceRuntime] = []
    /// The static state the daemon has in; changed through `changeStatic`.
    let staticOwnership = KernelOwnership()
    private let logger: Logger
    private let wakeup = Wakeup()
    private var started = false

    init(logger: Logger) { self.logger = logger }

    /// The instances to watch (start and reload).
    func configure(instances: [InstanceRuntime]) {
        lock.withLock { self.instances = instances }
        if !lock.withLock({ defer { started = true }; return started }) { start() }
        wakeup.signal()
    }

    private func start() {
        let events = try? LinkEvents.ipv4Tables()
        if events == nil { logger.warning("no address/route/rule event subscription; deleted entries are looked for every 2 s") }
        let backstop: Int32 = events == nil ? 2_000 : 60_000
        let thread = Thread.named("kernel-watch") { [self] in
            var reader: NetlinkSocket?
            while true {
                if reader == nil { reader = try? NetlinkSocket(.route) }
                if let netlink = reader, !check(through: netlink) { reader = nil }
                var fds = [pollfd(fd: wakeup.readEnd, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: events?.descriptor ?? -1, events: Int16(POLLIN), revents: 0)]
                guard poll(&fds, 2, backstop) > 0 else { continue }
                if fds[0].revents != 0 { wakeup.drain() }
                if fds[1].revents != 0 { events?.drain() }
            }
        }
        thread.start()
    }

    /// One comparison of every owner's entries with the kernel; false when the tables
    /// could not be read.
    private func check(through netlink: NetlinkSocket) -> Bool {
        let owners = lock.withLock { instances }.map { ($0, $0.ownership, $0.ownership.snapshot) }
        let statics = staticOwnership.snapshot
        guard let tables = try? KernelTables.read(through: netlink) else { return false }
        for (runtime, ownership, snapshot) in owners {
            guard let state = snapshot.state, let what = tables.missing(from: state).firstText else { continue }
            guard ownership.claimReport(snapshot.generation) else { continue }
            logger.warning("deleted from the kernel while MASTER", metadata: ["vrrp.instance": "\(runtime.setup.name)", "entry": "\(what)"])
            runtime.post(.ownedStateLost(what, generation: snapshot.generation))
        }
        if let state = statics.state {
            let missing = tables.missing(from: state)
            if !missing.isEmpty {
                staticOwnership.ifCurrent(statics.generation) { current in
                    for entry in missing.addresses { logger.warning("reinstating deleted static address", metadata: ["config": "\(entry.text)"]) }
                    for entry in missing.routes { logger.warning("reinstating deleted static route", metadata: ["config": "\(entry.text)"]) }
                    for entry in missing.rules { logger.warning("reinstating deleted static rule", metadata: ["config": "\(entry.text)"]) }
                    let back = missing.apply(through: netlink, logger: logger, what: "static")
                    return current.subtracting(missing.subtracting(back))
                }
            }
        }
        return true
    }
}
