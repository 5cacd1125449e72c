// Re-exported: `InstanceStatus` embeds the route worker's status, so whoever reads the
// daemon's status reads CloudRoutes' type, and the daemon's own files see its worker
// and settings without each importing it.
import CloudRoutes
import HealthChecks
import VRRP

/// What `overcast status` shows for one instance: a copy taken by the instance's own
/// event loop, so readers never touch the loop's state. The core's counters are
/// embedded as they are, and appear in the JSON beside the other fields.
public struct InstanceStatus: Codable, Sendable, Hashable {
    public var name: String
    public var virtualRouterID: Int
    public var interface: String
    public var transport: String
    public var version: Int
    public var state: String
    public var basePriority: Int
    public var effectivePriority: Int
    /// This node's address when MASTER, otherwise the last MASTER heard.
    public var masterAddress: String?
    public var virtualAddresses: [String]
    /// Sent, received, priority 0, transitions, drops by reason: the core's own.
    public var counters: VRRPCounters
    public var sendErrors: Int
    /// Seconds since this instance entered its current state.
    public var secondsInState: Double
    public var faults: [String]
    /// The transport's own counters (the replicator's copies, unknown peers...).
    public var transportCounters: [String: Int] = [:]
    /// EC2 route-table failover, when configured.
    public var routeFailover: RouteFailoverStatus?

    enum CodingKeys: String, CodingKey {
        case name, virtualRouterID, interface, transport, version, state, basePriority, effectivePriority, masterAddress
        case virtualAddresses, sendErrors, secondsInState, faults, transportCounters, routeFailover
    }

    public init(name: String, virtualRouterID: Int, interface: String, transport: String, version: Int, state: String,
                basePriority: Int, effectivePriority: Int, masterAddress: String?, virtualAddresses: [String],
                counters: VRRPCounters = VRRPCounters(), sendErrors: Int = 0, secondsInState: Double = 0, faults: [String] = []) {
        self.name = name
        self.virtualRouterID = virtualRouterID
        self.interface = interface
        self.transport = transport
        self.version = version
        self.state = state
        self.basePriority = basePriority
        self.effectivePriority = effectivePriority
        self.masterAddress = masterAddress
        self.virtualAddresses = virtualAddresses
        self.counters = counters
        self.sendErrors = sendErrors
        self.secondsInState = secondsInState
        self.faults = faults
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try c.decode(String.self, forKey: .name), virtualRouterID: try c.decode(Int.self, forKey: .virtualRouterID),
                  interface: try c.decode(String.self, forKey: .interface), transport: try c.decode(String.self, forKey: .transport),
                  version: try c.decode(Int.self, forKey: .version), state: try c.decode(String.self, forKey: .state),
                  basePriority: try c.decode(Int.self, forKey: .basePriority),
                  effectivePriority: try c.decode(Int.self, forKey: .effectivePriority),
                  masterAddress: try c.decodeIfPresent(String.self, forKey: .masterAddress),
                  virtualAddresses: try c.decode([String].self, forKey: .virtualAddresses),
                  counters: try VRRPCounters(from: decoder), sendErrors: try c.decode(Int.self, forKey: .sendErrors),
                  secondsInState: try c.decode(Double.self, forKey: .secondsInState), faults: try c.decode([String].self, forKey: .faults))
        transportCounters = try c.decodeIfPresent([String: Int].self, forKey: .transportCounters) ?? [:]
        routeFailover = try c.decodeIfPresent(RouteFailoverStatus.self, forKey: .routeFailover)
    }

    /// The counters' keys beside the others, in one JSON object.
    public func encode(to encoder: any Encoder) throws {
        try counters.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(virtualRouterID, forKey: .virtualRouterID)
        try c.encode(interface, forKey: .interface)
        try c.encode(transport, forKey: .transport)
        try c.encode(version, forKey: .version)
        try c.encode(state, forKey: .state)
        try c.encode(basePriority, forKey: .basePriority)
        try c.encode(effectivePriority, forKey: .effectivePriority)
        try c.encodeIfPresent(masterAddress, forKey: .masterAddress)
        try c.encode(virtualAddresses, forKey: .virtualAddresses)
        try c.encode(sendErrors, forKey: .sendErrors)
        try c.encode(secondsInState, forKey: .secondsInState)
        try c.encode(faults, forKey: .faults)
        try c.encode(transportCounters, forKey: .transportCounters)
        try c.encodeIfPresent(routeFailover, forKey: .routeFailover)
    }
}

/// The reply of the status socket.
public struct DaemonStatus: Codable, Sendable {
    public var version: String
    public var pid: Int32
    public var configFile: String
    public var uptimeSeconds: Double
    public var reloads: Int
    public var instances: [InstanceStatus]
    public var realServers: [RealServerStatus] = []
    /// The health checker's own counters; nil without checks.
    public var healthChecker: HealthCheckerStatus?
    /// The IPVS table this daemon programs; nil without virtual servers.
    public var ipvs: IPVSStatus?
    /// The Prometheus endpoint's URL (or why it is not serving); nil when not configured.
    public var metrics: String?
    /// `notify_fifo` / `vrrp_notify_fifo`: lines written and dropped; nil when none.
    public var notifyFIFOs: [NotifyFIFOStatus]?
    /// The sync groups' own states (MASTER once every member is); nil when none.
    public var syncGroups: [String: String]?
}

/// The IPVS side: how much was changed (each change is one netlink request) and how long
/// the last reconciliation took, so a reload's cost is visible.
public struct IPVSStatus: Codable, Sendable, Hashable {
    public var services: Int
    public var destinations: Int
    /// Netlink change requests sent since start (adds, updates, deletes).
    public var changesApplied: Int
    public var reconciliations: Int
    /// The last reconciliation: read the kernel's table, compute and send the changes.
    public var lastChanges: Int
    public var lastMilliseconds: Double
    public var lastError: String?
}
