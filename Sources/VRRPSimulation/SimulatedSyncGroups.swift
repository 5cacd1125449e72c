import VRRP

/// A sync group on one simulated host.
struct SyncGroupKey: Hashable {
    var host: String
    var group: String
}

/// A sync group's own transition, as the daemon logs it, with the notifies it ran.
public struct RecordedGroupTransition: Sendable, Hashable {
    public var at: Duration
    public var host: String
    public var transition: SyncGroupTransition
}

extension SimulatedCluster {
    /// Gives `host`'s sync group its own notifies and state (the daemon's `SyncGroupCore`):
    /// its members' moves are then carried to it, as the daemon carries them.
    public func defineSyncGroup(_ configuration: SyncGroupCore.Configuration, host: String) {
        groupCores[SyncGroupKey(host: host, group: configuration.name)] = SyncGroupCore(configuration: configuration)
    }

    /// The state of `host`'s sync group `group` (nil when not defined).
    public func syncGroupState(_ group: String, host: String) -> VRRPStateMachine.State? {
        groupCores[SyncGroupKey(host: host, group: group)]?.state
    }

    func groupMemberMoved(_ notice: SyncGroupNotice, host: String) {
        for key in groupCores.keys.filter({ $0.host == host }).sorted(by: { $0.group < $1.group }) {
            guard let move = groupCores[key]?.memberMoved(notice.member, to: notice.state) else { continue }
            groupTransitions.append(RecordedGroupTransition(at: now, host: host, transition: move))
            appendTimeline(TimelineEntry(at: now, node: host, text: "sync group \(key.group): \(move.from) -> \(move.to)"))
            for call in move.calls { appendTimeline(TimelineEntry(at: now, node: host, text: "notify: \(call)")) }
        }
    }
}
