import Config

/// `vrrp_sync_group` makes the instances of a group change state together on a node
/// (the outside VIP and the inside gateway of a NAT balancer). If another node groups
/// them differently, a failure moves them together on one node and apart on the other,
/// and the addresses meant to stay together end up on different nodes. Legal, and VRRP
/// converges, so a warning. Groups are compared by the virtual routers they hold, since
/// instance and group names are each file's own.
///
/// `track_interface` and `track_script` are not compared: they watch each node's own
/// interfaces and services, which may rightly differ.
extension ClusterChecker {
    mutating func checkSyncGroups(_ groups: [VirtualRouterGroup]) {
        let grouped = nodes.indices.map { NodeGrouping(node: nodes[$0], index: $0, groups: groups) }
        for (index, a) in grouped.enumerated() {
            for b in grouped.dropFirst(index + 1) {
                let common = a.routers.intersection(b.routers)
                let differing = a.together(within: common).symmetricDifference(b.together(within: common))
                guard !differing.isEmpty else { continue }
                let involved = differing.reduce(into: Set<String>()) { $0.formUnion($1) }
                findings.warning(.syncGroupsDiffer, nil,
                                 "sync groups differ (\(a.describe(involved)); \(b.describe(involved))): a failure moves "
                                 + "these routers together on one node but not on the other, so their addresses can end "
                                 + "up on different nodes", at: a.locations(involved) + b.locations(involved))
            }
        }
    }
}

/// One node's sync groups in terms of virtual routers (their labels, `VRID 51`).
private struct NodeGrouping {
    let file: String
    /// Every router this node has an instance of, with the instance's location.
    let routers: Set<String>
    let instanceLocations: [String: SourceLocation]
    /// Each sync group with the routers of its members.
    let syncGroups: [(group: SyncGroup, routers: Set<String>)]

    init(node: ClusterNode, index: Int, groups: [VirtualRouterGroup]) {
        file = node.file
        var labelByInstance: [String: String] = [:]
        var locations: [String: SourceLocation] = [:]
        for group in groups {
            for member in group.members where member.nodeIndex == index {
                labelByInstance[member.instance.name] = group.label
                locations[group.label] = member.instance.location
            }
        }
        routers = Set(labelByInstance.values)
        instanceLocations = locations
        syncGroups = node.configuration.syncGroups.map { group in
            (group, Set(group.group.compactMap { labelByInstance[$0] }))
        }
    }

    /// The sets of routers that change state together, among `routers`: a group of one
    /// is the same as no group.
    func together(within routers: Set<String>) -> Set<Set<String>> {
        Set(syncGroups.map { $0.routers.intersection(routers) }.filter { $0.count > 1 })
    }

    /// `a.conf: G1 holds VRID 51, VRID 52; VRID 53 in no group`.
    func describe(_ involved: Set<String>) -> String {
        let inGroups = syncGroups.filter { !$0.routers.isDisjoint(with: involved) }
        var parts = inGroups.map { "\($0.group.name) holds \($0.routers.sorted().joined(separator: ", "))" }
        let alone = involved.subtracting(inGroups.flatMap(\.routers)).intersection(routers)
        if !alone.isEmpty { parts.append("\(alone.sorted().joined(separator: ", ")) in no group") }
        return "\(file): " + parts.joined(separator: ", ")
    }

    /// The `vrrp_sync_group` lines of the groups involved, and the instances in none.
    func locations(_ involved: Set<String>) -> [SourceLocation] {
        let inGroups = syncGroups.filter { !$0.routers.isDisjoint(with: involved) }
        let alone = involved.subtracting(inGroups.flatMap(\.routers)).intersection(routers)
        return inGroups.map(\.group.location) + alone.sorted().compactMap { instanceLocations[$0] }
    }
}
