/// A `vrrp_sync_group` as a whole: its state from its members' and the notify it owes
/// when that state changes. The members' own moves (FAULT spreading, a BACKUP following
/// a new MASTER) are each `InstanceCore`'s; this decides only what the group says of
/// itself, as keepalived's vrrp_sync.c does:
/// - FAULT as soon as one member is in FAULT;
/// - MASTER once every member is MASTER;
/// - BACKUP once a member is BACKUP (and none in FAULT);
/// - STOP once every member has stopped, after the group had a state.
/// Partial moves (one member MASTER, another still starting) leave the group as it was.
public struct SyncGroupCore: Sendable {
    public struct Configuration: Sendable, Hashable {
        public var name: String
        /// The member instances that run on this host.
        public var members: [String]
        public var notify: NotifyScripts
        public init(name: String, members: [String], notify: NotifyScripts = NotifyScripts()) {
            self.name = name
            self.members = members
            self.notify = notify
        }
    }

    public private(set) var configuration: Configuration
    /// INIT until the group first has a state; INIT again (STOP) once all members stopped.
    public private(set) var state: VRRPStateMachine.State = .initialize
    private var memberStates: [String: VRRPStateMachine.State] = [:]

    public init(configuration: Configuration) { self.configuration = configuration }

    public var name: String { configuration.name }

    /// A reload: new members or scripts, the states known of the members kept.
    public mutating func reconfigure(_ next: Configuration) {
        configuration = next
        memberStates = memberStates.filter { next.members.contains($0.key) }
    }

    /// A member moved. Returns the group's transition and what to run for it, or nil
    /// when the group's state did not change (or `member` is not a member).
    public mutating func memberMoved(_ member: String, to memberState: VRRPStateMachine.State) -> SyncGroupTransition? {
        guard configuration.members.contains(member) else { return nil }
        memberStates[member] = memberState
        let states = configuration.members.map { memberStates[$0] ?? .initialize }
        let next: VRRPStateMachine.State
        if states.contains(.fault) {
            next = .fault
        } else if states.allSatisfy({ $0 == .master }) {
            next = .master
        } else if states.contains(.backup) {
            next = .backup
        } else if states.allSatisfy({ $0 == .initialize }) {
            next = .initialize
        } else {
            next = state
        }
        guard next != state else { return nil }
        let from = state
        state = next
        return SyncGroupTransition(
            from: from, to: next,
            calls: configuration.notify.calls(entering: next, .group, name: name, priority: 0),
            line: NotifyLine(.group, name: name, entering: next, priority: 0))
    }
}

/// A sync group's change of state: the notify scripts to start and the FIFO line.
public struct SyncGroupTransition: Sendable, Hashable {
    public var from: VRRPStateMachine.State
    public var to: VRRPStateMachine.State
    public var calls: [NotifyCall]
    public var line: NotifyLine
}
