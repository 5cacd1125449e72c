import Config

/// The instances of several nodes that are one virtual router: the nodes that should
/// elect one MASTER between them.
///
/// The pairing rule:
/// 1. Instances pair by `virtual_router_id`, whatever their names: the VRID is what an
///    advertisement carries, so it is what decides who hears whom.
/// 2. Interface names do not split a VRID: they are node-local (`eth0` on one node and
///    `ens5` on the other is common on EC2), and a unicast advertisement reaches its peer
///    whatever the interface is called.
/// 3. When one file uses the same VRID on several interfaces (keepalived allows it), that
///    VRID's instances pair by interface name instead, in every file, since there is no
///    other way to tell which is which.
/// 4. Transports, versions and the rest never split a group: they are compared, so that
///    a mismatch is reported as what it is rather than as two routers on one node each.
public struct VirtualRouterGroup: Hashable, Sendable {
    public struct Member: Hashable, Sendable {
        /// The member's index in the nodes given to the check.
        public var nodeIndex: Int
        public var file: String
        public var instance: VRRPInstance
    }

    public var virtualRouterID: Int
    /// Set only when rule 3 split the VRID by interface.
    public var interface: String?
    /// At most one per node, in the order the nodes were given.
    public var members: [Member]

    /// How messages name it: `VRID 51`, or `VRID 51 on eth1` after rule 3.
    public var label: String {
        interface.map { "VRID \(virtualRouterID) on \($0)" } ?? "VRID \(virtualRouterID)"
    }

    /// Pairs the instances of `nodes` by the rule above, ordered by VRID then interface.
    /// Instances without a VRID are left out (reading the file already said so).
    public static func pair(_ nodes: [ClusterNode]) -> [VirtualRouterGroup] {
        var byVRID: [Int: [Member]] = [:]
        for (index, node) in nodes.enumerated() {
            for instance in node.configuration.instances {
                guard let vrid = instance.virtualRouterID else { continue }
                byVRID[vrid, default: []].append(Member(nodeIndex: index, file: node.file, instance: instance))
            }
        }
        return byVRID.keys.sorted().flatMap { vrid -> [VirtualRouterGroup] in
            let members = byVRID[vrid] ?? []
            let oneFileUsesItTwice = Dictionary(grouping: members, by: \.nodeIndex).values.contains { $0.count > 1 }
            guard oneFileUsesItTwice else { return [VirtualRouterGroup(virtualRouterID: vrid, interface: nil, members: members)] }
            let byInterface = Dictionary(grouping: members) { $0.instance.interface ?? "" }
            return byInterface.keys.sorted().map { name in
                VirtualRouterGroup(virtualRouterID: vrid, interface: name, members: byInterface[name] ?? [])
            }
        }
    }
}
