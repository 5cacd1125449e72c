import MonotonicTime
import CloudRoutes
import LinuxNet
import Logging
import NetworkTypes
import Transports
import VRRP

/// The daemon's `InstanceEnvironment`: what an instance's effects do on this host. The
/// virtual addresses go through netlink, gratuitous ARPs through one ARP socket per
/// interface that holds a VIP, advertisements through the transport, notify scripts
/// through the script runner, routes through the EC2 route worker. Used on the
/// instance's loop thread only, except `routeFailover`, which the loop swaps and status
/// readers take under the runtime's lock.
final class HostEnvironment: InstanceEnvironment, @unchecked Sendable {
    let setup: InstanceSetup
    let transport: any VRRPTransport
    private let netlink: NetlinkSocket
    /// By interface index; interfaces without ARP (a GRE tunnel, lo) have none.
    private let arp: [Int32: ARPSocket]
    private let scripts: ScriptRunner
    let logger: Logger
    var routeFailover: RouteFailover?
    /// Hands a transition to the other members of the instance's sync groups.
    var onSyncGroupNotice: (@Sendable (SyncGroupNotice) -> Void)?
    /// Where notify FIFO lines go (`notify_fifo`, `vrrp_notify_fifo`).
    var notifyFIFO: NotifyFIFOWriter?
    /// Told each state the instance enters (the e-mail alerts).
    var onTransition: (@Sendable (VRRPStateMachine.State) -> Void)?
    private var lastRejectionLog: [VRRPRejection: UInt64] = [:]
    /// Excluded VIPs, virtual routes and rules; a reload replaces it in place.
    private(set) var masterState: KernelState
    /// Whether `masterState` is in the kernel (between add and remove).
    private var masterStateApplied = false
    /// What of the VIPs and `masterState` went in, for `KernelWatch`.
    let ownership = KernelOwnership()
    /// The nftables table of Accept Mode off; used when `setup.dropsVIPTraffic`.
    var vipFirewall: VIPFirewall?
    /// The addresses this instance put into the firewall's set (taken out on removal).
    private var firewalled: [IPv4Address] = []

    init(setup: InstanceSetup, transport: any VRRPTransport, netlink: NetlinkSocket, scripts: ScriptRunner, logger: Logger,
         routeFailover: RouteFailover?) {
        self.setup = setup
        self.transport = transport
        self.netlink = netlink
        self.scripts = scripts
        self.logger = logger
        self.routeFailover = routeFailover
        self.masterState = setup.masterState
        self.arp = setup.vipInterfaceHardwareAddresses.reduce(into: [:]) { sockets, entry in
            guard entry.value.count == 6 else { return }
            if let socket = try? ARPSocket(interfaceIndex: entry.key, hardwareAddress: entry.value) { sockets[entry.key] = socket }
        }
    }

    var now: UInt64 { MonotonicClock.now() }
    var wallClockMicroseconds: UInt64 { AdvertisementSealer.wallClockMicroseconds() }

    func send(_ advertisement: VRRPAdvertisement) throws { try transport.send(advertisement) }

    /// The core's "add VIPs" and "remove VIPs" stand for all the kernel state a MASTER
    /// owns: the VIPs, then `masterState` (excluded VIPs, virtual routes, virtual rules)
    /// go in together on becoming MASTER and come out together, in reverse, on leaving
    /// it (and at start, where keepalived clears what a crash may have left). Only the
    /// VIPs are in the advertisement; the rest is this host's business.
    func addVirtualAddresses() {
        var owned = KernelState()
        // Accept Mode off: the drop rules first, so no packet to a VIP slips in between
        // (keepalived's order).
        if setup.dropsVIPTraffic, let vipFirewall {
            let addresses = setup.virtualAddresses.map(\.address) + masterState.addresses.map(\.value.address)
            vipFirewall.add(addresses)
            firewalled = addresses
        }
        for address in setup.virtualAddresses {
            do {
                try netlink.addAddress(address)
                owned.addresses.append(.init(value: address, text: "\(address.address)/\(address.prefixLength)",
                                             track: !setup.untrackedVirtualAddresses.contains(address)))
            } catch {
                logger.error("cannot add virtual address", metadata: ["vrrp.vip": "\(address.address)", "error": "\(error)"])
            }
        }
        ownership.installed(owned.union(masterState.apply(through: netlink, logger: logger, what: "MASTER")))
        masterStateApplied = true
    }

    func removeVirtualAddresses() {
        ownership.withdrawing()
        masterState.withdraw(through: netlink, logger: logger, what: "MASTER")
        masterStateApplied = false
        for address in setup.virtualAddresses {
            do { try netlink.removeAddress(address) } catch {
                logger.error("cannot remove virtual address", metadata: ["vrrp.vip": "\(address.address)", "error": "\(error)"])
            }
        }
        if !firewalled.isEmpty {
            vipFirewall?.remove(firewalled)
            firewalled = []
        }
    }

    /// A reload changed the excluded VIPs, routes or rules only: while MASTER the kernel
    /// is moved to the new set (dropped entries out, new ones in); VRRP runs on.
    func replaceMasterState(_ next: KernelState) {
        if masterStateApplied {
            // Before the kernel changes: what the reload drops is not someone's deletion.
            let before = ownership.snapshot.state ?? KernelState()
            ownership.withdrawing()
            let added = masterState.reconcile(to: next, through: netlink, logger: logger, what: "MASTER")
            let vips = KernelState(addresses: before.addresses.filter { setup.virtualAddresses.contains($0.value) })
            ownership.installed(vips.union(next.intersection(before)).union(added))
        }
        masterState = next
    }

    func announceVirtualAddresses(rounds: Int) {
        for _ in 0..<rounds {
            for address in setup.virtualAddresses + masterState.addresses.map(\.value) {
                guard let socket = arp[address.interfaceIndex] else { continue }
                do { try socket.announce(address.address) } catch {
                    logger.debug("gratuitous ARP failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    func runNotify(_ call: NotifyCall) {
        scripts.start(call.command, extraArguments: call.arguments, user: call.user, group: call.group)
    }

    func writeNotifyLine(_ line: NotifyLine) { notifyFIFO?.write(line) }

    func setRouteOwner(_ owner: Bool) { routeFailover?.setMaster(owner) }

    func tellSyncGroup(_ notice: SyncGroupNotice) { onSyncGroupNotice?(notice) }

    func log(_ entry: InstanceLogEntry) {
        switch entry {
        case .transition(let from, let to, let priority, let cause):
            logger.info("\(from) -> \(to)", metadata: ["vrrp.state": "\(to)", "vrrp.priority": "\(priority)", "vrrp.cause": "\(cause)"])
            onTransition?(to)
        case .core(.priorityChanged(let priority)):
            logger.info("priority changed", metadata: ["vrrp.priority": "\(priority)"])
        case .core(.faultRaised(let reason)):
            logger.warning("fault", metadata: ["vrrp.reason": "\(reason)"])
        case .core(.faultCleared(let reason)):
            logger.warning("fault cleared", metadata: ["vrrp.reason": "\(reason)"])
        case .core(.ownedStateLost(let what)):
            logger.warning("deleted from the kernel while MASTER; leaving MASTER to re-elect", metadata: ["vrrp.deleted": "\(what)"])
        case .core(.rejected(let error, let source)):
            logRejection(error, from: source)
        case .sendFailed(let error, let count):
            if count == 1 || count % 100 == 0 {
                logger.error("send failed", metadata: ["error": "\(error)", "vrrp.send_errors": "\(count)"])
            }
        }
    }

    /// Rejections are logged at most once per reason every 10 s: a flood must not
    /// become a disk-filling log.
    private func logRejection(_ error: VRRPPacketError, from source: IPv4Address?) {
        guard error.reason != .otherVirtualRouter else { return }
        let now = MonotonicClock.now()
        if let last = lastRejectionLog[error.reason], now - last < 10_000_000_000 { return }
        lastRejectionLog[error.reason] = now
        logger.warning("dropped packet", metadata: ["vrrp.reason": "\(error.reason)", "vrrp.detail": "\(error.detail)",
                                                    "vrrp.from": "\(source.map(\.description) ?? "?")"])
    }
}
