/// What the soak does to a cluster, drawn from a seed: faults with random start, length
/// and target, arriving as a Poisson stream so that they overlap (a reload during a
/// partition, a kill while a link flaps). A value: the runner carries it out, the checker
/// reads it, and `--seed N` draws the same one again.
public struct FaultSchedule: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable {
        /// kill -9, restarted at the end.
        case kill
        /// SIGSTOP, SIGCONT at the end: a stalled VM.
        case pause
        /// SIGTERM, restarted at the end.
        case stop
        /// SIGHUP with the file unchanged.
        case reloadUnchanged = "reload-unchanged"
        /// SIGHUP with the node's priority changed; the file goes back (SIGHUP) at the end.
        case reloadPriority = "reload-priority"
        /// SIGHUP with a file that does not parse; the good file is back at the end.
        case reloadBroken = "reload-broken"
        /// SIGHUP with one peer removed from the node's list; put back at the end.
        case reloadPeerRemoved = "reload-peer-removed"
        /// Every node cut from every other (bridge port isolation), carriers up.
        case partition
        /// `node` cut from `peer` only; both still reach the third.
        case cutPair = "cut-pair"
        /// The node's link down (carrier lost), up at the end.
        case linkDown = "link-down"
        /// The node's link down and up every `flapPeriod` seconds.
        case linkFlap = "link-flap"
        /// The EC2 API (the lab's proxy in front of moto) answers every call with
        /// RequestLimitExceeded, a 500 InternalError, a bare 503, or not at all (the
        /// connection held, then dropped).
        case apiThrottle = "api-throttle"
        case apiError = "api-500"
        case apiUnavailable = "api-503"
        case apiHang = "api-hang"

        /// The EC2 API's faults (the runner draws them only with route failover on).
        public static let api: [Kind] = [.apiThrottle, .apiError, .apiUnavailable, .apiHang]

        /// Which resource a fault holds, so two that would undo each other never overlap:
        /// one process fault per node, one isolation at a time (port isolation flags
        /// compose into a bigger cut), one link fault per node, one API fault at a time.
        var resource: Resource {
            switch self {
            case .kill, .pause, .stop, .reloadUnchanged, .reloadPriority, .reloadBroken, .reloadPeerRemoved: .process
            case .partition, .cutPair: .isolation
            case .linkDown, .linkFlap: .link
            case .apiThrottle, .apiError, .apiUnavailable, .apiHang: .api
            }
        }

        /// How long it lasts, in seconds (the instant reload still holds its node a moment).
        var durations: ClosedRange<Double> {
            switch self {
            case .kill, .stop: 0.2...4
            case .pause: 0.2...3
            case .reloadUnchanged, .reloadBroken: 0.1...1
            case .reloadPriority, .reloadPeerRemoved: 0.5...6
            case .partition, .cutPair: 0.3...5
            case .linkDown: 0.3...4
            case .linkFlap: 1...4
            case .apiThrottle, .apiError, .apiUnavailable, .apiHang: 1...6
            }
        }
    }

    enum Resource: Hashable { case process, isolation, link, api }

    public struct Fault: Sendable, Hashable, Codable {
        public var id: Int
        public var kind: Kind
        public var start: Double
        public var end: Double
        public var node: Int
        /// cut-pair's other node.
        public var peer: Int?
        public init(id: Int, kind: Kind, start: Double, end: Double, node: Int, peer: Int? = nil) {
            self.id = id
            self.kind = kind
            self.start = start
            self.end = end
            self.node = node
            self.peer = peer
        }
        public var description: String {
            "#\(id) \(kind.rawValue) n\(node + 1)" + (peer.map { "-n\($0 + 1)" } ?? "")
                + " \(String(format: "%.2f", start))-\(String(format: "%.2f", end)) s"
        }
    }

    public var seed: UInt64
    public var duration: Double
    public var faults: [Fault]

    /// link-flap's half period.
    public static let flapPeriod = 0.3

    /// Draws faults for `duration` seconds over `nodes` nodes, one every `meanGap` seconds
    /// on average, of `kinds`. A fault whose resource is held at its start is drawn again
    /// on another node or kind (a few tries), else skipped. The last `quietTail` seconds
    /// get no fault, so every run ends healed and is checked converged.
    public init(seed: UInt64, duration: Double, nodes: Int, kinds: [Kind] = Kind.allCases, meanGap: Double = 1.5,
                quietTail: Double = 5) {
        self.seed = seed
        self.duration = duration
        var random = SoakRandom(seed: seed)
        var faults: [Fault] = []
        var busyUntil: [String: Double] = [:]
        var time = random.gap(mean: meanGap)
        let last = duration - quietTail
        while time < last, !kinds.isEmpty, nodes > 0 {
            for _ in 0..<4 {
                guard let kind = kinds.randomElement(using: &random) else { break }
                let node = Int.random(in: 0..<nodes, using: &random)
                if kind == .cutPair && nodes < 2 { continue }
                var peer: Int?
                if kind == .cutPair {
                    let others = (0..<nodes).filter { $0 != node }
                    peer = others.randomElement(using: &random)
                }
                let key = Self.key(kind.resource, node)
                guard busyUntil[key] ?? 0 <= time else { continue }
                let end = min(last, time + random.seconds(kind.durations))
                busyUntil[key] = end
                faults.append(Fault(id: faults.count + 1, kind: kind, start: time, end: end, node: node, peer: peer))
                break
            }
            time += random.gap(mean: meanGap)
        }
        self.faults = faults
    }

    static func key(_ resource: Resource, _ node: Int) -> String {
        resource == .isolation || resource == .api ? "\(resource)" : "\(resource) \(node)"
    }

    /// How many faults of each kind.
    public var counts: [Kind: Int] { faults.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 } }

    /// The faults active at `time`.
    public func active(at time: Double) -> [Fault] { faults.filter { $0.start <= time && time < $0.end } }
}
