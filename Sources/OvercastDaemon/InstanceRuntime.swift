import MonotonicTime
import CloudRoutes
import CLinux
import Config
import EC2
import Foundation
import LinuxNet
import Logging
import NetworkTypes
import Transports
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// One VRRP instance on the network: a thread running an event loop around the
/// instance's `InstanceInterpreter`. The loop waits in epoll (`EventSet`) on the
/// transport and a wake-up pipe until the next timer deadline, so timers fire to the
/// microsecond and an idle instance costs nothing between advertisements. What the
/// instance decides is `InstanceCore`'s; what that does on this host is `HostEnvironment`'s.
final class InstanceRuntime: @unchecked Sendable {
    enum Control: Sendable {
        /// Tracking, sync groups and shutdown (`.stop` ends the loop).
        case event(InstanceCore.Event)
        /// A reload changed only the route failover settings: no VRRP restart, no flap.
        case routeFailover(RouteFailoverSettings?)
        /// A reload changed the excluded VIPs, virtual routes or rules: moved in place.
        case masterState(KernelState)
        /// `KernelWatch` found a VIP, excluded VIP, virtual route or rule gone; acted on
        /// only if the instance has not since put in or taken out its state itself.
        case ownedStateLost(String, generation: Int)
        /// The watchdog's question: answered by the loop itself, so a loop that hangs
        /// stops answering (`Watchdog`).
        case ping(UInt64)
    }

    /// The instance's settings; a reload may replace what the core adopts in place.
    var setup: InstanceSetup { lock.withLock { currentSetup } }
    private var currentSetup: InstanceSetup
    private let environment: HostEnvironment
    private var transport: any VRRPTransport { environment.transport }
    private var logger: Logger { environment.logger }

    // Loop-owned state.
    private var interpreter: InstanceInterpreter<HostEnvironment>
    private var otherBudget = ReceiveBudget(now: MonotonicClock.now())
    /// What the loop sleeps on: the transport's socket(s) and the wake-up pipe.
    private let events: EventSet

    // Shared with other threads.
    private let lock = NSLock()
    private var inbox: [Control] = []
    private var published: InstanceStatus
    private var exited = false
    /// The last watchdog ping the loop answered.
    private var answeredPing: UInt64 = 0
    private var exitWaiters: [CheckedContinuation<Void, Never>] = []
    private let wakeup = Wakeup()
    /// A transition, for the other members of this instance's sync groups.
    var onSyncGroupNotice: (@Sendable (SyncGroupNotice) -> Void)? {
        get { environment.onSyncGroupNotice }
        set { environment.onSyncGroupNotice = newValue }
    }
    /// Each state the instance enters, for the e-mail alerts. Set before the loop starts.
    var onTransition: (@Sendable (VRRPStateMachine.State) -> Void)? {
        get { environment.onTransition }
        set { environment.onTransition = newValue }
    }

    /// The nftables table of Accept Mode off; set before `start`.
    var vipFirewall: VIPFirewall? {
        get { environment.vipFirewall }
        set { environment.vipFirewall = newValue }
    }

    /// Where notify FIFO lines go; set before `start`.
    var notifyFIFO: NotifyFIFOWriter? {
        get { environment.notifyFIFO }
        set { environment.notifyFIFO = newValue }
    }
    /// `vrrp_startup_delay` in seconds: the loop waits this long (INIT in status, stop
    /// still obeyed) before the instance starts. Set before `start`; zero after a reload.
    var startupDelay: Double = 0

    /// Every EC2 API call of the route failover, as it finishes (the metrics' histogram).
    private let onEC2Call: @Sendable (EC2Client.Call) -> Void

    init(setup: InstanceSetup, transport: any VRRPTransport, netlink: NetlinkSocket, scripts: ScriptRunner, logger: Logger,
         onEC2Call: @escaping @Sendable (EC2Client.Call) -> Void = { _ in }) throws(SystemCallError) {
        events = try EventSet()
        try events.watch(transport.descriptor, slot: Self.mainSlot)
        try events.watch(wakeup.readEnd, slot: Self.wakeupSlot)
        self.onEC2Call = onEC2Call
        self.currentSetup = setup
        var logger = logger
        logger[metadataKey: "vrrp.instance"] = "\(setup.name)"
        logger[metadataKey: "vrrp.vrid"] = "\(setup.router.virtualRouterID)"
        environment = HostEnvironment(setup: setup, transport: transport, netlink: netlink, scripts: scripts, logger: logger,
                                      routeFailover: setup.routeFailover.map { RouteFailover(settings: $0, logger: logger, onCall: onEC2Call) })
        var core = InstanceCore(configuration: setup.core)
        core.authenticator = setup.authenticator
        interpreter = InstanceInterpreter(core: core, environment: environment)
        self.published = InstanceStatus(
            name: setup.name, virtualRouterID: Int(setup.router.virtualRouterID), interface: setup.interfaceName,
            transport: transport.kind, version: Int(setup.router.stateMachine.version.rawValue), state: "INIT",
            basePriority: Int(setup.router.stateMachine.priority), effectivePriority: Int(setup.router.stateMachine.priority),
            masterAddress: nil, virtualAddresses: setup.virtualAddresses.map { "\($0.address)/\($0.prefixLength)" })
    }

    // MARK: - Other threads

    func start() {
        let thread = Thread.named("vrrp-\(setup.name)") { [self] in loop() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// A reload whose `restartKey` is unchanged: the new host settings go to the core,
    /// the route failover worker is swapped if its settings changed; VRRP runs on.
    func reconfigure(_ next: InstanceSetup) {
        lock.withLock { currentSetup = next }
        post(.event(.reconfigure(next.core)))
        post(.routeFailover(next.routeFailover))
        post(.masterState(next.masterState))
    }

    /// What the instance has in the kernel as MASTER, for `KernelWatch`.
    var ownership: KernelOwnership { environment.ownership }

    /// The last watchdog ping answered, and whether the loop has ended (it answers no more).
    var watchdogAnswer: (ping: UInt64, exited: Bool) { lock.withLock { (answeredPing, exited) } }

    /// A test's hang: with OVERCAST_TEST_STALL_FILE set, the loop stops at its next ping
    /// while that file exists, as a loop stuck in a system call would.
    private static let stallFile = ProcessInfo.processInfo.environment["OVERCAST_TEST_STALL_FILE"]

    private func answer(_ ping: UInt64) {
        if let stall = Self.stallFile {
            while FileManager.default.fileExists(atPath: stall) { usleep(50_000) }
        }
        lock.withLock { answeredPing = max(answeredPing, ping) }
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
            s.routeFailover = environment.routeFailover?.status
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
        lock.withLock { environment.routeFailover }?.start()
        logger.info("starting", metadata: ["vrrp.transport": "\(transport.kind)", "vrrp.source": "\(transport.sourceAddress)"])
        let (started, deferred) = waitOutStartupDelay()
        var running = started
        if running {
            interpreter.handle(.start)
            for control in deferred where running { running = handle(control) }
        }
        var watchingOther = false, eventSetErrorLogged = false
        while running {
            if interpreter.fireDueTimer() { continue }
            // Before sleeping, so status shows what the timers just did: published only
            // after the wake-up, a MASTER made by the Master_Down_Timer read as BACKUP for
            // up to an advertisement interval while its route was already being written
            // (the soak saw it, seed 9).
            publish()
            let now = MonotonicClock.now()
            // The second lane is waited on only while its budget lasts; otherwise the
            // loop sleeps until the budget refills and the kernel queues (or drops) meanwhile.
            let resume = transport.otherDescriptor == nil ? nil : otherBudget.resumeTime(now: now)
            var wake = interpreter.nextDeadline?.at
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
        }
        publish()
        lock.withLock { environment.routeFailover }?.stop()
        let waiters = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            exited = true
            defer { exitWaiters.removeAll() }
            return exitWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// `vrrp_startup_delay`: sleeps until it has passed. What is posted meanwhile (tracked
    /// items, sync-group notices) is kept and handed over after the start, as without a
    /// delay: handled in INIT, a fault would make the instance act (FAULT, notify) before
    /// its start. False when a stop came first.
    private func waitOutStartupDelay() -> (started: Bool, deferred: [Control]) {
        var deferred: [Control] = []
        guard startupDelay > 0 else { return (true, deferred) }
        logger.info("waiting before starting (vrrp_startup_delay)", metadata: ["seconds": "\(startupDelay)"])
        let end = MonotonicClock.now() + UInt64(min(startupDelay, 3600) * 1e9)
        while true {
            let now = MonotonicClock.now()
            guard now < end else { return (true, deferred) }
            let ready = events.wait(nanoseconds: end - now)
            // Not yet running: what arrives is read and dropped (the socket would keep
            // the wait awake), as keepalived, whose sockets open only after the delay.
            if ready & (1 << Self.mainSlot) != 0 {
                for _ in 0..<256 { guard transport.receive() != nil else { break } }
            }
            guard ready & (1 << Self.wakeupSlot) != 0 else { continue }
            wakeup.drain()
            let controls = lock.withLock { () -> [Control] in defer { inbox.removeAll() }; return inbox }
            for control in controls {
                if case .event(.stop) = control { return (false, deferred) }
                if case .ping(let ping) = control { answer(ping) } else { deferred.append(control) }
            }
        }
    }

    /// Handles a control message; false ends the loop.
    private func handle(_ control: Control) -> Bool {
        switch control {
        case .event(.stop):
            logger.info("shutting down", metadata: ["vrrp.state": "\(interpreter.core.state)"])
            interpreter.handle(.stop)
            return false
        case .event(let event):
            interpreter.handle(event)
        case .ping(let ping):
            answer(ping)
        case .ownedStateLost(let what, let generation):
            guard environment.ownership.isCurrent(generation) else { return true }
            interpreter.handle(.ownedStateLost(what))
        case .masterState(let next):
            guard next != environment.masterState else { return true }
            logger.info("excluded VIPs, virtual routes or rules changed; VRRP keeps running")
            environment.replaceMasterState(next)
        case .routeFailover(let settings):
            guard settings != environment.routeFailover?.settings else { return true }
            logger.info("route failover settings changed; VRRP keeps running")
            let replacement = settings.map { RouteFailover(settings: $0, logger: logger, onCall: onEC2Call) }
            let old = lock.withLock { () -> RouteFailover? in defer { environment.routeFailover = replacement }; return environment.routeFailover }
            old?.stop()
            replacement?.start()
            replacement?.setMaster(interpreter.core.state == .master)
        }
        return true
    }

    private func receive(_ frame: ReceivedFrame) {
        switch frame {
        case .malformed(let error): interpreter.handle(.malformed(error))
        case .packet(let packet): interpreter.handle(.received(packet, wallClockMicroseconds: 0))
        }
    }

    private var publishedMaster: (address: IPv4Address?, text: String?) = (nil, nil)

    private func publish() {
        // Called after every wake-up: the master's text is rebuilt only when it changes,
        // and the counters are a copy-on-write value (no per-field copy).
        let state = interpreter.core.state
        let masterAddress = state == .master ? transport.sourceAddress : interpreter.core.router.lastHeardFrom
        if masterAddress != publishedMaster.address { publishedMaster = (masterAddress, masterAddress?.description) }
        let master = publishedMaster.text
        lock.withLock {
            published.state = state.rawValue
            published.effectivePriority = Int(interpreter.core.priority)
            published.masterAddress = master
            published.counters = interpreter.core.counters
            published.sendErrors = interpreter.sendErrors
            if published.faults.count != interpreter.core.faults.count || Set(published.faults) != interpreter.core.faults {
                published.faults = interpreter.core.faults.sorted()
            }
            stateSinceShared = interpreter.stateSince
        }
    }
}
