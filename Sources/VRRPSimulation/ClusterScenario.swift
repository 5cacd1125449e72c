import VRRP

/// One node of a cluster to simulate: a host and the instances its configuration file
/// defines, with its `vrrp_sync_group`s (group name -> member instance names).
public struct SimulatedHost: Sendable {
    public var name: String
    public var instances: [InstanceCore.Configuration]
    public var syncGroups: [String: [String]]
    /// The sync groups' own notify scripts, by group name.
    public var groupNotify: [String: NotifyScripts]

    public init(name: String, instances: [InstanceCore.Configuration], syncGroups: [String: [String]] = [:],
                groupNotify: [String: NotifyScripts] = [:]) {
        self.name = name
        self.instances = instances
        self.syncGroups = syncGroups
        self.groupNotify = groupNotify
    }
}

/// The faults `overcast simulate` plays on users' configurations.
public enum ClusterScenario: String, Sendable, CaseIterable, Codable {
    /// SIGKILL of the host holding the first virtual router's MASTER: no priority 0.
    case killMaster = "kill-master"
    /// That host cut off from every other, then healed.
    case partition
    /// That host's instances restarted by a reload that changed them: graceful stop
    /// (priority 0), then start.
    case reload
}

/// What a scenario predicts, in seconds of virtual time.
public struct ScenarioReport: Sendable, Codable {
    public struct Owner: Sendable, Codable, Hashable {
        public var virtualRouterID: Int
        /// Hosts whose instance for this VRID is MASTER (more than one: a split brain).
        public var masters: [String]
        /// Running hosts that hold the VIPs' cloud routes.
        public var routeOwners: [String]
    }
    public struct Line: Sendable, Codable, Hashable {
        public var seconds: Double
        public var node: String
        public var text: String
    }

    public var scenario: ClusterScenario
    /// The host the fault was played on.
    public var victim: String
    /// Seconds of virtual time from the start of all nodes to the fault (the cluster settles).
    public var faultAt: Double
    public var before: [Owner]
    /// At the takeover (for a partition: the split while it lasts).
    public var during: [Owner]
    /// After healing (partition) or the victim's return (kill-master: restarted; reload: as is).
    public var after: [Owner]
    /// From the fault until every VRID the victim was MASTER of has a MASTER elsewhere. The
    /// fault is played just after the victim's advertisement: the worst case (a fault
    /// later in the interval is taken over sooner, by up to one advertisement interval).
    public var takeoverSeconds: Double?
    /// From healing (or the restart) until one MASTER per VRID again; nil when none was needed.
    public var convergenceSeconds: Double?
    public var notifyCalls: [Line]
    public var timeline: [Line]
}

extension SimulatedCluster {
    /// A cluster of `hosts` on one segment (latency one way).
    public static func make(hosts: [SimulatedHost], latency: Duration = .microseconds(200)) -> SimulatedCluster {
        let cluster = SimulatedCluster(latency: latency)
        for host in hosts {
            for instance in host.instances {
                let groups = host.syncGroups.filter { $0.value.contains(instance.name) }.map(\.key).sorted()
                cluster.addInstance(instance, host: host.name, name: nodeName(host.name, instance.name), syncGroups: groups)
            }
            let here = Set(host.instances.map(\.name))
            for (group, members) in host.syncGroups.sorted(by: { $0.key < $1.key }) {
                cluster.defineSyncGroup(.init(name: group, members: members.filter(here.contains),
                                              notify: host.groupNotify[group] ?? NotifyScripts()), host: host.name)
            }
        }
        return cluster
    }

    /// Plays `scenario` on a fresh cluster of `hosts` and reports what it predicts.
    public static func play(_ scenario: ClusterScenario, on hosts: [SimulatedHost]) -> ScenarioReport {
        let c = make(hosts: hosts)
        let settle = hosts.flatMap(\.instances).map { instance -> Duration in
            let m = instance.router.stateMachine
            return VRRPTiming.masterDownInterval(version: m.version, priority: 1, masterAdvertisementInterval: m.advertisementInterval)
                + m.preemptDelay
        }.max().map { $0 * 2 + .seconds(1) } ?? .seconds(5)
        c.startAll()
        c.run(for: settle)
        let before = c.owners(hosts)
        let victim = before.first { !$0.masters.isEmpty }?.masters.first ?? hosts.first?.name ?? ""
        let victimVRIDs = Set(before.filter { $0.masters.contains(victim) }.map(\.virtualRouterID))
        // The worst case: the fault comes just after the victim's advertisement, so the
        // others wait a whole Master_Down_Interval from it.
        if let sender = hosts.first(where: { $0.name == victim })?.instances
            .first(where: { victimVRIDs.contains(Int($0.router.virtualRouterID)) }).map({ nodeName(victim, $0.name) }) {
            let last = c.lastAdvertisementSent(by: sender)
            c.run(until: c.now + settle) { c.lastAdvertisementSent(by: sender) != last }
        }
        let faultAt = c.now
        c.annotate("\(scenario.rawValue) on \(victim)")
        switch scenario {
        case .killMaster: c.crash(victim)
        case .partition: for other in hosts.map(\.name) where other != victim { c.cut(victim, other) }
        case .reload: c.shutdown(victim); c.start(victim)
        }
        // "During" is the moment of the takeover (or the end of the wait when none comes).
        c.run(until: faultAt + settle) { c.takeover(of: victimVRIDs, from: victim, since: faultAt, hosts: hosts) != nil }
        let during = c.owners(hosts)
        c.run(until: faultAt + settle)
        let takeover = c.takeover(of: victimVRIDs, from: victim, since: faultAt, hosts: hosts)
        let returnAt = c.now
        switch scenario {
        case .killMaster: c.annotate("\(victim) restarted"); c.start(victim)
        case .partition: c.heal()
        case .reload: break
        }
        c.run(for: settle)
        let after = c.owners(hosts)
        let converged = c.lastMastershipChange(since: scenario == .reload ? faultAt : returnAt)
        let lines = c.timeline.filter { $0.at >= faultAt }.map {
            ScenarioReport.Line(seconds: Self.seconds($0.at - faultAt), node: $0.node, text: $0.text)
        }
        return ScenarioReport(scenario: scenario, victim: victim, faultAt: Self.seconds(faultAt), before: before, during: during,
                              after: after, takeoverSeconds: takeover.map { Self.seconds($0) },
                              convergenceSeconds: converged.map { Self.seconds($0 - (scenario == .reload ? faultAt : returnAt)) },
                              notifyCalls: lines.filter { $0.text.hasPrefix("notify: ") }, timeline: lines)
    }

    /// An instance's name in a cluster of hosts: "lvs1/VI_1".
    public static func nodeName(_ host: String, _ instance: String) -> String { "\(host)/\(instance)" }

    static func seconds(_ d: Duration) -> Double {
        let (s, atto) = d.components
        return Double(s) + Double(atto) / 1e18
    }

    /// Who is MASTER of each VRID, by host.
    func owners(_ hosts: [SimulatedHost]) -> [ScenarioReport.Owner] {
        var byVRID: [Int: (masters: Set<String>, routes: Set<String>)] = [:]
        for host in hosts {
            for instance in host.instances {
                let vrid = Int(instance.router.virtualRouterID)
                var entry = byVRID[vrid] ?? ([], [])
                let node = Self.nodeName(host.name, instance.name)
                if isRunning(node) && state(node) == .master { entry.masters.insert(host.name) }
                if isRunning(node) && self.host(node).ownsRoutes { entry.routes.insert(host.name) }
                byVRID[vrid] = entry
            }
        }
        return byVRID.sorted { $0.key < $1.key }.map {
            ScenarioReport.Owner(virtualRouterID: $0.key, masters: $0.value.masters.sorted(), routeOwners: $0.value.routes.sorted())
        }
    }

    /// When the last of `vrids` got a MASTER on another host after `since`, as a delay.
    func takeover(of vrids: Set<Int>, from victim: String, since: Duration, hosts: [SimulatedHost]) -> Duration? {
        guard !vrids.isEmpty else { return nil }
        var latest = Duration.zero
        for vrid in vrids {
            let names = hosts.filter { $0.name != victim }.flatMap { host in
                host.instances.filter { Int($0.router.virtualRouterID) == vrid }.map { Self.nodeName(host.name, $0.name) }
            }
            guard let at = transitions.filter({ names.contains($0.node) && $0.to == .master && $0.at >= since }).map(\.at).min()
            else { return nil }
            latest = max(latest, at - since)
        }
        return latest
    }

    /// The last time any instance entered or left MASTER after `since`.
    func lastMastershipChange(since: Duration) -> Duration? {
        transitions.filter { $0.at > since && ($0.to == .master || $0.from == .master) }.map(\.at).max()
    }
}
