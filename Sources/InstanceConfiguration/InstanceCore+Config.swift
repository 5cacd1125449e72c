import Config
import NetworkTypes
import VRRP

/// A `vrrp_instance` of keepalived.conf the configuration reader could not turn into a
/// running instance, at its line.
public struct InstanceConfigurationError: Error, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    public var description: String { "\(location): \(message)" }
}

extension InstanceCore.Configuration {
    /// What a `vrrp_instance` decides with, given the address it sends from: the one
    /// translation from the configuration's model to the core, for the daemon (which
    /// finds `source` on the host) and `overcast simulate` (which has no host).
    public init(_ instance: VRRPInstance, in config: OvercastConfiguration, source: IPv4Address) throws(InstanceConfigurationError) {
        func fail(_ message: String) -> InstanceConfigurationError {
            InstanceConfigurationError(location: instance.location, message: "vrrp_instance \(instance.name): \(message)")
        }
        guard let interfaceName = instance.interface, let vrid = instance.virtualRouterID else {
            throw fail("incomplete (check-config reports why)")
        }
        let version: VRRPVersion = (instance.version ?? config.globalDefs.vrrpVersion) == 3 ? .v3 : .v2
        let machine = VRRPStateMachine.Configuration(
            version: version, priority: UInt8(clamping: instance.priority),
            advertisementInterval: Centiseconds(Int((min(max(instance.advertInt, 0.01), 255) * 100).rounded())),
            primaryAddress: source, preempt: !instance.nopreempt,
            preemptDelay: Self.duration(seconds: instance.preemptDelay))
        let peers = instance.unicastPeers
        let vips = instance.virtualIPAddresses.map(\.address)
        let transport = instance.effectiveTransport
        let usesPassword = version == .v2 && instance.authType == .password
        var router = VirtualRouter.Configuration(
            virtualRouterID: UInt8(clamping: vrid), stateMachine: machine, virtualAddresses: vips,
            authType: usesPassword ? .simplePassword : .none, authPassword: usesPassword ? instance.authPass : nil,
            unicastPeers: transport == .unicast || transport == .replicate ? peers : nil)
        router.unicastChecksum = instance.unicastChecksum
        // `track_src_ip`: the address VRRP is sent from must be on the host.
        let sourceItem = instance.trackSrcIP ? [TrackedItem(.sourceAddress, "\(source)")] : []
        self.init(name: instance.name, router: router, manageAddresses: !instance.noVirtualIPAddress,
                  garp: Self.garpSchedule(instance, config.globalDefs),
                  notify: Self.notifyScripts(Self.inheritingRxLowerPriority(instance, config), config.globalDefs),
                  tracked: Self.syncGroupWeights(instance, config, Self.trackedItems(
                    instance, interfaceName: interfaceName, config) + sourceItem + Self.syncGroupItems(instance, config)))
    }

    static func duration(seconds: Double) -> Duration {
        .milliseconds(Int64((max(0, min(seconds, 86_400)) * 1000).rounded()))
    }

    static func garpSchedule(_ instance: VRRPInstance, _ g: GlobalDefs) -> GARPSchedule {
        GARPSchedule(delay: duration(seconds: instance.garpMasterDelay ?? g.vrrpGarpMasterDelay),
                     repeatCount: instance.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
                     refresh: duration(seconds: instance.garpMasterRefresh ?? g.vrrpGarpMasterRefresh),
                     refreshRepeat: instance.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat,
                     interval: .microseconds(Int64((max(0, min(g.vrrpGarpInterval, 1)) * 1_000_000).rounded())))
    }

    static func notifyScripts(_ n: Notify, _ g: GlobalDefs) -> NotifyScripts {
        var scripts = NotifyScripts(master: n.master, backup: n.backup, fault: n.fault, stop: n.stop, any: n.any,
                                    masterRxLowerPriority: n.masterRxLowerPriority,
                                    priorityChanges: n.priorityChanges ?? g.vrrpNotifyPriorityChanges)
        scripts.runAs = n.runAs.mapValues { ScriptIdentity(user: $0.user, group: $0.group) }
        return scripts
    }

    /// `notify_master_rx_lower_pri` is an instance keyword in keepalived; written in a
    /// sync group, each member without one of its own runs the group's (the members are
    /// MASTER together, so each may hear the stale writer).
    static func inheritingRxLowerPriority(_ instance: VRRPInstance, _ config: OvercastConfiguration) -> Notify {
        var notify = instance.notify
        guard notify.masterRxLowerPriority == nil,
              let group = config.syncGroups.first(where: { $0.group.contains(instance.name) && $0.notify.masterRxLowerPriority != nil }),
              let command = group.notify.masterRxLowerPriority else { return notify }
        notify.masterRxLowerPriority = command
        notify.runAs[command] = group.notify.runAs[command]
        return notify
    }

    /// keepalived's sync-group tracking: the `track_interface`, `track_script` and
    /// `track_file` of each group the instance is in, tracked by every member, so an
    /// unweighted failure puts each member in FAULT (a weighted one moves each member's
    /// priority). An item the instance tracks itself keeps the instance's weight.
    static func syncGroupItems(_ instance: VRRPInstance, _ config: OvercastConfiguration) -> [TrackedItem] {
        let own = trackedItems(instance, interfaceName: instance.interface ?? "", config)
        var items: [TrackedItem] = []
        for group in config.syncGroups where group.group.contains(instance.name) {
            items += listed(interfaces: group.trackInterfaces, scripts: group.trackScripts, files: group.trackFiles, config)
        }
        var seen = Set(own.map { "\($0.kind) \($0.name)" })
        return items.filter { seen.insert("\($0.kind) \($0.name)").inserted }
    }

    /// keepalived: a member of a sync group tracks with weight 0 (a failure is a FAULT)
    /// unless one of its groups sets `sync_group_tracking_weight`; otherwise the
    /// members' priorities would drift apart and the group re-elect without end.
    static func syncGroupWeights(_ instance: VRRPInstance, _ config: OvercastConfiguration, _ items: [TrackedItem]) -> [TrackedItem] {
        let groups = config.syncGroups.filter { $0.group.contains(instance.name) }
        guard !groups.isEmpty, !groups.contains(where: \.trackingWeight) else { return items }
        return items.map { item in
            var item = item
            item.weight = 0
            return item
        }
    }

    /// `track_interface`, the VRRP interface itself (weight 0) unless `dont_track_primary`,
    /// `track_script` and `track_file`.
    static func trackedItems(_ instance: VRRPInstance, interfaceName: String, _ config: OvercastConfiguration) -> [TrackedItem] {
        var items = listed(interfaces: instance.trackInterfaces, scripts: [], files: [], config)
        if !instance.dontTrackPrimary && !instance.trackInterfaces.contains(where: { $0.name == interfaceName }) {
            items.append(TrackedItem(.interface, interfaceName))
        }
        return items + listed(interfaces: [], scripts: instance.trackScripts, files: instance.trackFiles, config)
    }

    /// Tracking lines as items: a script or file takes its block's weight and direction
    /// unless the line sets them. Lines naming no block were warned about and removed by
    /// the configuration reader.
    static func listed(interfaces: [TrackedInterface], scripts: [TrackedScript], files: [TrackedFile],
                       _ config: OvercastConfiguration) -> [TrackedItem] {
        let scriptBlocks = Dictionary(config.vrrpScripts.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let fileBlocks = Dictionary(config.trackFiles.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var items = interfaces.map { TrackedItem(.interface, $0.name, weight: $0.weight, reverse: $0.reverse) }
        for track in scripts {
            guard let script = scriptBlocks[track.name] else { continue }
            let (weight, reverse) = track.resolved(weight: script.weight, reverse: script.weightReverse)
            items.append(TrackedItem(.script, track.name, weight: weight, reverse: reverse))
        }
        for track in files {
            guard let file = fileBlocks[track.name] else { continue }
            let (weight, reverse) = track.resolved(file)
            items.append(TrackedItem(.file, track.name, weight: weight, reverse: reverse))
        }
        return items
    }
}

extension SyncGroupCore.Configuration {
    /// A `vrrp_sync_group` with the members that run here (`running`).
    public init(_ group: SyncGroup, running: Set<String>, globals: GlobalDefs) {
        self.init(name: group.name, members: group.group.filter(running.contains),
                  notify: InstanceCore.Configuration.notifyScripts(group.notify, globals))
    }
}
