import CLinux
import Config
import EC2
import Foundation
import LinuxNet
import Logging
import Transports
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// One VRRP instance on the network: a thread running an event loop around a
/// `VirtualRouter`. The loop waits in epoll (`EventSet`) on the transport and a wake-up pipe until
/// the next timer deadline, so timers fire to the microsecond and an idle instance
/// costs nothing between advertisements. Everything the router decides is carried out
/// here: sending, virtual addresses, gratuitous ARP, notify scripts.
final class InstanceRuntime: @unchecked Sendable {
    enum Control: Sendable {
        case shutdown
        /// The effective priority from tracking.
        case priority(UInt8)
        case fault(Bool, reason: String)
        /// A sync group member became MASTER: a BACKUP follows at once.
        case takeOver
        /// A reload changed only the route failover settings: no VRRP restart, no flap.
        case routeFailover(RouteFailoverSettings?)
    }

    enum LoopTimer: Hashable {
        case vrrp(VRRPStateMachine.Timer)
        case garpSecondSet
        case garpRefresh
    }

    let setup: InstanceSetup
    private let transport: any VRRPTransport
    private let netlink: NetlinkSocket
    /// One ARP socket per interface that holds a virtual address (by interface index).
    private let arp: [Int32: ARPSocket]
    private let scripts: ScriptRunner
    private var logger: Logger
    /// Keeps the VIPs' EC2 routes pointing here while MASTER (its own thread). Replaced
    /// in place when a reload changes only `ec2_route_failover` (the loop swaps it; status
    /// readers take it under `lock`).
    private var routeFailover: RouteFailover?

    // Loop-owned state.
    private var router: VirtualRouter
    private var deadlines: [LoopTimer: UInt64] = [:]
    private var sendErrors = 0
    private var stateSince = MonotonicClock.now()
    private var lastRejectionLog: [VRRPRejection: UInt64] = [:]
    private var faults: Set<String> = []
    private var otherBudget = ReceiveBudget(now: MonotonicClock.now())
    /// What the loop sleeps on: the transport's socket(s) and the wake-up pipe.
    private let events: EventSet

    // Shared with other threads.
    private let lock = NSLock()
    private var inbox: [Control] = []
    private var published: InstanceStatus
    private var exited = false
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []
    private let wakeup = Wakeup()
    /// Called on the loop thread after every transition (sync groups). The flag says
    /// whether a FAULT is this instance's own, not one a sync group imposed on it.
    var onTransition: (@Sendable (String, VRRPStateMachine.State, Bool) -> Void)?

    static let syncGroupFaultPrefix = "sync group "

    /// Every EC2 API call of the route failover, as it finishes (the metrics' histogram).
    private let onEC2Call: @Sendable (EC2Client.Call) -> Void

    init(setup: InstanceSetup, transport: any VRRPTransport, netlink: NetlinkSocket, scripts: ScriptRunner, logger: Logger,
         onEC2Call: @escaping @Sendable (EC2Client.Call) -> Void = { _ in }) throws(SystemCallError) {
        events = try EventSet()
        try events.watch(transport.descriptor, slot: Self.mainSlot)
        try events.watch(wakeup.readEnd, slot: Self.wakeupSlot)
        self.onEC2Call = onEC2Call
        self.setup = setup
        self.transport = transport
        self.netlink = netlink
        self.scripts = scripts
        var logger = logger
        logger[metadataKey: "vrrp.instance"] = "\(setup.name)"
        logger[metadataKey: "vrrp.vrid"] = "\(setup.router.virtualRouterID)"
        self.logger = logger
        self.router = VirtualRouter(configuration: setup.router)
        self.router.authenticator = setup.authenticator
        self.routeFailover = setup.routeFailover.map { RouteFailover(settings: $0, logger: logger, onCall: onEC2Call) }
        self.arp = setup.vipInterfaceHardwareAddresses.reduce(into: [:]) { sockets, entry in
            // Interfaces without ARP (a GRE tunnel, lo) have no socket and no announcement.
            guard entry.value.count == 6 else { return }
            if let socket = try? ARPSocket(interfaceIndex: entry.key, hardwareAddress: entry.value) { sockets[entry.key] = socket }
        }
        self.published = InstanceStatus(
            name: setup.name, virtualRouterID: Int(setup.router.virtualRouterID), interface: setup.interfaceName,
            transport: transport.kind, version: Int(setup.router.stateMachine.version.rawValue), state: "INIT",
            basePriority: Int(setup.router.stateMachine.priority), effectivePriority: Int(setup.router.stateMachine.priority),
            masterAddress: nil, virtualAddresses: setup.virtualAddresses.map { "\($0.address)/\($0.prefixLength)" },
            advertisementsSent: 0, advertisementsReceived: 0, priorityZeroSent: 0, priorityZeroReceived: 0,
            transitions: 0, becameMaster: 0, sendErrors: 0, rejected: [:], secondsInState: 0, faults: [])
    }

    // MARK: - Other threads

    func start() {
        let thread = Thread.named("vrrp-\(setup.name)") { [self] in loop() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    func post(_ control: Control) {
        lock.withLock { inbox.append(control) }
        wakeup.signal()
    }

    var status: InstanceStatus {
        lock.withLock {
            var s = published
            // Read when asked, not on every wake-up of the loop (they are syscalls and the
            // replicator's lock); each source is safe to read from this thread.
            s.transportCounters = transport.counters
            s.routeFailover = routeFailover?.status
            s.secondsInState = Double(MonotonicClock.now() - stateSinceShared) / 1e9
            return s
        }
    }
    private var stateSinceShared = MonotonicClock.now()

    /// Returns once the loop has ended (after a shutdown).
    func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = lock.withLock { () -> Bool in
                if exited { return true }
                exitWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    // MARK: - The loop

    private static let mainSlot: UInt32 = 0, wakeupSlot: UInt32 = 1, otherSlot: UInt32 = 2

    private func loop() {
        // keepalived removes its VIPs at start: a crash may have left them behind.
        removeAddresses()
        routeFailover?.start()
        logger.info("starting", metadata: ["vrrp.transport": "\(transport.kind)", "vrrp.source": "\(transport.sourceAddress)"])
        apply(router.handle(.startup))
        var watchingOther = false, eventSetErrorLogged = false
        var running = true
        while running {
            let now = MonotonicClock.now()
            var due: (timer: LoopTimer, time: UInt64)?
            for (timer, time) in deadlines where time <= now && time < due?.time ?? .max { due = (timer, time) }
            if let timer = due?.timer {
                deadlines[timer] = nil
                fire(timer)
                continue
            }
            // The second lane is waited on only while its budget lasts; otherwise the
            // loop sleeps until the budget refills and the kernel queues (or drops) meanwhile.
            let resume = transport.otherDescriptor == nil ? nil : otherBudget.resumeTime(now: now)
            var wake = deadlines.values.min()
            if let resume { wake = min(wake ?? resume, resume) }
            if let other = transport.otherDescriptor, watchingOther != (resume == nil) {
                // Taken as done even when the kernel refuses (said once): a failed add
                // leaves the other lane unread (its packets are counted as queue drops,
                // the peers' lane goes on); a failed remove means it was not watched.
                watchingOther = resume == nil
                do { try events.watch(other, slot: Self.otherSlot, watchingOther) } catch where !eventSetErrorLogged {
                    eventSetErrorLogged = true
                    logger.error("cannot change the event set; the non-peer lane may go unread", metadata: ["error": "\(error)"])
                } catch {}
            }
            let ready = events.wait(nanoseconds: wake.map { $0 > now ? $0 - now : 0 } ?? 1_000_000_000)
            if ready & (1 << Self.wakeupSlot) != 0 {
                wakeup.drain()
                let controls = lock.withLock { () -> [Control] in defer { inbox.removeAll() }; return inbox }
                for control in controls where running {
                    running = handle(control)
                }
            }
            // In batches: under a flood the loop still returns to its timers (a MASTER's
            // next advertisement) between them.
            if running && ready & (1 << Self.mainSlot) != 0 {
                for _ in 0..<256 {
                    guard let frame = transport.receive() else { break }
                    receive(frame)
                }
            }
            if running && ready & (1 << Self.otherSlot) != 0 {
                var read = 0
                for _ in 0..<otherBudget.allowance(now: MonotonicClock.now()) {
                    guard let frame = transport.receiveOther() else { break }
                    receive(frame)
                    read += 1
                }
                otherBudget.spend(read)
            }
            publish()
        }
        publish()
        lock.withLock { routeFailover }?.stop()
        let waiters = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            exited = true
            defer { exitWaiters.removeAll() }
            return exitWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Handles a control message; false ends the loop.
    private func handle(_ control: Control) -> Bool {
        switch control {
        case .shutdown:
            logger.info("shutting down", metadata: ["vrrp.state": "\(router.state)"])
            apply(router.handle(.shutdown))
            return false
        case .priority(let priority):
            guard priority != router.machine.priority else { return true }
            logger.info("priority changed", metadata: ["vrrp.priority": "\(priority)"])
            apply(router.handle(.priorityChanged(priority)))
        case .takeOver:
            if router.state == .backup { apply(router.handle(.timerFired(.masterDown))) }
        case .routeFailover(let settings):
            guard settings != routeFailover?.settings else { return true }
            logger.info("route failover settings changed; VRRP keeps running")
            let replacement = settings.map { RouteFailover(settings: $0, logger: logger, onCall: onEC2Call) }
            let old = lock.withLock { () -> RouteFailover? in defer { routeFailover = replacement }; return routeFailover }
            old?.stop()
            replacement?.start()
            replacement?.setMaster(router.state == .master)
        case .fault(let isFault, let reason):
            let wasFaulty = !faults.isEmpty
            if isFault { faults.insert(reason) } else { faults.remove(reason) }
            if faults.isEmpty == wasFaulty {
                logger.warning(isFault ? "fault" : "fault cleared", metadata: ["vrrp.reason": "\(reason)"])
                apply(router.handle(isFault ? .faultDetected : .faultCleared))
            }
        }
        return true
    }

    private func fire(_ timer: LoopTimer) {
        switch timer {
        case .vrrp(let t):
            apply(router.handle(.timerFired(t)))
        case .garpSecondSet:
            announce(count: setup.garp.repeatCount)
        case .garpRefresh:
            announce(count: setup.garp.refreshRepeat)
            arm(.garpRefresh, seconds: setup.garp.refresh)
        }
    }

    private func receive(_ frame: ReceivedFrame) {
        switch frame {
        case .malformed(let error):
            router.countRejection(error.reason)
            logRejection(error, from: nil)
        case .packet(let packet):
            let (outputs, rejection) = router.receive(packet, now: setup.authenticator == nil ? 0 : AdvertisementSealer.wallClockMicroseconds())
            if let rejection { logRejection(rejection, from: packet.source) }
            apply(outputs)
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

    private func arm(_ timer: LoopTimer, seconds: Double) {
        deadlines[timer] = MonotonicClock.now() + UInt64(max(0, seconds) * 1e9)
    }

    private func apply(_ outputs: [VirtualRouter.Output]) {
        for output in outputs {
            switch output {
            case .send(let advertisement):
                do { try transport.send(advertisement) } catch {
                    sendErrors += 1
                    if sendErrors == 1 || sendErrors % 100 == 0 {
                        logger.error("send failed", metadata: ["error": "\(error)", "vrrp.send_errors": "\(sendErrors)"])
                    }
                }
            case .armTimer(let timer, let after):
                deadlines[.vrrp(timer)] = MonotonicClock.now() + MonotonicClock.nanoseconds(after)
            case .cancelTimer(let timer):
                deadlines[.vrrp(timer)] = nil
            case .transition(let from, let to):
                transition(from: from, to: to)
            }
        }
    }

    private func transition(from: VRRPStateMachine.State, to: VRRPStateMachine.State) {
        stateSince = MonotonicClock.now()
        logger.info("\(from) -> \(to)", metadata: ["vrrp.state": "\(to)", "vrrp.priority": "\(router.machine.priority)"])
        if to == .master {
            addAddresses()
            announce(count: setup.garp.repeatCount)
            if setup.garp.delay > 0 { arm(.garpSecondSet, seconds: setup.garp.delay) }
            if setup.garp.refresh > 0 { arm(.garpRefresh, seconds: setup.garp.refresh) }
        } else if from == .master {
            deadlines[.garpSecondSet] = nil
            deadlines[.garpRefresh] = nil
            removeAddresses()
        }
        routeFailover?.setMaster(to == .master)
        runNotify(to)
        onTransition?(setup.name, to, faults.contains { !$0.hasPrefix(Self.syncGroupFaultPrefix) })
    }

    private func addAddresses() {
        guard setup.manageAddresses else { return }
        for address in setup.virtualAddresses {
            do { try netlink.addAddress(address) } catch {
                logger.error("cannot add virtual address", metadata: ["vrrp.vip": "\(address.address)", "error": "\(error)"])
            }
        }
    }

    private func removeAddresses() {
        guard setup.manageAddresses else { return }
        for address in setup.virtualAddresses {
            do { try netlink.removeAddress(address) } catch {
                logger.error("cannot remove virtual address", metadata: ["vrrp.vip": "\(address.address)", "error": "\(error)"])
            }
        }
    }

    private func announce(count: Int) {
        guard setup.manageAddresses else { return }
        for _ in 0..<max(1, count) {
            for address in setup.virtualAddresses {
                guard let socket = arp[address.interfaceIndex] else { continue }
                do { try socket.announce(address.address) } catch {
                    logger.debug("gratuitous ARP failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// keepalived's notify scripts: notify_<state> with no arguments, and `notify` with
    /// "INSTANCE" NAME STATE PRIORITY.
    private func runNotify(_ state: VRRPStateMachine.State) {
        let name: String
        let specific: String?
        switch state {
        case .master: (name, specific) = ("MASTER", setup.notify.master)
        case .backup: (name, specific) = ("BACKUP", setup.notify.backup)
        case .fault: (name, specific) = ("FAULT", setup.notify.fault)
        case .initialize: (name, specific) = ("STOP", setup.notify.stop)
        }
        if let specific { scripts.start(specific) }
        if let any = setup.notify.any {
            scripts.start(any, extraArguments: ["INSTANCE", setup.name, name, "\(router.machine.priority)"])
        }
    }

    private var publishedMaster: (address: IPv4Address?, text: String?) = (nil, nil)
    private var publishedRejections = 0

    private func publish() {
        let c = router.counters
        // Called after every wake-up: strings and maps are rebuilt only when they change.
        let masterAddress = router.state == .master ? transport.sourceAddress : router.lastHeardFrom
        if masterAddress != publishedMaster.address { publishedMaster = (masterAddress, masterAddress?.description) }
        let master = publishedMaster.text
        let rejectedTotal = c.rejected.values.reduce(0, +)
        let rejected: [String: Int]? = rejectedTotal == publishedRejections ? nil
            : Dictionary(uniqueKeysWithValues: c.rejected.map { ($0.key.rawValue, $0.value) })
        publishedRejections = rejectedTotal
        lock.withLock {
            published.state = router.state.rawValue
            published.effectivePriority = Int(router.machine.priority)
            published.masterAddress = master
            published.advertisementsSent = c.advertisementsSent
            published.advertisementsReceived = c.advertisementsReceived
            published.priorityZeroSent = c.priorityZeroSent
            published.priorityZeroReceived = c.priorityZeroReceived
            published.transitions = c.transitions
            published.becameMaster = c.becameMaster
            published.sendErrors = sendErrors
            if let rejected { published.rejected = rejected }
            published.faults = faults.sorted()
            stateSinceShared = stateSince
        }
    }
}
