import NetworkTypes
/// The VRRP state machine of RFC 5798 §6.4 (and RFC 3768 §6.4 for v2), as a value:
/// events in, effects out (the protocol's part of `InstanceEffect`), no I/O and no
/// clock. `InstanceCore` adds what a transition means on a host; the interpreter owns
/// the timers, and feeds `.timerFired` back when they expire.
///
/// Beyond the RFC it has keepalived's FAULT state (a tracked interface or script says
/// this node must not be MASTER) and `preempt_delay`. keepalived's `state MASTER` needs
/// nothing here: stock keepalived 2.2.7 with `state MASTER` and a priority below 255
/// starts as BACKUP and waits Master_Down_Interval (seen in the lab), and so does this.
public struct VRRPStateMachine: Sendable {
    public enum State: String, Sendable, Hashable, CustomStringConvertible {
        case initialize = "INIT"
        case backup = "BACKUP"
        case master = "MASTER"
        case fault = "FAULT"
        public var description: String { rawValue }
    }

    public struct Configuration: Sendable, Hashable {
        public var version: VRRPVersion
        /// 1-255; 255 is the address owner, which becomes MASTER at once and always preempts.
        public var priority: UInt8
        public var advertisementInterval: Centiseconds
        /// The tie-break between equal priorities: the higher primary address wins.
        public var primaryAddress: IPv4Address
        public var preempt: Bool
        public var preemptDelay: Duration

        public init(version: VRRPVersion, priority: UInt8, advertisementInterval: Centiseconds,
                    primaryAddress: IPv4Address, preempt: Bool = true, preemptDelay: Duration = .zero) {
            self.version = version
            self.priority = priority
            self.advertisementInterval = advertisementInterval
            self.primaryAddress = primaryAddress
            self.preempt = preempt
            self.preemptDelay = preemptDelay
        }
    }

    /// What a validated advertisement from another router tells the state machine.
    public struct Heard: Sendable, Hashable {
        public var priority: UInt8
        public var advertisementInterval: Centiseconds
        public var source: IPv4Address
        public init(priority: UInt8, advertisementInterval: Centiseconds, source: IPv4Address) {
            self.priority = priority
            self.advertisementInterval = advertisementInterval
            self.source = source
        }
    }

    public enum Event: Sendable, Hashable {
        case startup
        case shutdown
        case timerFired(InstanceTimer)
        case advertisementReceived(Heard)
        /// The effective priority changed (track scripts with weights).
        case priorityChanged(UInt8)
        /// A tracked interface or script failed: this node must not be MASTER.
        case faultDetected
        case faultCleared
        /// Something the MASTER owns was deleted from the kernel (keepalived's
        /// set_vrrp_backup): a MASTER gives up (priority 0, so peers need not wait) and,
        /// as BACKUP, takes over again after Skew_Time unless a peer answers first.
        case relinquish
    }

    public private(set) var state: State = .initialize
    public private(set) var configuration: Configuration
    /// The effective priority: configured, then moved by tracking.
    public private(set) var priority: UInt8
    /// Master_Adver_Interval: v3 learns it from the MASTER's advertisements; v2 uses its own.
    public private(set) var masterAdvertisementInterval: Centiseconds
    /// True while `preempt_delay` runs: the router acts as if `nopreempt` were set.
    public private(set) var preemptHeld = false

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.priority = configuration.priority
        self.masterAdvertisementInterval = configuration.advertisementInterval
    }

    public var isAddressOwner: Bool { priority == 255 }

    public var skewTime: Duration {
        VRRPTiming.skewTime(version: configuration.version, priority: priority,
                            masterAdvertisementInterval: masterAdvertisementInterval)
    }

    public var masterDownInterval: Duration {
        VRRPTiming.masterDownInterval(version: configuration.version, priority: priority,
                                      masterAdvertisementInterval: masterAdvertisementInterval)
    }

    /// The owner always preempts (RFC 5798 §6.1, Preempt_Mode); others unless
    /// `nopreempt` or a running `preempt_delay` says no.
    private var preempts: Bool { isAddressOwner || (configuration.preempt && !preemptHeld) }

    public mutating func handle(_ event: Event) -> [InstanceEffect] {
        switch (state, event) {
        case (.initialize, .startup):
            return startUp()
        case (.initialize, .faultDetected):
            return [transition(to: .fault)]
        case (.initialize, .priorityChanged(let p)), (.fault, .priorityChanged(let p)):
            priority = p
            return []

        case (.backup, .shutdown):
            return [.cancelTimer(.masterDown)] + stopPreemptDelay() + [transition(to: .initialize)]
        case (.backup, .timerFired(.masterDown)):
            return becomeMaster()
        case (.backup, .timerFired(.preemptDelay)):
            preemptHeld = false
            return []
        case (.backup, .advertisementReceived(let heard)):
            return backupHeard(heard)
        case (.backup, .priorityChanged(let p)):
            priority = p
            // The owner takes over at once; others wait for the next advertisement,
            // which a preempting router will now discard if it is of lower priority.
            return isAddressOwner ? [.cancelTimer(.masterDown)] + becomeMaster() : []
        case (.backup, .faultDetected):
            return [.cancelTimer(.masterDown)] + stopPreemptDelay() + [transition(to: .fault)]

        case (.master, .timerFired(.advertisement)):
            return [.sendAdvertisement(priority: priority), .armTimer(.advertisement, after: configuration.advertisementInterval.duration)]
        case (.master, .shutdown):
            return [.cancelTimer(.advertisement), .sendAdvertisement(priority: 0), transition(to: .initialize)]
        case (.master, .advertisementReceived(let heard)):
            return masterHeard(heard)
        case (.master, .priorityChanged(let p)):
            priority = p
            return []
        case (.master, .faultDetected):
            // keepalived also sends priority 0 when a MASTER faults, so the backups
            // take over after Skew_Time instead of Master_Down_Interval.
            return [.cancelTimer(.advertisement), .sendAdvertisement(priority: 0), transition(to: .fault)]

        case (.master, .relinquish):
            return [.cancelTimer(.advertisement), .sendAdvertisement(priority: 0), transition(to: .backup),
                    .armTimer(.masterDown, after: skewTime)]

        case (.fault, .faultCleared):
            return startUp()
        case (.fault, .shutdown):
            return [transition(to: .initialize)]

        default:
            // Events that do not apply in a state (a stale timer, an advertisement
            // while INIT or FAULT, a second startup) change nothing.
            return []
        }
    }

    // MARK: - Transitions

    private mutating func transition(to next: State) -> InstanceEffect {
        let action = InstanceEffect.transition(from: state, to: next)
        state = next
        return action
    }

    private mutating func startUp() -> [InstanceEffect] {
        masterAdvertisementInterval = configuration.advertisementInterval
        if isAddressOwner {
            return becomeMaster()
        }
        var actions: [InstanceEffect] = [transition(to: .backup), .armTimer(.masterDown, after: masterDownInterval)]
        if configuration.preemptDelay > .zero {
            preemptHeld = true
            actions.append(.armTimer(.preemptDelay, after: configuration.preemptDelay))
        }
        return actions
    }

    private mutating func stopPreemptDelay() -> [InstanceEffect] {
        guard preemptHeld else { return [] }
        preemptHeld = false
        return [.cancelTimer(.preemptDelay)]
    }

    private mutating func becomeMaster() -> [InstanceEffect] {
        let held = stopPreemptDelay()
        return held + [.sendAdvertisement(priority: priority), transition(to: .master),
                       .armTimer(.advertisement, after: configuration.advertisementInterval.duration)]
    }

    /// RFC 5798 §6.4.2: a BACKUP that hears priority 0 waits only Skew_Time; one that
    /// hears a MASTER it will not preempt learns its interval and restarts the
    /// Master_Down_Timer; a lower priority it preempts is discarded, so the timer runs out.
    private mutating func backupHeard(_ heard: Heard) -> [InstanceEffect] {
        if heard.priority == 0 {
            return [.armTimer(.masterDown, after: skewTime)]
        }
        if !preempts || heard.priority >= priority {
            if configuration.version == .v3 { masterAdvertisementInterval = heard.advertisementInterval }
            return [.armTimer(.masterDown, after: masterDownInterval)]
        }
        return []
    }

    /// RFC 5798 §6.4.3: a MASTER answers priority 0 at once, and steps down for a higher
    /// priority, or an equal one from a higher primary address.
    private mutating func masterHeard(_ heard: Heard) -> [InstanceEffect] {
        if heard.priority == 0 {
            return [.sendAdvertisement(priority: priority),
                    .armTimer(.advertisement, after: configuration.advertisementInterval.duration)]
        }
        let loses = heard.priority > priority
            || (heard.priority == priority && heard.source > configuration.primaryAddress)
        guard loses else { return [] }
        if configuration.version == .v3 { masterAdvertisementInterval = heard.advertisementInterval }
        return [.cancelTimer(.advertisement), transition(to: .backup), .armTimer(.masterDown, after: masterDownInterval)]
    }
}
