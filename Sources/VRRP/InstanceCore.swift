/// One VRRP instance as a value: the protocol (`VirtualRouter`), tracking, sync-group
/// membership, the gratuitous ARP schedule and notify decisions. Events in, effects out;
/// `InstanceInterpreter` carries the effects out, the same code in the daemon and in
/// the simulator, so what a transition means is decided here and only here.
public struct InstanceCore: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var name: String
        public var router: VirtualRouter.Configuration
        /// False for `no_virtual_ipaddress`: VRRP runs, the addresses are someone else's.
        public var manageAddresses: Bool
        public var garp: GARPSchedule
        public var notify: NotifyScripts
        public var tracked: [TrackedItem]

        public init(name: String, router: VirtualRouter.Configuration, manageAddresses: Bool = true,
                    garp: GARPSchedule = GARPSchedule(), notify: NotifyScripts = NotifyScripts(), tracked: [TrackedItem] = []) {
            self.name = name
            self.router = router
            self.manageAddresses = manageAddresses
            self.garp = garp
            self.notify = notify
            self.tracked = tracked
        }
    }

    public enum Event: Sendable, CustomStringConvertible {
        case start
        case stop
        /// A packet from the transport; the wall clock (microseconds since 1970) is read
        /// only when an authenticator needs it.
        case received(ReceivedPacket, wallClockMicroseconds: UInt64)
        /// A frame the transport could not even hand over (bad IP header).
        case malformed(VRRPPacketError)
        case timerFired(InstanceTimer)
        /// A tracked interface's carrier or a tracked script's result (after rise/fall).
        case tracked(TrackedItem.Kind, name: String, up: Bool)
        /// A tracked file's number changed (`track_file`).
        case trackedFile(name: String, value: Int)
        /// Something this instance puts into the kernel as MASTER (a VIP, excluded VIP,
        /// virtual route or rule without `no_track`) was deleted by someone else. Ignored
        /// unless MASTER.
        case ownedStateLost(String)
        /// Another member of the sync group `group` moved.
        case syncGroup(SyncGroupNotice, group: String)
        /// A reload changed only what the instance does on its host (notify scripts, GARP
        /// schedule, tracked items and weights): adopted in place, with no VRRP restart and
        /// so no flap. Ignored when the protocol settings differ (the daemon restarts the
        /// instance instead).
        case reconfigure(Configuration)

        public var description: String {
            switch self {
            case .start: "startup"
            case .stop: "shutdown"
            case .received(let packet, _):
                "heard priority \(packet.payload.count > 2 ? packet.payload[2] : 0) from \(packet.source)"
            case .malformed: "malformed packet"
            case .timerFired(.masterDown): "Master_Down_Timer expired"
            case .timerFired(let timer): "\(timer) timer"
            case .tracked(let kind, let name, let up): "\(kind.rawValue) \(name) \(up ? "up" : "down")"
            case .trackedFile(let name, let value): "tracked file \(name) reads \(value)"
            case .ownedStateLost(let what): "\(what) deleted"
            case .syncGroup(let notice, let group): "sync group \(group): \(notice.member) \(notice.state)"
            case .reconfigure: "reload"
            }
        }
    }

    public private(set) var configuration: Configuration
    public private(set) var router: VirtualRouter
    private var tracking: TrackingState
    /// Why this instance must not be MASTER: its own tracking, and members of its sync
    /// groups in FAULT (those reasons start with `syncGroupFaultPrefix`).
    public private(set) var faults: Set<String> = []
    private var groupFaults: Set<String> = []
    /// Rounds of a paced gratuitous-ARP burst still to send (`vrrp_garp_interval`).
    private var pendingRounds = 0

    public static let syncGroupFaultPrefix = "sync group "

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.router = VirtualRouter(configuration: configuration.router)
        self.tracking = TrackingState(items: configuration.tracked)
    }

    public var name: String { configuration.name }
    public var state: VRRPStateMachine.State { router.state }
    public var priority: UInt8 { router.machine.priority }
    public var counters: VRRPCounters { router.counters }

    /// Set for `auth_type HMAC_SHA256` (its replay memory lives in the router).
    public var authenticator: (any AdvertisementAuthenticator)? {
        get { router.authenticator }
        set { router.authenticator = newValue }
    }

    /// The advertisement a `.sendAdvertisement(priority:)` effect means.
    public func advertisement(priority: UInt8) -> VRRPAdvertisement { router.advertisement(priority: priority) }

    public mutating func handle(_ event: Event) -> [InstanceEffect] {
        switch event {
        case .start:
            // keepalived removes its VIPs at start: a crash may have left them behind.
            return (configuration.manageAddresses ? [.removeVirtualAddresses] : []) + expand(router.handle(.startup))
        case .stop:
            return expand(router.handle(.shutdown))
        case .received(let packet, let wallClock):
            let wasMaster = state == .master
            let (effects, rejection) = router.receive(packet, now: wallClock)
            if let rejection { return [.log(.rejected(rejection, from: packet.source))] + expand(effects) }
            // A MASTER that stays MASTER after a non-zero advertisement heard a lower
            // priority (or an equal one from a lower address): keepalived's
            // notify_master_rx_lower_pri, for a stale writer to take back what a
            // partitioned peer took (an EC2 secondary address). Once per such advertisement,
            // as keepalived; the MASTER's answer makes the peer step down.
            if wasMaster && state == .master && router.lastHeardPriority != 0 { return effects + receivedLowerPriority() }
            return expand(effects)
        case .malformed(let error):
            router.countRejection(error.reason)
            return [.log(.rejected(error, from: nil))]
        case .timerFired(.garpRepeat):
            return state == .master ? announce(configuration.garp.repeatCount) : []
        case .timerFired(.garpRefresh):
            guard state == .master else { return [] }
            return announce(configuration.garp.refreshRepeat) + [.armTimer(.garpRefresh, after: configuration.garp.refresh)]
        case .timerFired(.garpPace):
            guard state == .master, pendingRounds > 0 else { return [] }
            pendingRounds -= 1
            return [.announceVirtualAddresses(count: 1)]
                + (pendingRounds > 0 ? [.armTimer(.garpPace, after: configuration.garp.interval)] : [])
        case .timerFired(let timer):
            return expand(router.handle(.timerFired(timer)))
        case .tracked(let kind, let name, let up):
            guard tracking.record(kind, name: name, up: up) else { return [] }
            return reevaluate()
        case .trackedFile(let name, let value):
            guard tracking.record(file: name, value: value) else { return [] }
            return reevaluate()
        case .ownedStateLost(let what):
            guard state == .master else { return [] }
            return [.log(.ownedStateLost(what))] + relinquish()
        case .syncGroup(let notice, _) where notice.relinquished && notice.state == .backup:
            // A member gave up MASTER for a deleted VIP/route/rule: the group's MASTERs
            // leave with it (keepalived's set_vrrp_backup); its return as MASTER brings
            // them back (the `.master` notice below).
            return state == .master ? relinquish() : []
        case .syncGroup(let notice, let group):
            let reason = Self.syncGroupFaultPrefix + "\(group): \(notice.member) in FAULT"
            if notice.state == .fault && notice.ownFault {
                groupFaults.insert(reason)
            } else {
                groupFaults.remove(reason)
            }
            var effects = reevaluate()
            if notice.state == .master && state == .backup {
                effects += expand(router.handle(.timerFired(.masterDown)))
            }
            return effects
        case .reconfigure(let next):
            guard Self.canReconfigure(configuration, to: next) else { return [] }
            configuration = next
            tracking = tracking.carried(to: next.tracked)
            var effects: [InstanceEffect] = [.cancelTimer(.garpRefresh)]
            if state == .master && next.manageAddresses && next.garp.refresh > .zero {
                effects.append(.armTimer(.garpRefresh, after: next.garp.refresh))
            }
            return effects + reevaluate()
        }
    }

    /// Whether `next` differs from `current` only in what a running instance can adopt:
    /// the protocol, the name and who manages the addresses must stay.
    public static func canReconfigure(_ current: Configuration, to next: Configuration) -> Bool {
        current.name == next.name && current.router == next.router && current.manageAddresses == next.manageAddresses
    }

    /// Applies tracking and sync-group faults: a priority change, then FAULT entered or
    /// left when the set of reasons becomes non-empty or empty.
    private mutating func reevaluate() -> [InstanceEffect] {
        let (priority, ownFaults) = tracking.evaluate(base: configuration.router.stateMachine.priority)
        var effects: [InstanceEffect] = []
        if priority != router.machine.priority {
            effects.append(.log(.priorityChanged(priority)))
            effects += expand(router.handle(.priorityChanged(priority)))
            if configuration.notify.priorityChanges && (state == .master || state == .backup) {
                effects.append(.writeNotifyLine(NotifyLine(.instance, name: name, event: "\(NotifyScripts.word(state))_PRIORITY",
                                                           priority: priority)))
            }
        }
        let next = ownFaults.union(groupFaults)
        let wasFaulty = !faults.isEmpty
        let hadOwnFault = faults.contains { !$0.hasPrefix(Self.syncGroupFaultPrefix) }
        for reason in next.subtracting(faults).sorted() { effects.append(.log(.faultRaised(reason))) }
        for reason in faults.subtracting(next).sorted() { effects.append(.log(.faultCleared(reason))) }
        faults = next
        if wasFaulty != !next.isEmpty {
            effects += expand(router.handle(next.isEmpty ? .faultCleared : .faultDetected))
        } else if state == .fault && hadOwnFault != !ownFaults.isEmpty {
            // Still in FAULT, but no longer (or now) for a reason of its own: the group must
            // hear it, or two members whose own faults both cleared would hold each other
            // in FAULT forever.
            effects.append(.tellSyncGroup(SyncGroupNotice(member: name, state: .fault, ownFault: !ownFaults.isEmpty)))
        }
        return effects
    }

    /// Leaves MASTER for BACKUP with the Master_Down_Timer at Skew_Time, so the instance
    /// re-elects at once and, winning, puts back everything it owns.
    private mutating func relinquish() -> [InstanceEffect] {
        expand(router.handle(.relinquish)).map { effect in
            guard case .tellSyncGroup(var notice) = effect else { return effect }
            notice.relinquished = true
            return .tellSyncGroup(notice)
        }
    }

    private func receivedLowerPriority() -> [InstanceEffect] {
        (configuration.notify.masterRxLowerPriority.map { [.runNotify(configuration.notify.call($0))] } ?? [])
            + [.writeNotifyLine(NotifyLine(.instance, name: name, event: "MASTER_RX_LOWER_PRI", priority: priority))]
    }

    /// A burst of `rounds` gratuitous ARPs: at once, or with `vrrp_garp_interval` one round
    /// now and the rest on the `.garpPace` timer.
    private mutating func announce(_ rounds: Int) -> [InstanceEffect] {
        let rounds = max(1, rounds)
        guard configuration.garp.interval > .zero, rounds > 1 else { return [.announceVirtualAddresses(count: rounds)] }
        pendingRounds = rounds - 1
        return [.announceVirtualAddresses(count: 1), .armTimer(.garpPace, after: configuration.garp.interval)]
    }

    /// The protocol's effects, each transition followed by what it means on this host.
    /// Most events (an advertisement heard, a timer) carry no transition: returned as
    /// they are, with no new array on the advertisement path.
    private mutating func expand(_ effects: [InstanceEffect]) -> [InstanceEffect] {
        guard effects.contains(where: { if case .transition = $0 { true } else { false } }) else { return effects }
        var expanded: [InstanceEffect] = []
        for effect in effects {
            expanded.append(effect)
            guard case .transition(let from, let to) = effect else { continue }
            let garp = configuration.garp
            if to == .master, configuration.manageAddresses {
                expanded += [.addVirtualAddresses] + announce(garp.repeatCount)
                if garp.delay > .zero { expanded.append(.armTimer(.garpRepeat, after: garp.delay)) }
                if garp.refresh > .zero { expanded.append(.armTimer(.garpRefresh, after: garp.refresh)) }
            } else if from == .master {
                expanded += [.cancelTimer(.garpRepeat), .cancelTimer(.garpRefresh), .cancelTimer(.garpPace)]
                pendingRounds = 0
                if configuration.manageAddresses { expanded.append(.removeVirtualAddresses) }
            }
            expanded.append(.setRouteOwner(to == .master))
            expanded += configuration.notify.calls(entering: to, instance: name, priority: router.machine.priority)
                .map(InstanceEffect.runNotify)
            expanded.append(.writeNotifyLine(NotifyLine(.instance, name: name, entering: to, priority: router.machine.priority)))
            expanded.append(.tellSyncGroup(SyncGroupNotice(
                member: name, state: to, ownFault: faults.contains { !$0.hasPrefix(Self.syncGroupFaultPrefix) })))
        }
        return expanded
    }
}

/// keepalived's gratuitous ARP settings: a burst on becoming MASTER, a second one after
/// `garp_master_delay`, and one every `garp_master_refresh` while MASTER (zero: none).
public struct GARPSchedule: Sendable, Hashable {
    public var delay: Duration
    public var repeatCount: Int
    public var refresh: Duration
    public var refreshRepeat: Int
    /// `vrrp_garp_interval`: the pause between the rounds of a burst (zero: back to back).
    public var interval: Duration

    public init(delay: Duration = .seconds(5), repeatCount: Int = 5, refresh: Duration = .zero, refreshRepeat: Int = 1,
                interval: Duration = .zero) {
        self.delay = delay
        self.repeatCount = repeatCount
        self.refresh = refresh
        self.refreshRepeat = refreshRepeat
        self.interval = interval
    }
}
