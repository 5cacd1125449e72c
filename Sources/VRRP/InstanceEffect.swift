import NetworkTypes
/// The timers of one VRRP instance: the state machine's three and the gratuitous ARP
/// schedule's two. One enum, so the interpreter keeps one table of deadlines.
public enum InstanceTimer: String, Sendable, Hashable, CustomStringConvertible {
    /// Adver_Timer: a MASTER sends on expiry.
    case advertisement
    /// Master_Down_Timer: a BACKUP takes over on expiry.
    case masterDown
    /// While armed, a BACKUP does not preempt a lower-priority MASTER (keepalived's
    /// `preempt_delay`, counted from start-up and from leaving FAULT).
    case preemptDelay
    /// The second burst of gratuitous ARPs, `garp_master_delay` after becoming MASTER.
    case garpRepeat
    /// `garp_master_refresh`: a burst every so often while MASTER.
    case garpRefresh
    /// The next round of a burst paced by `vrrp_garp_interval`.
    case garpPace
    public var description: String { rawValue }
}

/// What one VRRP instance asks the world to do: the one vocabulary from the state
/// machine through `InstanceCore` to `InstanceInterpreter`. The state machine emits the
/// protocol's effects (send, timers, transition); the instance core adds what a
/// transition means on a host (addresses, ARP, notify, routes, sync group).
public enum InstanceEffect: Sendable, Hashable, CustomStringConvertible {
    /// Send an advertisement with this priority (0 when giving up mastership).
    case sendAdvertisement(priority: UInt8)
    case armTimer(InstanceTimer, after: Duration)
    case cancelTimer(InstanceTimer)
    case transition(from: VRRPStateMachine.State, to: VRRPStateMachine.State)
    /// Add (or remove) every virtual address of the instance.
    case addVirtualAddresses
    case removeVirtualAddresses
    /// A burst of gratuitous ARPs for every virtual address: `count` rounds.
    case announceVirtualAddresses(count: Int)
    case runNotify(NotifyCall)
    /// A line for keepalived's notify FIFO (`notify_fifo`, `vrrp_notify_fifo`).
    case writeNotifyLine(NotifyLine)
    /// Make (or stop making) the cloud's routes for the VIPs point at this node.
    case setRouteOwner(Bool)
    /// Tell the other members of this instance's sync groups about a transition.
    case tellSyncGroup(SyncGroupNotice)
    /// Something worth a log line that is not itself an action.
    case log(InstanceLogEvent)

    public var description: String {
        switch self {
        case .sendAdvertisement(let p): "send(prio \(p))"
        case .armTimer(let t, let d): "arm(\(t), \(d))"
        case .cancelTimer(let t): "cancel(\(t))"
        case .transition(let from, let to): "\(from)->\(to)"
        case .addVirtualAddresses: "add VIPs"
        case .removeVirtualAddresses: "remove VIPs"
        case .announceVirtualAddresses(let n): "GARP x\(n)"
        case .runNotify(let call): "notify \(call)"
        case .writeNotifyLine(let line): "fifo \(line)"
        case .setRouteOwner(let owner): owner ? "own routes" : "release routes"
        case .tellSyncGroup(let notice): "sync group: \(notice.state)"
        case .log(let event): "log \(event)"
        }
    }
}

/// A notify script to start: keepalived's `notify_master` (no arguments) or `notify`
/// ("INSTANCE" NAME STATE PRIORITY).
public struct NotifyCall: Sendable, Hashable, CustomStringConvertible {
    public var command: String
    public var arguments: [String]
    /// keepalived's `notify_master SCRIPT [USER [GROUP]]`: who it runs as (nil: the
    /// global `script_user`).
    public var user: String?
    public var group: String?
    public init(command: String, arguments: [String] = [], user: String? = nil, group: String? = nil) {
        self.command = command
        self.arguments = arguments
        self.user = user
        self.group = group
    }
    public var description: String { ([command] + arguments).joined(separator: " ") }
}

/// A member's transition as its sync group's other members hear of it. `ownFault` says
/// the FAULT is the member's own (tracking), not one its group imposed on it: only an
/// own fault spreads, or two members would hold each other in FAULT forever.
public struct SyncGroupNotice: Sendable, Hashable {
    public var member: String
    public var state: VRRPStateMachine.State
    public var ownFault: Bool
    /// The member left MASTER because something it owned was deleted from the kernel:
    /// the group's other MASTERs leave with it, for a quick re-election together
    /// (keepalived's set_vrrp_backup).
    public var relinquished: Bool
    public init(member: String, state: VRRPStateMachine.State, ownFault: Bool, relinquished: Bool = false) {
        self.member = member
        self.state = state
        self.ownFault = ownFault
        self.relinquished = relinquished
    }
}

/// The core's decisions that an operator wants in the log.
public enum InstanceLogEvent: Sendable, Hashable, CustomStringConvertible {
    case priorityChanged(UInt8)
    case faultRaised(String)
    case faultCleared(String)
    /// Something the MASTER owns (a VIP, an excluded VIP, a virtual route or rule) was
    /// deleted by someone else: the instance leaves MASTER for a quick re-election.
    case ownedStateLost(String)
    case rejected(VRRPPacketError, from: IPv4Address?)

    public var description: String {
        switch self {
        case .priorityChanged(let p): "priority -> \(p)"
        case .faultRaised(let reason): "fault: \(reason)"
        case .faultCleared(let reason): "fault cleared: \(reason)"
        case .ownedStateLost(let what): "deleted from the kernel: \(what)"
        case .rejected(let error, let source): "dropped packet from \(source.map(\.description) ?? "?"): \(error)"
        }
    }
}
