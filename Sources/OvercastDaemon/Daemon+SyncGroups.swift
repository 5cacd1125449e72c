import Config
import Foundation
import VRRP

/// The daemon's part in sync groups and notify FIFOs: carrying members' transitions,
/// running each group's own notifies, and writing states to the FIFOs.
extension Daemon {
    /// keepalived's `vrrp_sync_group`: its instances move together. The daemon only
    /// carries a member's transition to the group's other members; what it means (FAULT
    /// follows an own FAULT, a BACKUP follows a new MASTER) is `InstanceCore`'s.
    func tellSyncGroups(_ notice: SyncGroupNotice) {
        let (groups, all) = lock.withLock { (syncGroups, runtimes) }
        for group in groups where group.group.contains(notice.member) {
            for member in group.group where member != notice.member {
                all[member]?.post(.event(.syncGroup(notice, group: group.name)))
            }
        }
        // One member's moves are computed and told as one step, so two members moving at
        // once cannot interleave a group's lines (its MASTER after its later BACKUP).
        groupOutputLock.lock()
        defer { groupOutputLock.unlock() }
        let moves = lock.withLock { () -> [SyncGroupTransition] in
            var moves: [SyncGroupTransition] = []
            for name in groupCores.keys.sorted() {
                if let move = groupCores[name]?.memberMoved(notice.member, to: notice.state) { moves.append(move) }
            }
            return moves
        }
        for move in moves {
            logger.info("sync group \(move.line.name): \(move.from) -> \(move.to)",
                        metadata: ["vrrp.sync_group": "\(move.line.name)", "vrrp.state": "\(move.to)"])
            for call in move.calls {
                scripts.start(call.command, extraArguments: call.arguments, user: call.user, group: call.group)
            }
            notifyFIFO.write(move.line)
            alerts.syncGroupTransition(group: move.line.name, to: move.to)
        }
    }

    /// The sync groups' cores for a configuration, keeping the state of groups that stay.
    func configureSyncGroups(_ config: OvercastConfiguration) {
        lock.withLock {
            let running = Set(runtimes.keys)
            var next: [String: SyncGroupCore] = [:]
            for group in config.syncGroups {
                let configuration = SyncGroupCore.Configuration(group, running: running, globals: config.globalDefs)
                var core = groupCores[group.name] ?? SyncGroupCore(configuration: configuration)
                core.reconfigure(configuration)
                next[group.name] = core
            }
            groupCores = next
            syncGroups = config.syncGroups
        }
    }

    /// `fifo_write_vrrp_states_on_reload`: each instance's and group's state as it is now.
    func writeStatesToFIFOs() {
        let (instances, groups) = lock.withLock { (runtimes.values.map(\.status), groupCores.values.map { ($0.name, $0.state) }) }
        for status in instances.sorted(by: { $0.name < $1.name }) {
            guard let state = VRRPStateMachine.State(rawValue: status.state), state != .initialize else { continue }
            notifyFIFO.write(NotifyLine(.instance, name: status.name, entering: state,
                                        priority: UInt8(clamping: status.effectivePriority)))
        }
        for (name, state) in groups.sorted(by: { $0.0 < $1.0 }) where state != .initialize {
            notifyFIFO.write(NotifyLine(.group, name: name, entering: state, priority: 0))
        }
    }
}
