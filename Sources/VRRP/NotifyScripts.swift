/// keepalived's notify scripts of an instance or a sync group: `notify_<state>` run with
/// no arguments, then `notify` with "INSTANCE"|"GROUP" NAME STATE PRIORITY (0 for a
/// group), and `notify_master_rx_lower_pri` when a MASTER hears a lower priority.
/// `priorityChanges` is `vrrp_notify_priority_changes`: FIFO lines for priority moves.
public struct NotifyScripts: Sendable, Hashable {
    public var master: String?
    public var backup: String?
    public var fault: String?
    public var stop: String?
    public var any: String?
    public var masterRxLowerPriority: String?
    public var priorityChanges: Bool
    /// Who each script runs as, by its command line (`SCRIPT [USER [GROUP]]`).
    public var runAs: [String: ScriptIdentity] = [:]

    public init(master: String? = nil, backup: String? = nil, fault: String? = nil, stop: String? = nil, any: String? = nil,
                masterRxLowerPriority: String? = nil, priorityChanges: Bool = false) {
        self.master = master
        self.backup = backup
        self.fault = fault
        self.stop = stop
        self.any = any
        self.masterRxLowerPriority = masterRxLowerPriority
        self.priorityChanges = priorityChanges
    }

    /// keepalived's word for a state in notify arguments and FIFO lines (INIT is STOP:
    /// an instance reaches it only by stopping).
    public static func word(_ state: VRRPStateMachine.State) -> String {
        switch state {
        case .master: "MASTER"
        case .backup: "BACKUP"
        case .fault: "FAULT"
        case .initialize: "STOP"
        }
    }

    private func specific(_ state: VRRPStateMachine.State) -> String? {
        switch state {
        case .master: master
        case .backup: backup
        case .fault: fault
        case .initialize: stop
        }
    }

    /// The scripts to start when an instance (`kind` .instance) or a sync group enters
    /// `state`, in keepalived's order: the state's own script, then `notify`.
    public func calls(entering state: VRRPStateMachine.State, _ kind: NotifyLine.Kind = .instance, name: String,
                      priority: UInt8) -> [NotifyCall] {
        let arguments = [kind.rawValue, name, Self.word(state), "\(kind == .group ? 0 : priority)"]
        return (specific(state).map { [call($0)] } ?? []) + (any.map { [call($0, arguments: arguments)] } ?? [])
    }

    /// `command` as a call, with the user it runs as.
    public func call(_ command: String, arguments: [String] = []) -> NotifyCall {
        NotifyCall(command: command, arguments: arguments, user: runAs[command]?.user, group: runAs[command]?.group)
    }

    /// Back-compatible spelling for an instance.
    public func calls(entering state: VRRPStateMachine.State, instance: String, priority: UInt8) -> [NotifyCall] {
        calls(entering: state, .instance, name: instance, priority: priority)
    }
}

/// A user, and optionally a group, a script runs as.
public struct ScriptIdentity: Sendable, Hashable {
    public var user: String
    public var group: String?
    public init(user: String, group: String? = nil) {
        self.user = user
        self.group = group
    }
}

/// One line of keepalived's notify FIFO: `INSTANCE "VI_1" MASTER 100`, or
/// `GROUP "G" BACKUP 0`, `INSTANCE "VI_1" MASTER_RX_LOWER_PRI 100`,
/// `INSTANCE "VI_1" BACKUP_PRIORITY 90`. Written by the environment when a FIFO is
/// configured, dropped otherwise.
public struct NotifyLine: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable { case instance = "INSTANCE", group = "GROUP" }
    public var kind: Kind
    public var name: String
    /// MASTER, BACKUP, FAULT, STOP, MASTER_RX_LOWER_PRI, MASTER_PRIORITY or BACKUP_PRIORITY.
    public var event: String
    public var priority: UInt8

    public init(_ kind: Kind, name: String, event: String, priority: UInt8) {
        self.kind = kind
        self.name = name
        self.event = event
        self.priority = priority
    }

    public init(_ kind: Kind, name: String, entering state: VRRPStateMachine.State, priority: UInt8) {
        self.init(kind, name: name, event: NotifyScripts.word(state), priority: kind == .group ? 0 : priority)
    }

    /// The line without its newline.
    public var description: String { "\(kind.rawValue) \"\(name)\" \(event) \(priority)" }
}
