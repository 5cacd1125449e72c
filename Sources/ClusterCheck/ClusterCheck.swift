import Config
import NetworkTypes

/// The cluster as a whole: each node's file read on its own says nothing of whether the
/// nodes agree, and most split brains come from two files that are each valid. This
/// pairs the nodes' instances into virtual routers (`VirtualRouterGroup.pair`) and
/// compares them. Pure: the nodes are values, and nothing is read here.
public enum ClusterCheck {
    public static func run(_ nodes: [ClusterNode]) -> ClusterCheckReport {
        let groups = VirtualRouterGroup.pair(nodes)
        var checker = ClusterChecker(nodes: nodes)
        for group in groups {
            let router = RouterContext(group: group, nodes: nodes)
            checker.checkPresence(router)
            guard router.entries.count > 1 else { continue }
            checker.checkAddresses(router)
            checker.checkProtocol(router)
            checker.checkAuthentication(router)
            checker.checkPriorities(router)
            checker.checkPreemption(router)
            checker.checkUnicastPeers(router)
            checker.checkRouteFailover(router)
        }
        checker.checkSameAddressInDifferentRouters(groups)
        checker.checkOverlays(groups)
        checker.checkSyncGroups(groups)
        return ClusterCheckReport(files: nodes.map(\.file), virtualRouters: groups.map(ClusterCheckReport.VirtualRouter.init),
                                  findings: checker.findings.all)
    }
}

/// What the check found, and what it paired, for the text and JSON outputs.
public struct ClusterCheckReport: Codable, Hashable, Sendable {
    public struct VirtualRouter: Codable, Hashable, Sendable {
        public struct Member: Codable, Hashable, Sendable {
            public var file: String
            public var instance: String
            public var location: SourceLocation
        }
        public var virtualRouterID: Int
        public var interface: String?
        public var members: [Member]

        private enum CodingKeys: String, CodingKey { case virtualRouterID, interface, members }

        /// `interface` as null when the VRID was not split by interface, never left out.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(virtualRouterID, forKey: .virtualRouterID)
            try container.encode(interface, forKey: .interface)
            try container.encode(members, forKey: .members)
        }

        init(_ group: VirtualRouterGroup) {
            virtualRouterID = group.virtualRouterID
            interface = group.interface
            members = group.members.map { Member(file: $0.file, instance: $0.instance.name, location: $0.instance.location) }
        }
    }

    public var files: [String]
    public var virtualRouters: [VirtualRouter]
    /// Errors first, then warnings, each in the order of their first location.
    public var findings: [ClusterFinding]
    public var errors: Int
    public var warnings: Int

    public init(files: [String], virtualRouters: [VirtualRouter], findings: [ClusterFinding]) {
        self.files = files
        self.virtualRouters = virtualRouters
        var seen = Set<ClusterFinding>()
        self.findings = findings.filter { seen.insert($0).inserted }.sorted(by: Self.comesFirst)
        errors = self.findings.filter { $0.severity == .error }.count
        warnings = self.findings.count - errors
    }

    public var hasErrors: Bool { errors > 0 }

    /// Errors before warnings, then by first location, then by kind: a stable order, so
    /// two runs over the same files print the same lines.
    private static func comesFirst(_ a: ClusterFinding, _ b: ClusterFinding) -> Bool {
        if a.severity != b.severity { return a.severity == .error }
        switch (a.locations.first, b.locations.first) {
        case let (x?, y?) where x != y: return x < y
        case (nil, _?): return false
        case (_?, nil): return true
        default: return (a.kind.rawValue, a.message) < (b.kind.rawValue, b.message)
        }
    }
}

/// One member of a virtual router with its node: what each check reads.
struct RouterEntry {
    let node: ClusterNode
    let instance: VRRPInstance
    var file: String { node.file }

    /// Where a keyword of this instance stands (the `vrrp_instance` line when unwritten).
    func at(_ keywords: String...) -> SourceLocation { node.location(instance, path: keywords) }

    var version: Int { instance.version ?? node.configuration.globalDefs.vrrpVersion }

    /// Where the effective version comes from: the instance's `version`, else global_defs'.
    var versionLocation: SourceLocation {
        node.locations.instance(instance.name, "version") ?? node.locations.globalDefs("vrrp_version") ?? instance.location
    }

    var transport: TransportKind { instance.effectiveTransport }

    /// What chose the transport: `transport`, else the `unicast_peer` block that makes
    /// it unicast, the overlay `interface` that makes it gre, or the block (multicast).
    var transportLocation: SourceLocation {
        if let written = node.locations.instance(instance.name, "transport") { return written }
        switch transport {
        case .unicast, .replicate: return at("unicast_peer")
        case .gre: return at("interface")
        case .multicast: return instance.location
        }
    }

    /// The address this node sends VRRP from, when the file says it (else the
    /// interface's primary address, which only the host knows).
    var sourceAddress: String? { (instance.unicastSrcIP ?? instance.mcastSrcIP)?.description }
}

/// One virtual router's members, with their nodes.
struct RouterContext {
    let group: VirtualRouterGroup
    let entries: [RouterEntry]
    let nodeCount: Int

    init(group: VirtualRouterGroup, nodes: [ClusterNode]) {
        self.group = group
        nodeCount = nodes.count
        entries = group.members.compactMap { member in
            nodes.indices.contains(member.nodeIndex) ? RouterEntry(node: nodes[member.nodeIndex], instance: member.instance) : nil
        }
    }

    /// `a.conf: 1 s, b.conf: 2 s`: each file with its value, for messages.
    func each(_ value: (RouterEntry) -> String) -> String {
        entries.map { "\($0.file) \(value($0))" }.joined(separator: ", ")
    }

    /// True when `value` is not the same on every member.
    func differ<Value: Hashable>(_ value: (RouterEntry) -> Value) -> Bool {
        Set(entries.map(value)).count > 1
    }
}

/// The checks, one extension per subject; each appends to `findings`.
struct ClusterChecker {
    let nodes: [ClusterNode]
    var findings = Findings()
}

extension Double {
    /// `1`, `0.5`: seconds as the files write them.
    var seconds: String { self == rounded() && abs(self) < 1e15 ? "\(Int(self)) s" : "\(self) s" }
}
