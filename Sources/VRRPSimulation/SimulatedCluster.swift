import NetworkTypes
import VRRP

/// One line of a simulation's timeline: what happened, to whom, when.
public struct TimelineEntry: Sendable, Hashable, CustomStringConvertible {
    public var at: Duration
    public var node: String
    public var text: String
    public var description: String { "\(formatSeconds(at))  \(node.padding(toLength: 4))  \(text)" }
}

/// A transition a node made, for assertions.
public struct RecordedTransition: Sendable, Hashable {
    public var at: Duration
    public var node: String
    public var from: VRRPStateMachine.State
    public var to: VRRPStateMachine.State
}

/// VRRP instances on one in-memory Ethernet segment with a virtual clock. Each is the
/// daemon's `InstanceCore` carried out by the daemon's `InstanceInterpreter`, on a
/// `SimulatedEnvironment`: what is tested here (timers, GARP, notify, routes, sync
/// groups, tracking) is what runs on the network. Advertisements are really encoded,
/// carried (after `latency`) as bytes and decoded by the receivers. Faults are
/// deterministic: crash, graceful shutdown, cut links, dropped advertisements,
/// tracked items failing, a network without multicast.
public final class SimulatedCluster {
    struct Node {
        var name: String
        /// Instances on one host share its address, its crashes and its sync groups.
        var host: String
        var address: IPv4Address
        var configuration: InstanceCore.Configuration
        var authenticator: (any AdvertisementAuthenticator)?
        var syncGroups: [String]
        var interpreter: InstanceInterpreter<SimulatedEnvironment>
        var running = false
        var lastAdvertisementSent: Duration?
        /// The last HMAC sequence sealed: forced to increase, as the transports do.
        var lastSequence: UInt64 = 0
        var deliveredToMe = 0
    }

    /// One-way delay of every packet on the segment.
    public var latency: Duration
    /// A cloud network: frames to 224.0.0.18 go nowhere, unicast passes.
    public var dropsMulticast: Bool
    public private(set) var timeline: [TimelineEntry] = []
    func appendTimeline(_ entry: TimelineEntry) { timeline.append(entry) }
    public private(set) var transitions: [RecordedTransition] = []
    /// Advertisements that arrived at some router (after loss and cuts).
    public private(set) var deliveredPackets = 0

    private var nodes: [Node] = []
    private var arrivals = EventQueue<(node: Int, packet: ReceivedPacket)>()
    private let clock = SimulationClock()
    private var cutLinks: Set<[String]> = []
    private var dropBudget: [Int: Int] = [:]
    /// The sync groups' own states and notifies, by host and group (SimulatedSyncGroups).
    var groupCores: [SyncGroupKey: SyncGroupCore] = [:]
    public internal(set) var groupTransitions: [RecordedGroupTransition] = []

    public init(latency: Duration = .milliseconds(1), dropsMulticast: Bool = false) {
        self.latency = latency
        self.dropsMulticast = dropsMulticast
    }

    public var now: Duration { arrivals.now }

    // MARK: - Building and controlling the cluster

    /// Adds an instance on `host` (its own name when nil), called `name` in this cluster
    /// (the instance's own name when nil: hosts of one cluster often name their
    /// instances alike); its address is the state machine's `primaryAddress`.
    /// `syncGroups` names the `vrrp_sync_group`s it is in.
    public func addInstance(_ configuration: InstanceCore.Configuration, host: String? = nil, name: String? = nil,
                            syncGroups: [String] = [], authenticator: (any AdvertisementAuthenticator)? = nil) {
        nodes.append(Node(name: name ?? configuration.name, host: host ?? configuration.name,
                          address: configuration.router.stateMachine.primaryAddress, configuration: configuration,
                          authenticator: authenticator, syncGroups: syncGroups,
                          interpreter: Self.interpreter(configuration, authenticator, SimulatedEnvironment(clock: clock))))
    }

    /// Adds a router that tracks its interface `eth0` (as the daemon tracks the VRRP
    /// interface), with keepalived's default GARP settings.
    public func addRouter(_ name: String, _ configuration: VirtualRouter.Configuration, tracked: [TrackedItem] = []) {
        addInstance(InstanceCore.Configuration(name: name, router: configuration,
                                               tracked: [TrackedItem(.interface, "eth0")] + tracked))
    }

    private static func interpreter(_ configuration: InstanceCore.Configuration, _ authenticator: (any AdvertisementAuthenticator)?,
                                    _ environment: SimulatedEnvironment) -> InstanceInterpreter<SimulatedEnvironment> {
        var core = InstanceCore(configuration: configuration)
        core.authenticator = authenticator
        return InstanceInterpreter(core: core, environment: environment)
    }

    /// Starts (or restarts, with fresh state) every instance of `name`, a host or an instance.
    public func start(_ name: String) {
        for i in indices(name) {
            nodes[i].interpreter = Self.interpreter(nodes[i].configuration, nodes[i].authenticator, nodes[i].interpreter.environment)
            nodes[i].running = true
            log(i, "started (priority \(nodes[i].configuration.router.stateMachine.priority))")
            handle(.start, at: i)
        }
    }

    public func startAll() { for node in nodes { start(node.name) } }

    /// The process dies (SIGKILL): it sends nothing more, its timers stop, and what it
    /// added (addresses, routes) stays where it was.
    public func crash(_ name: String) {
        for i in indices(name) {
            nodes[i].running = false
            nodes[i].interpreter.cancelAllTimers()
            log(i, "killed (no priority 0)")
        }
    }

    /// Graceful stop (SIGTERM): a MASTER sends priority 0 first.
    public func shutdown(_ name: String) {
        for i in indices(name) {
            log(i, "shutting down")
            handle(.stop, at: i)
            nodes[i].running = false
            nodes[i].interpreter.cancelAllTimers()
        }
    }

    /// What the tracker reports: an interface's carrier or a script's result.
    public func setTracked(_ name: String, _ kind: TrackedItem.Kind, _ item: String, up: Bool) {
        for i in indices(name) { handle(.tracked(kind, name: item, up: up), at: i) }
    }

    /// Someone deletes from `name`'s kernel something its MASTER owns (`ip addr del` of a
    /// VIP, `ip route del` of a virtual route): what the daemon's kernel watch reports.
    public func deleteOwnedState(_ name: String, _ what: String) {
        for i in indices(name) { handle(.ownedStateLost(what), at: i) }
    }

    /// A reload that changes only what the core adopts in place (notify, GARP, tracking);
    /// a later restart uses the new settings too.
    public func reconfigure(_ name: String, _ configuration: InstanceCore.Configuration) {
        let i = index(name)
        nodes[i].configuration = configuration
        handle(.reconfigure(configuration), at: i)
    }

    /// The tracker reports the VRRP interface (`eth0`) down or back up.
    public func fault(_ name: String, _ isFaulty: Bool) {
        setTracked(name, .interface, "eth0", up: !isFaulty)
    }

    /// Cuts the link between two hosts (or instances) in both directions (a partition).
    public func cut(_ a: String, _ b: String) {
        cutLinks.insert([a, b].sorted())
        timeline.append(TimelineEntry(at: now, node: "net", text: "link \(a)<->\(b) cut"))
    }

    public func heal() {
        cutLinks.removeAll()
        timeline.append(TimelineEntry(at: now, node: "net", text: "all links healed"))
    }

    /// Loses the next `count` advertisements that `name` sends (to every receiver).
    public func dropNextAdvertisements(from name: String, count: Int) {
        for i in indices(name) { dropBudget[i, default: 0] += count }
    }

    /// Delivers a packet to an instance as if it came off the wire (forged or malformed
    /// input for tests); returns why it was dropped, if it was.
    public func inject(_ packet: ReceivedPacket, into name: String) -> VRRPPacketError? {
        let i = index(name)
        nodes[i].interpreter.environment.lastRejection = nil
        handle(.received(packet, wallClockMicroseconds: 0), at: i)
        return nodes[i].interpreter.environment.lastRejection
    }

    // MARK: - Running

    /// Runs every event up to `now + duration`, then leaves the clock there.
    public func run(for duration: Duration) {
        run(until: now + duration)
    }

    /// Timers run before arrivals due at the same instant, and instances in the order
    /// they were added: every run is the same.
    public func run(until limit: Duration) {
        while step(notAfter: limit) {}
        arrivals.advanceClock(to: limit)
        clock.now = arrivals.now
    }

    /// Runs event by event until `condition` holds (checked after each) or `limit` passes;
    /// the clock stays at the event that made it hold.
    public func run(until limit: Duration, stoppingWhen condition: () -> Bool) {
        while !condition() {
            guard step(notAfter: limit) else {
                run(until: limit)
                return
            }
        }
    }

    /// Runs the next event due at or before `limit`; false when there is none.
    private func step(notAfter limit: Duration) -> Bool {
        let timer = nodes.indices.filter { nodes[$0].running }
            .compactMap { i in nodes[i].interpreter.nextDeadline.map { (i, Duration.nanoseconds(Int64(clamping: $0.at))) } }
            .min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }
        let arrival = arrivals.nextDeadline
        if let (i, at) = timer, at <= limit, arrival.map({ at <= $0 }) ?? true {
            arrivals.advanceClock(to: at)
            clock.now = arrivals.now
            nodes[i].interpreter.fireDueTimer()
            drain(i)
        } else if let (i, packet) = arrivals.popNext(notAfter: limit) {
            clock.now = arrivals.now
            guard nodes[i].running else { return true }
            nodes[i].deliveredToMe += 1
            deliveredPackets += 1
            handle(.received(packet, wallClockMicroseconds: 0), at: i)
        } else {
            return false
        }
        return true
    }

    // MARK: - Observing

    public func state(_ name: String) -> VRRPStateMachine.State { nodes[index(name)].interpreter.core.state }
    public func isRunning(_ name: String) -> Bool { nodes[index(name)].running }
    public func counters(_ name: String) -> VRRPCounters { nodes[index(name)].interpreter.core.counters }
    public func router(_ name: String) -> VirtualRouter { nodes[index(name)].interpreter.core.router }
    public func core(_ name: String) -> InstanceCore { nodes[index(name)].interpreter.core }
    /// What the instance did to its host: addresses, ARP, notify calls, routes.
    public func host(_ name: String) -> SimulatedEnvironment { nodes[index(name)].interpreter.environment }
    public func lastAdvertisementSent(by name: String) -> Duration? { nodes[index(name)].lastAdvertisementSent }
    public func packetsDelivered(to name: String) -> Int { nodes[index(name)].deliveredToMe }

    /// Running instances in MASTER state: the ones holding the virtual addresses.
    public var masters: [String] { nodes.filter { $0.running && $0.interpreter.core.state == .master }.map(\.name) }

    public func transitions(of name: String) -> [RecordedTransition] { transitions.filter { $0.node == name } }

    /// When `name` last became MASTER, if ever.
    public func lastBecameMaster(_ name: String) -> Duration? {
        transitions.last { $0.node == name && $0.to == .master }?.at
    }

    // MARK: - Internals

    private func index(_ name: String) -> Int {
        guard let i = nodes.firstIndex(where: { $0.name == name }) else {
            preconditionFailure("no instance named \(name) in this simulation")
        }
        return i
    }

    /// The instance called `name`, or every instance on the host called `name`.
    private func indices(_ name: String) -> [Int] {
        if let i = nodes.firstIndex(where: { $0.name == name }) { return [i] }
        let onHost = nodes.indices.filter { nodes[$0].host == name }
        precondition(!onHost.isEmpty, "no instance or host named \(name) in this simulation")
        return onHost
    }

    private func log(_ i: Int, _ text: String) {
        timeline.append(TimelineEntry(at: now, node: nodes[i].name, text: text))
    }

    private func handle(_ event: InstanceCore.Event, at i: Int) {
        nodes[i].interpreter.handle(event)
        drain(i)
    }

    /// Carries what an instance produced: its advertisements onto the segment, its
    /// sync-group notices to the other members on its host, its narration to the timeline.
    private func drain(_ i: Int) {
        var environment = nodes[i].interpreter.environment
        let (outbox, notices, narration, moves) = (environment.outbox, environment.notices, environment.narration,
                                                    environment.transitions)
        environment.outbox = []
        environment.notices = []
        environment.narration = []
        environment.transitions = []
        nodes[i].interpreter.environment = environment
        for text in narration { log(i, text) }
        for (from, to) in moves { transitions.append(RecordedTransition(at: now, node: nodes[i].name, from: from, to: to)) }
        for advertisement in outbox { transmit(advertisement, from: i) }
        for notice in notices {
            groupMemberMoved(notice, host: nodes[i].host)
            for group in nodes[i].syncGroups {
                for j in nodes.indices where j != i && nodes[j].running && nodes[j].host == nodes[i].host
                    && nodes[j].syncGroups.contains(group) {
                    handle(.syncGroup(notice, group: group), at: j)
                }
            }
        }
    }

    private func transmit(_ advertisement: VRRPAdvertisement, from i: Int) {
        nodes[i].lastAdvertisementSent = now
        if let budget = dropBudget[i], budget > 0 {
            dropBudget[i] = budget - 1
            return
        }
        let source = nodes[i].address
        var receivers: [(node: Int, destination: IPv4Address)] = []
        if let peers = nodes[i].configuration.router.unicastPeers {
            for peer in peers { receivers += listeners(at: { $0.address == peer }, for: advertisement).map { ($0, peer) } }
        } else if !dropsMulticast {
            receivers = listeners(at: { $0.host != self.nodes[i].host }, for: advertisement).map { ($0, .vrrpMulticastGroup) }
        }
        for (j, destination) in receivers where !isCut(i, j) {
            let pseudo = PseudoHeader(source: source, destination: destination)
            guard var payload = try? advertisement.encoded(pseudoHeader: pseudo) else {
                log(i, "cannot encode \(advertisement)")
                continue
            }
            if let authenticator = nodes[i].authenticator {
                let sequence = max(nodes[i].interpreter.environment.wallClockMicroseconds, nodes[i].lastSequence + 1)
                nodes[i].lastSequence = sequence
                payload = authenticator.seal(payload, source: source, sequence: sequence)
            }
            let packet = ReceivedPacket(payload: payload, source: source, destination: destination, timeToLive: 255)
            arrivals.schedule((j, packet), after: latency)
        }
    }

    /// The instances on the hosts `where` picks that receive this advertisement: as the
    /// daemon's kernel filter does, a host hands a VRID to the instance that has it, and
    /// an unknown VRID to every instance (which counts it as another router's).
    private func listeners(at host: (Node) -> Bool, for advertisement: VRRPAdvertisement) -> [Int] {
        let candidates = nodes.indices.filter { host(nodes[$0]) }
        var byHost: [String: [Int]] = [:]
        for j in candidates { byHost[nodes[j].host, default: []].append(j) }
        return byHost.values.flatMap { members in
            let matching = members.filter { nodes[$0].configuration.router.virtualRouterID == advertisement.virtualRouterID }
            return matching.isEmpty ? members : matching
        }.sorted()
    }

    private func isCut(_ i: Int, _ j: Int) -> Bool {
        for a in [nodes[i].name, nodes[i].host] {
            for b in [nodes[j].name, nodes[j].host] where cutLinks.contains([a, b].sorted()) { return true }
        }
        return false
    }
}

/// "12.345s" with millisecond precision, for timelines.
public func formatSeconds(_ d: Duration) -> String {
    let (seconds, attoseconds) = d.components
    let millis = Int(attoseconds / 1_000_000_000_000_000) + Int(seconds) * 1000
    let whole = millis / 1000, frac = millis % 1000
    let fracText = String(frac)
    return "\(whole).\(String(repeating: "0", count: 3 - fracText.count))\(fracText)s"
}

extension String {
    func padding(toLength length: Int) -> String {
        count >= length ? self : self + String(repeating: " ", count: length - count)
    }
}

extension SimulatedCluster {
    /// Adds a narration line to the timeline at the current virtual time.
    public func annotate(_ text: String) {
        appendTimeline(TimelineEntry(at: now, node: "==", text: text))
    }
}
