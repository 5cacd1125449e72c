/// What an instance's effects act on. The daemon's environment is netlink, ARP and
/// transport sockets, the script runner and the EC2 route worker on the monotonic
/// clock; the simulator's is an in-memory network on a virtual clock.
public protocol InstanceEnvironment {
    /// Monotonic nanoseconds: the time base of the instance's timers.
    var now: UInt64 { get }
    /// Microseconds since 1970, for the HMAC replay window (read only when needed).
    var wallClockMicroseconds: UInt64 { get }
    mutating func send(_ advertisement: VRRPAdvertisement) throws
    mutating func addVirtualAddresses()
    mutating func removeVirtualAddresses()
    mutating func announceVirtualAddresses(rounds: Int)
    mutating func runNotify(_ call: NotifyCall)
    /// Writes a notify FIFO line, never blocking (no FIFO configured: nothing).
    mutating func writeNotifyLine(_ line: NotifyLine)
    mutating func setRouteOwner(_ owner: Bool)
    mutating func tellSyncGroup(_ notice: SyncGroupNotice)
    mutating func log(_ entry: InstanceLogEntry)
}

/// A log line of an instance, with what caused it.
public enum InstanceLogEntry: Sendable, CustomStringConvertible {
    case transition(from: VRRPStateMachine.State, to: VRRPStateMachine.State, priority: UInt8, cause: String)
    case core(InstanceLogEvent)
    /// The transport refused an advertisement; `count` is the total so far.
    case sendFailed(String, count: Int)

    public var description: String {
        switch self {
        case .transition(let from, let to, _, let cause): "\(from) -> \(to): \(cause)"
        case .core(let event): event.description
        case .sendFailed(let error, let count): "send failed (\(count)): \(error)"
        }
    }
}

/// Carries out an `InstanceCore`'s effects: the one interpreter of the daemon and the
/// simulator. It owns the timer deadlines (on the environment's clock) and the counts
/// that only I/O can produce (send failures, time in state).
public struct InstanceInterpreter<Environment: InstanceEnvironment> {
    public private(set) var core: InstanceCore
    public var environment: Environment
    /// Armed timers and when they fire, in the environment's nanoseconds.
    public private(set) var deadlines: [InstanceTimer: UInt64] = [:]
    public private(set) var sendErrors = 0
    /// When the current state was entered.
    public private(set) var stateSince: UInt64

    public init(core: InstanceCore, environment: Environment) {
        self.core = core
        self.environment = environment
        self.stateSince = environment.now
    }

    /// The earliest armed timer.
    public var nextDeadline: (timer: InstanceTimer, at: UInt64)? {
        deadlines.min { $0.value != $1.value ? $0.value < $1.value : $0.key.rawValue < $1.key.rawValue }
            .map { ($0.key, $0.value) }
    }

    public mutating func handle(_ event: InstanceCore.Event) {
        var event = event
        if case .received(let packet, _) = event {
            event = .received(packet, wallClockMicroseconds: core.authenticator == nil ? 0 : environment.wallClockMicroseconds)
        }
        apply(core.handle(event), event: event)
    }

    /// Fires the earliest timer if it is due; false when none is.
    @discardableResult
    public mutating func fireDueTimer() -> Bool {
        guard let (timer, at) = nextDeadline, at <= environment.now else { return false }
        deadlines[timer] = nil
        handle(.timerFired(timer))
        return true
    }

    /// Lets a caller with its own schedule drop the instance's timers (a crashed node).
    public mutating func cancelAllTimers() { deadlines.removeAll() }

    /// `event` is described only when a transition is logged: building that text for
    /// every advertisement was measurable in an idle BACKUP's CPU.
    private mutating func apply(_ effects: [InstanceEffect], event: InstanceCore.Event) {
        for effect in effects {
            switch effect {
            case .sendAdvertisement(let priority):
                do { try environment.send(core.advertisement(priority: priority)) } catch {
                    sendErrors += 1
                    environment.log(.sendFailed("\(error)", count: sendErrors))
                }
            case .armTimer(let timer, let after):
                let (at, overflow) = environment.now.addingReportingOverflow(after.wholeNanoseconds)
                deadlines[timer] = overflow ? .max : at
            case .cancelTimer(let timer):
                deadlines[timer] = nil
            case .transition(let from, let to):
                stateSince = environment.now
                environment.log(.transition(from: from, to: to, priority: core.priority, cause: event.description))
            case .addVirtualAddresses:
                environment.addVirtualAddresses()
            case .removeVirtualAddresses:
                environment.removeVirtualAddresses()
            case .announceVirtualAddresses(let rounds):
                environment.announceVirtualAddresses(rounds: rounds)
            case .runNotify(let call):
                environment.runNotify(call)
            case .writeNotifyLine(let line):
                environment.writeNotifyLine(line)
            case .setRouteOwner(let owner):
                environment.setRouteOwner(owner)
            case .tellSyncGroup(let notice):
                environment.tellSyncGroup(notice)
            case .log(let event):
                environment.log(.core(event))
            }
        }
    }
}

extension Duration {
    /// The duration in whole nanoseconds; zero when negative, saturating at UInt64.max.
    public var wholeNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 || seconds > 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let (sum, carry) = whole.addingReportingOverflow(UInt64(max(0, attoseconds / 1_000_000_000)))
        return carry ? .max : sum
    }
}
