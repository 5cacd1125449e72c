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

/// N VRRP routers on one in-memory Ethernet segment with a virtual clock. Each router
/// is the same `VirtualRouter` the daemon runs; the cluster plays the part of the
/// transports and timers: advertisements are really encoded, carried (after
/// `latency`) as bytes, and decoded by the receivers. Faults are deterministic: crash,
/// graceful shutdown, cut links, dropped advertisements, a network without multicast.
public final class SimulatedCluster {
    struct Node {
        var name: String
        var address: IPv4Address
        var configuration: VirtualRouter.Configuration
        var router: VirtualRouter
        var running = false
        /// Timer generations: a fired timer whose generation is stale was cancelled.
        var timerGeneration: [VRRPStateMachine.Timer: UInt64] = [:]
        var lastAdvertisementSent: Duration?
        var deliveredToMe = 0
    }

    enum Event: Sendable {
        case timer(node: Int, timer: VRRPStateMachine.Timer, generation: UInt64)
        case arrival(node: Int, packet: ReceivedPacket)
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
    private var queue = EventQueue<Event>()
    private var nextGeneration: UInt64 = 1
    private var cutLinks: Set<[Int]> = []
    private var dropBudget: [Int: Int] = [:]

    public init(latency: Duration = .milliseconds(1), dropsMulticast: Bool = false) {
        self.latency = latency
        self.dropsMulticast = dropsMulticast
    }

    public var now: Duration { queue.now }

    // MARK: - Building and controlling the cluster

    /// Adds a router; its primary address is the state machine's `primaryAddress`.
    public func addRouter(_ name: String, _ configuration: VirtualRouter.Configuration) {
        nodes.append(Node(name: name, address: configuration.stateMachine.primaryAddress,
                          configuration: configuration, router: VirtualRouter(configuration: configuration)))
    }

    public func start(_ name: String) {
        let i = index(name)
        nodes[i].router = VirtualRouter(configuration: nodes[i].configuration)
        nodes[i].timerGeneration = [:]
        nodes[i].running = true
        log(i, "started (priority \(nodes[i].configuration.stateMachine.priority))")
        apply(nodes[i].router.handle(.startup), to: i, cause: "startup")
    }

    public func startAll() { for node in nodes { start(node.name) } }

    /// The process dies (SIGKILL): it sends nothing more and its timers stop.
    public func crash(_ name: String) {
        let i = index(name)
        nodes[i].running = false
        nodes[i].timerGeneration = [:]
        log(i, "killed (no priority 0)")
    }

    /// Graceful stop (SIGTERM): a MASTER sends priority 0 first.
    public func shutdown(_ name: String) {
        let i = index(name)
        log(i, "shutting down")
        apply(nodes[i].router.handle(.shutdown), to: i, cause: "shutdown")
        nodes[i].running = false
        nodes[i].timerGeneration = [:]
    }

    public func setPriority(_ name: String, _ priority: UInt8) {
        let i = index(name)
        log(i, "priority -> \(priority)")
        apply(nodes[i].router.handle(.priorityChanged(priority)), to: i, cause: "priority change")
    }

    public func fault(_ name: String, _ isFaulty: Bool) {
        let i = index(name)
        apply(nodes[i].router.handle(isFaulty ? .faultDetected : .faultCleared), to: i,
              cause: isFaulty ? "tracked interface down" : "tracked interface up")
    }

    /// Cuts the link between two routers in both directions (a partition).
    public func cut(_ a: String, _ b: String) {
        cutLinks.insert([index(a), index(b)].sorted())
        timeline.append(TimelineEntry(at: now, node: "net", text: "link \(a)<->\(b) cut"))
    }

    public func heal() {
        cutLinks.removeAll()
        timeline.append(TimelineEntry(at: now, node: "net", text: "all links healed"))
    }

    /// Loses the next `count` advertisements that `name` sends (to every receiver).
    public func dropNextAdvertisements(from name: String, count: Int) {
        dropBudget[index(name), default: 0] += count
    }

    /// Delivers a packet to a router as if it came off the wire (forged or malformed
    /// input for tests).
    public func inject(_ packet: ReceivedPacket, into name: String) -> VRRPPacketError? {
        let i = index(name)
        let (outputs, rejection) = nodes[i].router.receive(packet)
        apply(outputs, to: i, cause: "injected packet")
        return rejection
    }

    // MARK: - Running

    /// Runs every event up to `now + duration`, then leaves the clock there.
    public func run(for duration: Duration) {
        run(until: now + duration)
    }

    public func run(until limit: Duration) {
        while let event = queue.popNext(notAfter: limit) {
            handle(event)
        }
        queue.advanceClock(to: limit)
    }

    // MARK: - Observing

    public func state(_ name: String) -> VRRPStateMachine.State { nodes[index(name)].router.state }
    public func isRunning(_ name: String) -> Bool { nodes[index(name)].running }
    public func counters(_ name: String) -> VRRPCounters { nodes[index(name)].router.counters }
    public func router(_ name: String) -> VirtualRouter { nodes[index(name)].router }
    public func lastAdvertisementSent(by name: String) -> Duration? { nodes[index(name)].lastAdvertisementSent }
    public func packetsDelivered(to name: String) -> Int { nodes[index(name)].deliveredToMe }

    /// Running routers in MASTER state: the ones holding the virtual addresses.
    public var masters: [String] { nodes.filter { $0.running && $0.router.state == .master }.map(\.name) }

    public func transitions(of name: String) -> [RecordedTransition] { transitions.filter { $0.node == name } }

    /// When `name` last became MASTER, if ever.
    public func lastBecameMaster(_ name: String) -> Duration? {
        transitions.last { $0.node == name && $0.to == .master }?.at
    }

    // MARK: - Internals

    private func index(_ name: String) -> Int {
        guard let i = nodes.firstIndex(where: { $0.name == name }) else {
            preconditionFailure("no router named \(name) in this simulation")
        }
        return i
    }

    private func log(_ i: Int, _ text: String) {
        timeline.append(TimelineEntry(at: now, node: nodes[i].name, text: text))
    }

    private func handle(_ event: Event) {
        switch event {
        case .timer(let i, let timer, let generation):
            guard nodes[i].running, nodes[i].timerGeneration[timer] == generation else { return }
            nodes[i].timerGeneration[timer] = nil
            let cause = timer == .masterDown ? "Master_Down_Timer expired" : "\(timer) timer"
            apply(nodes[i].router.handle(.timerFired(timer)), to: i, cause: cause)
        case .arrival(let i, let packet):
            guard nodes[i].running else { return }
            nodes[i].deliveredToMe += 1
            deliveredPackets += 1
            let (outputs, rejection) = nodes[i].router.receive(packet)
            if let rejection { log(i, "dropped packet from \(packet.source): \(rejection)") }
            let priority = packet.payload.count > 2 ? packet.payload[2] : 0
            apply(outputs, to: i, cause: "heard priority \(priority) from \(packet.source)")
        }
    }

    private func apply(_ outputs: [VirtualRouter.Output], to i: Int, cause: String) {
        for output in outputs {
            switch output {
            case .send(let advertisement):
                transmit(advertisement, from: i)
            case .armTimer(let timer, let after):
                let generation = nextGeneration
                nextGeneration += 1
                nodes[i].timerGeneration[timer] = generation
                queue.schedule(.timer(node: i, timer: timer, generation: generation), after: after)
            case .cancelTimer(let timer):
                nodes[i].timerGeneration[timer] = nil
            case .transition(let from, let to):
                transitions.append(RecordedTransition(at: now, node: nodes[i].name, from: from, to: to))
                let vips = to == .master ? " (adds \(nodes[i].configuration.virtualAddresses.map(\.description).joined(separator: ",")))" : ""
                log(i, "\(from) -> \(to): \(cause)\(vips)")
            }
        }
    }

    private func transmit(_ advertisement: VRRPAdvertisement, from i: Int) {
        nodes[i].lastAdvertisementSent = now
        if advertisement.priority == 0 { log(i, "sends priority 0") }
        if let budget = dropBudget[i], budget > 0 {
            dropBudget[i] = budget - 1
            return
        }
        let source = nodes[i].address
        var receivers: [(node: Int, destination: IPv4Address)] = []
        if let peers = nodes[i].configuration.unicastPeers {
            for peer in peers {
                if let j = nodes.firstIndex(where: { $0.address == peer }) { receivers.append((j, peer)) }
            }
        } else if !dropsMulticast {
            for j in nodes.indices where j != i { receivers.append((j, .vrrpMulticastGroup)) }
        }
        for (j, destination) in receivers where !cutLinks.contains([i, j].sorted()) {
            let pseudo = PseudoHeader(source: source, destination: destination)
            guard let payload = try? advertisement.encoded(pseudoHeader: pseudo) else {
                log(i, "cannot encode \(advertisement)")
                continue
            }
            let packet = ReceivedPacket(payload: payload, source: source, destination: destination, timeToLive: 255)
            queue.schedule(.arrival(node: j, packet: packet), after: latency)
        }
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
