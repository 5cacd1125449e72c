import NetworkTypes

/// The effective configuration: keepalived's meaning of the file, defaults filled in,
/// plus Overcast's own keywords. Times are in seconds as keepalived writes them.
public struct OvercastConfiguration: Codable, Hashable, Sendable {
    public var globalDefs = GlobalDefs()
    public var vrrpScripts: [VRRPScript] = []
    public var trackFiles: [TrackFile] = []
    public var syncGroups: [SyncGroup] = []
    public var instances: [VRRPInstance] = []
    public var virtualServerGroups: [VirtualServerGroup] = []
    public var virtualServers: [VirtualServer] = []
    public var overlays: [Overlay] = []
    /// `static_ipaddress`, `static_routes`, `static_rules`: kernel state the daemon adds at
    /// start and keeps (not removed at stop, as keepalived), reconciled on reload.
    public var staticAddresses: [VirtualAddress] = []
    public var staticRoutes: [VirtualRoute] = []
    public var staticRules: [VirtualRule] = []
    public init() {}
}

public struct GlobalDefs: Codable, Hashable, Sendable {
    public var routerID: String?
    public var smtp = SMTPSettings()
    public var enableScriptSecurity = false
    public var scriptUser: String?
    public var scriptGroup: String?
    public var vrrpVersion = 2
    public var vrrpGarpMasterDelay = 5.0
    public var vrrpGarpMasterRepeat = 5
    public var vrrpGarpMasterRefresh = 0.0
    public var vrrpGarpMasterRefreshRepeat = 1
    /// `vrrp_garp_interval`: seconds between the rounds of a gratuitous-ARP burst.
    public var vrrpGarpInterval = 0.0
    public var scriptTimeout = 15.0
    /// Overcast's `metrics_listen ADDRESS:PORT`: where the Prometheus endpoint listens.
    /// Off (nil) unless configured, so a node exposes nothing it was not asked to.
    public var metricsListen: ListenAddress?
    /// `default_interface`: where a static address without `dev` goes (keepalived's
    /// default, eth0).
    public var defaultInterface = "eth0"
    /// `notify_fifo` and `vrrp_notify_fifo` (keepalived writes the same VRRP lines to
    /// both), each with its optional `_script` that reads it.
    public var notifyFIFOs: [NotifyFIFO] = []
    /// `vrrp_notify_priority_changes`: FIFO lines also when an instance's priority moves.
    public var vrrpNotifyPriorityChanges = false
    /// `fifo_write_vrrp_states_on_reload`: after a reload, every instance's and sync
    /// group's state is written to the FIFOs again.
    public var fifoWriteStatesOnReload = false
    /// `vrrp_startup_delay`: seconds between the daemon's start and its instances'.
    public var vrrpStartupDelay = 0.0
    /// `startup_script` / `shutdown_script`, each with its timeout (default 10 s).
    public var startupScript: LifecycleScript?
    public var shutdownScript: LifecycleScript?
    /// `vrrp_strict`: every instance without its own `strict_mode` runs in keepalived's
    /// strict mode (docs/accept-mode.md); where it was written, for validation's messages.
    public var vrrpStrict = false
    public var vrrpStrictLocation: SourceLocation?
    /// `nftables`, `nftables_priority`, `nftables_counters`: the table that drops a
    /// non-accepting MASTER's VIP traffic.
    public var vipFirewall = VIPFirewallSettings()
    public init() {}
}

/// keepalived's nftables table for Accept Mode off (`no_accept`, strict mode): its name
/// (`nftables [NAME]`, default `keepalived`), its base chains' priority
/// (`nftables_priority`, default -1: just before the usual filter chains at 0) and
/// whether its rules count packets (`nftables_counters`).
public struct VIPFirewallSettings: Codable, Hashable, Sendable {
    public static let defaultTable = "keepalived"
    public var table = VIPFirewallSettings.defaultTable
    public var priority: Int32 = -1
    public var counters = false
    public init(table: String = VIPFirewallSettings.defaultTable, priority: Int32 = -1, counters: Bool = false) {
        self.table = table
        self.priority = priority
        self.counters = counters
    }
}

/// A notify FIFO: where keepalived's `INSTANCE "VI_1" MASTER 100` lines go, and the
/// script (with the FIFO's path as its last argument) that reads them.
public struct NotifyFIFO: Codable, Hashable, Sendable {
    /// The keyword it came from: `notify_fifo` (every line), `vrrp_notify_fifo` (VRRP
    /// lines) or `lvs_notify_fifo` (health-check lines).
    public var keyword: String
    public var path: String
    /// `notify_fifo PATH [USER [GROUP]]`: who owns the FIFO when the daemon makes it, so
    /// a reader running as that user can open it. Unset: the global `script_user`.
    public var owner: String?
    public var ownerGroup: String?
    public var script: String?
    public var scriptUser: String?
    public var scriptGroup: String?
    public init(keyword: String, path: String) {
        self.keyword = keyword
        self.path = path
    }
}

/// `startup_script` / `shutdown_script SCRIPT [USER [GROUP]]` and its `_timeout`.
public struct LifecycleScript: Codable, Hashable, Sendable {
    public var command: String
    public var user: String?
    public var group: String?
    public var timeout = 10.0
    public init(command: String) { self.command = command }
}

/// An address and TCP port to listen on, written `192.0.2.1:9650` or `[2001:db8::1]:9650`.
public struct ListenAddress: Codable, Hashable, Sendable, CustomStringConvertible {
    public var address: String
    public var port: Int
    public init(address: String, port: Int) {
        self.address = address
        self.port = port
    }
    public var isIPv6: Bool { address.contains(":") }
    public var description: String { isIPv6 ? "[\(address)]:\(port)" : "\(address):\(port)" }

    /// Parses `ADDRESS:PORT`; nil with the reason when the text is not one.
    public static func parse(_ text: String) -> Result<ListenAddress, ListenAddressError> {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                return .failure(.init("'\(text)' is not [IPv6]:PORT"))
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return .failure(.init("'\(text)' has no :PORT")) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (1...65535).contains(port) else {
            return .failure(.init("'\(portText)' in '\(text)' is not a TCP port (1-65535)"))
        }
        let address = String(host)
        guard text.hasPrefix("[") ? IPText.isIPv6(address) : IPText.isIPv4(address) else {
            return .failure(.init("'\(address)' in '\(text)' is not an IP\(text.hasPrefix("[") ? "v6" : "v4") address"))
        }
        return .success(ListenAddress(address: address, port: port))
    }
}

public struct ListenAddressError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

public struct VRRPScript: Codable, Hashable, Sendable {
    public var name: String
    public var script = ""
    public var interval = 1.0
    public var timeout: Double?
    public var weight = 0
    /// keepalived's `weight N reverse`: the weight applies while the script fails.
    public var weightReverse = false
    public var rise = 1
    public var fall = 1
    public var user: String?
    public var group: String?
    public var location: SourceLocation
}

public struct SyncGroup: Codable, Hashable, Sendable {
    public var name: String
    public var group: [String] = []
    public var notify = Notify()
    public var trackScripts: [TrackedScript] = []
    public var trackFiles: [TrackedFile] = []
    /// Tracked by every member: a failure with weight 0 puts each of them in FAULT.
    public var trackInterfaces: [TrackedInterface] = []
    /// `sync_group_tracking_weight`: members keep their tracking weights. Without it,
    /// keepalived sets every member's tracking weights to 0 (a failure is a FAULT), so
    /// the members' priorities cannot drift apart.
    public var trackingWeight = false
    /// `smtp_alert`: nil follows global_defs (`SMTPSettings.mailsVRRP`).
    public var smtpAlert: Bool?
    public var location: SourceLocation
}

/// notify_* scripts, shared by instances and sync groups.
public struct Notify: Codable, Hashable, Sendable {
    public var master: String?
    public var backup: String?
    public var fault: String?
    public var stop: String?
    public var any: String?
    public var masterRxLowerPriority: String?
    /// `notify_priority_changes`; nil: the global `vrrp_notify_priority_changes`.
    public var priorityChanges: Bool?
    /// `notify_master SCRIPT [USER [GROUP]]`: who each script runs as, by its command.
    public var runAs: [String: ScriptUser] = [:]
    public init() {}
}

/// The USER [GROUP] a script runs as.
public struct ScriptUser: Codable, Hashable, Sendable {
    public var user: String
    public var group: String?
    public init(user: String, group: String? = nil) {
        self.user = user
        self.group = group
    }
}

public struct VirtualAddress: Codable, Hashable, Sendable {
    public var address: IPv4Address
    public var prefixLength: Int
    public var device: String?
    public var label: String?
    public var scope: String?
    public var broadcast: IPv4Address?
    public var location: SourceLocation
    /// keepalived's `no_track`: its deletion by someone else does not take the instance
    /// out of MASTER (a static address is not put back).
    public var noTrack = false
}

public struct EC2RouteFailover: Codable, Hashable, Sendable {
    public enum Target: String, Codable, Hashable, Sendable { case instance, eni }
    public var routeTables: [String] = []
    public var region: String?
    public var endpoint: String?
    public var imdsEndpoint: String?
    public var target = Target.instance
    public var instanceID: String?
    /// Seconds between re-reads of the route while MASTER (a stale writer loses within this).
    public var refresh = 30.0
    /// Seconds one EC2 or IMDS request may take before it is abandoned and retried.
    public var apiTimeout = 3.0
    public var location: SourceLocation
}

extension VRRPInstance {
    /// The transport the instance runs on: the one it names, else unicast when it lists
    /// peers (keepalived's rule), else multicast. (The reader fills in `gre` for an
    /// instance on an overlay.)
    public var effectiveTransport: TransportKind { transport ?? (unicastPeers.isEmpty ? .multicast : .unicast) }
}

public struct VRRPInstance: Codable, Hashable, Sendable {
    public enum InitialState: String, Codable, Hashable, Sendable { case master = "MASTER", backup = "BACKUP" }
    public var name: String
    public var state = InitialState.backup
    /// `smtp_alert`: nil follows global_defs (`SMTPSettings.mailsVRRP`).
    public var smtpAlert: Bool?
    public var interface: String?
    public var virtualRouterID: Int?
    public var priority = 100
    public var advertInt = 1.0
    public var version: Int?
    public var nopreempt = false
    public var preemptDelay = 0.0
    public var authType: AuthenticationKind?
    public var authPass: String?
    /// `auth_type HMAC_SHA256`: where the key is (the key itself is never in the model).
    public var authKeyFile: String?
    /// How far an authenticated advertisement's time may be from this node's clock.
    public var authReplayWindow = 30.0
    public var virtualIPAddresses: [VirtualAddress] = []
    public var virtualIPAddressesExcluded: [VirtualAddress] = []
    /// Added with the VIPs on MASTER, never carried in the advertisement.
    public var virtualRoutes: [VirtualRoute] = []
    public var virtualRules: [VirtualRule] = []
    /// `promote_secondaries`: set the interface's sysctl so that removing one address of a
    /// subnet does not remove the others with it.
    public var promoteSecondaries = false
    public var unicastSrcIP: IPv4Address?
    /// `track_src_ip`: FAULT while the source address is not on the host.
    public var trackSrcIP = false
    public var unicastPeers: [IPv4Address] = []
    public var unicastTTL = 255
    /// `old_unicast_checksum [never]`.
    public var unicastChecksum = UnicastChecksum.current
    public var mcastSrcIP: IPv4Address?
    public var trackInterfaces: [TrackedInterface] = []
    public var trackScripts: [TrackedScript] = []
    public var trackFiles: [TrackedFile] = []
    public var garpMasterDelay: Double?
    public var garpMasterRepeat: Int?
    public var garpMasterRefresh: Double?
    public var garpMasterRefreshRepeat: Int?
    public var notify = Notify()
    public var noVirtualIPAddress = false
    public var dontTrackPrimary = false
    /// VRRPv3 Accept Mode: `accept` / `no_accept` as written (nil: unset); after
    /// validation, the effective mode (on unless strict mode; always on for the address
    /// owner, priority 255). Off: the MASTER drops traffic to and from its VIPs.
    public var accept: Bool?
    /// `strict_mode`: nil follows `vrrp_strict`; after validation, the effective value.
    public var strictMode: Bool?
    /// Where some keywords were written (by keyword), so that strict mode's and accept
    /// mode's messages point at the line that asked for what they refuse or reset.
    public var keywordLocations: [String: SourceLocation] = [:]
    public var transport: TransportKind?
    public var replicateMode = ReplicateMode.l2
    public var ec2RouteFailover: EC2RouteFailover?
    public var location: SourceLocation
}

public struct RealServer: Codable, Hashable, Sendable {
    public var address: String
    public var port: Int?
    public var weight = 1
    public var inhibitOnFailure = false
    public var notifyUp: String?
    public var notifyDown: String?
    public var upperThreshold: Int?
    public var lowerThreshold: Int?
    public var forwardingMethod: String?
    /// `alpha` for this server's checkers that set none; nil takes the virtual server's.
    public var alpha: Bool?
    public var checkers: [HealthChecker] = []
    /// FILE_CHECK: tracked files whose numbers add to the weight (or take the server down).
    public var fileChecks: [TrackedFile] = []
    /// The checkers' defaults written in this block (filled into them by validation).
    public var checkerDefaults = CheckerDefaults()
    /// `smtp_alert`: nil follows global_defs (`SMTPSettings.mailsRealServer`).
    public var smtpAlert: Bool?
    public var location: SourceLocation
}

public struct VirtualServerGroup: Codable, Hashable, Sendable {
    public struct Member: Codable, Hashable, Sendable {
        public var address: String?
        /// Last octet of an address range `a.b.c.d-e`, when given.
        public var rangeEnd: Int?
        public var port: Int?
        public var fwmark: Int?
    }
    public var name: String
    public var members: [Member] = []
    public var location: SourceLocation
}

public struct VirtualServer: Codable, Hashable, Sendable {
    public enum Key: Codable, Hashable, Sendable {
        case address(String, port: Int)
        case fwmark(Int)
        case group(String)
    }
    public var key: Key
    public var delayLoop = 60.0
    public var scheduler = "wlc"
    public var forwardingMethod = "NAT"
    public var protocolName = "TCP"
    public var persistenceTimeout: Int?
    public var persistenceGranularity: String?
    public var quorum = 1
    public var hysteresis = 0
    public var quorumUp: String?
    public var quorumDown: String?
    public var sorryServer: RealServer?
    public var virtualhost: String?
    public var alpha = false
    /// `omega`: at daemon stop, notify_down for each real server that is up and
    /// quorum_down for this virtual server (keepalived's clear_services).
    public var omega = false
    /// `ha_suspend`: the checkers rest while this virtual server's address is not on the
    /// host (keepalived refuses it with fwmarks; validation clears it there).
    public var haSuspend = false
    public var realServers: [RealServer] = []
    /// The checkers' defaults written in this block (filled into them by validation).
    public var checkerDefaults = CheckerDefaults()
    public var smtpAlert: Bool?
    public var location: SourceLocation
}

/// Overcast's `overlay NAME { ... }`: the GRE mesh this node builds (issue 5).
public struct Overlay: Codable, Hashable, Sendable {
    public var name: String
    public var local: IPv4Address?
    public var peers: [IPv4Address] = []
    public var key: UInt32?
    public var address: String?
    /// nil means `auto`: the underlay MTU minus 38.
    public var mtu: Int?
    public var location: SourceLocation
}
