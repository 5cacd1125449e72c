import Config

/// One mismatch between the nodes' files. An error is what will split the brain (two
/// MASTERs), never converge, or leave traffic on the wrong node after a takeover; a
/// warning is legal but probably not what was meant.
public struct ClusterFinding: Codable, Hashable, Sendable {
    public enum Severity: String, Codable, Hashable, Sendable { case error, warning }

    /// What kind of mismatch: a stable name for scripts and tests (the JSON's `kind`).
    public enum Kind: String, Codable, Hashable, Sendable, CaseIterable {
        case virtualAddressesDiffer = "virtual-addresses-differ"
        case virtualAddressPrefixDiffers = "virtual-address-prefix-differs"
        case instanceOnSomeNodesOnly = "instance-on-some-nodes-only"
        case sameAddressDifferentRouter = "same-address-different-router"
        case priorityTie = "priority-tie"
        case severalAddressOwners = "several-address-owners"
        case preemptDiffers = "preempt-differs"
        case preemptDelayDiffers = "preempt-delay-differs"
        case masterStateWithoutPreemption = "master-state-without-preemption"
        case unicastPeerNotMutual = "unicast-peer-not-mutual"
        case unicastPeerUnknown = "unicast-peer-unknown"
        case unicastSourceMissing = "unicast-source-missing"
        case sharedSourceAddress = "shared-source-address"
        case overlayPeerNotMutual = "overlay-peer-not-mutual"
        case overlayKeyDiffers = "overlay-key-differs"
        case authTypeDiffers = "auth-type-differs"
        case authPasswordDiffers = "auth-password-differs"
        case authKeyDiffers = "auth-key-differs"
        case authKeyUnverifiable = "auth-key-unverifiable"
        case advertIntervalDiffers = "advert-interval-differs"
        case versionDiffers = "version-differs"
        case transportDiffers = "transport-differs"
        case routeFailoverMissing = "route-failover-missing"
        case routeTablesDiffer = "route-tables-differ"
        case routeSettingsDiffer = "route-settings-differ"
        case syncGroupsDiffer = "sync-groups-differ"
    }

    public var severity: Severity
    public var kind: Kind
    /// The virtual router the finding is about; nil for one about several (sync groups, overlays).
    public var virtualRouterID: Int?
    public var message: String
    /// Where, in every file involved; at least one.
    public var locations: [SourceLocation]

    public init(_ severity: Severity, _ kind: Kind, virtualRouterID: Int?, _ message: String, at locations: [SourceLocation]) {
        self.severity = severity
        self.kind = kind
        self.virtualRouterID = virtualRouterID
        self.message = message
        self.locations = locations
    }

    private enum CodingKeys: String, CodingKey { case severity, kind, virtualRouterID, message, locations }

    /// Every field always, `virtualRouterID` as null when there is none, so that a script
    /// sees the same keys in every finding.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(severity, forKey: .severity)
        try container.encode(kind, forKey: .kind)
        try container.encode(virtualRouterID, forKey: .virtualRouterID)
        try container.encode(message, forKey: .message)
        try container.encode(locations, forKey: .locations)
    }

    /// `FILE:LINE, FILE:LINE: severity: message [kind]`: the first location leads, so an
    /// editor's jump-to-error goes there; every file involved is on the line.
    public var description: String {
        let places = locations.map { "\($0.file):\($0.line)" }.joined(separator: ", ")
        return "\(places): \(severity.rawValue): \(message) [\(kind.rawValue)]"
    }
}

/// Collects findings for one check; `ClusterCheck` sorts and de-duplicates them.
struct Findings {
    private(set) var all: [ClusterFinding] = []

    mutating func error(_ kind: ClusterFinding.Kind, _ router: VirtualRouterGroup?, _ message: String, at locations: [SourceLocation]) {
        add(.error, kind, router, message, locations)
    }

    mutating func warning(_ kind: ClusterFinding.Kind, _ router: VirtualRouterGroup?, _ message: String, at locations: [SourceLocation]) {
        add(.warning, kind, router, message, locations)
    }

    private mutating func add(_ severity: ClusterFinding.Severity, _ kind: ClusterFinding.Kind, _ router: VirtualRouterGroup?,
                              _ message: String, _ locations: [SourceLocation]) {
        let text = router.map { "\($0.label): \(message)" } ?? message
        all.append(ClusterFinding(severity, kind, virtualRouterID: router?.virtualRouterID, text, at: unique(locations)))
    }

    private func unique(_ locations: [SourceLocation]) -> [SourceLocation] {
        var seen = Set<SourceLocation>()
        return locations.filter { seen.insert($0).inserted }
    }
}
