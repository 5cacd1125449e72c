import VRRP

/// The virtual clock every simulated instance reads (the cluster moves it).
final class SimulationClock: @unchecked Sendable {
    var now: Duration = .zero
}

/// The simulator's `InstanceEnvironment`: the same interpreter as the daemon's acts on
/// a record of the host instead of the kernel. Advertisements wait in `outbox` for the
/// cluster to carry; everything else is kept for assertions and the timeline.
public struct SimulatedEnvironment: InstanceEnvironment {
    let clock: SimulationClock
    /// The wall clock at virtual time zero (microseconds since 1970), for HMAC.
    var wallClockAtZero: UInt64 = 1_800_000_000_000_000
    var outbox: [VRRPAdvertisement] = []
    var notices: [SyncGroupNotice] = []
    /// What happened since the cluster last looked, in order, for the timeline.
    var narration: [String] = []
    /// Transitions since the cluster last looked.
    var transitions: [(from: VRRPStateMachine.State, to: VRRPStateMachine.State)] = []
    /// The last packet rejection, for `SimulatedCluster.inject`.
    var lastRejection: VRRPPacketError?
    /// Whether the host holds the virtual addresses (a crash leaves them, as on a host).
    public internal(set) var holdsAddresses = false
    public internal(set) var gratuitousARPRounds = 0
    public internal(set) var notifyCalls: [NotifyCall] = []
    public internal(set) var ownsRoutes = false
    /// The notify FIFO lines the instance wrote, in order.
    public internal(set) var notifyLines: [NotifyLine] = []
    public var now: UInt64 { clock.now.wholeNanoseconds }
    public var wallClockMicroseconds: UInt64 { wallClockAtZero + now / 1000 }

    public mutating func send(_ advertisement: VRRPAdvertisement) throws {
        outbox.append(advertisement)
        if advertisement.priority == 0 { narration.append("sends priority 0") }
    }
    public mutating func addVirtualAddresses() {
        holdsAddresses = true
        narration.append("adds the virtual addresses")
    }
    public mutating func removeVirtualAddresses() {
        if holdsAddresses { narration.append("removes the virtual addresses") }
        holdsAddresses = false
    }
    public mutating func announceVirtualAddresses(rounds: Int) { gratuitousARPRounds += rounds }
    public mutating func runNotify(_ call: NotifyCall) {
        notifyCalls.append(call)
        narration.append("notify: \(call)")
    }
    public mutating func writeNotifyLine(_ line: NotifyLine) { notifyLines.append(line) }
    public mutating func setRouteOwner(_ owner: Bool) {
        if owner != ownsRoutes { narration.append(owner ? "routes the VIPs here" : "stops routing the VIPs here") }
        ownsRoutes = owner
    }
    public mutating func tellSyncGroup(_ notice: SyncGroupNotice) { notices.append(notice) }
    public mutating func log(_ entry: InstanceLogEntry) {
        switch entry {
        case .transition(let from, let to, _, _):
            transitions.append((from, to))
            narration.append(entry.description)
        case .core(.rejected(let error, _)):
            lastRejection = error
            if error.reason != .otherVirtualRouter { narration.append(entry.description) }
        default:
            narration.append(entry.description)
        }
    }
}
