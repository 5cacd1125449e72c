/// What the soak does to a cluster, drawn from a seed: faults with random start, length
/// and target, arriving as a Poisson stream so that they overlap (a reload during a
/// partition, a kill while a link flaps). A value: the runner carries it out, the checker
/// reads it, and `--seed N` draws the same one again.
public struct FaultSchedule: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable, Codable, CodingKeyRepresentable {
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
        /// Every EC2 call held `level` milliseconds (less than the API timeout), then
        /// answered: a slow API, not a failing one.
        case apiSlow = "api-slow"
        /// The lab's IMDS holds every request, then drops it: the daemons must go on with
        /// the role credentials they hold.
        case imdsDown = "imds-down"
        /// Every role credential handed out so far expires at once: the next call is
        /// refused (ExpiredToken) and the daemon must fetch fresh ones from IMDS.
        case credentialsExpire = "credentials-expire"
        /// `level` percent of the node's frames dropped both ways on its switch port
        /// (nftables `numgen`, counted), the carrier up.
        case loss
        /// Bad VRRP packets (every reason a receive check has) sent at the node by a
        /// stranger on the VPC, 5,000 a second: each must be counted under its reason.
        case flood

        /// netem on the node's link (the kernel-tier VM's kernel has it, this host's has
        /// not): every frame it sends delayed `level` ms (± half that), a quarter of them
        /// reordered; or `level` percent of them duplicated.
        case delay
        case duplicate
        /// The wall clock stepped by `level` seconds (either way), stepped back at the end:
        /// the daemons time everything on the monotonic clock, and HMAC's replay window
        /// must not cut a running pair apart. The clock is the machine's own, so only in
        /// the kernel-tier VM.
        case clockStep = "clock-step"

        /// One of the web servers behind the VIP (`node` is its index) refuses every
        /// connection (a TCP reset, the port closed: nftables in its namespace), or hangs
        /// (SIGSTOP: connections accepted by the kernel, never answered); back at the end.
        /// One at a time, so one server always serves.
        case webDown = "web-down"
        case webHang = "web-hang"

        /// Kinds that need the kernel-tier VM (netem, a clock of the run's own).
        public static let vmOnly: [Kind] = [.delay, .duplicate, .clockStep]
        /// Kinds on the web servers (only in a soak with load balancing, which needs IPVS).
        public static let web: [Kind] = [.webDown, .webHang]

        /// The EC2 API's and IMDS's faults (the runner draws them only with route failover on).
        public static let api: [Kind] = [.apiThrottle, .apiError, .apiUnavailable, .apiHang, .apiSlow, .imdsDown, .credentialsExpire]

        /// The API refuses or drops every call while this is on: no route can be written.
        /// (Slow calls still land, IMDS down leaves the credentials a node holds, and
        /// expired ones are replaced at once.)
        public var stopsTheAPI: Bool { [.apiThrottle, .apiError, .apiUnavailable, .apiHang].contains(self) }

        /// Which resources a fault holds, so two that would undo each other never overlap:
        /// one process fault per node, one isolation at a time (port isolation flags
        /// compose into a bigger cut), one link fault per node, one API fault at a time.
        /// A flood holds its node's process and link, so that what the node counts can be
        /// matched to what was sent.
        var resources: [Resource] {
            switch self {
            case .kill, .pause, .stop, .reloadUnchanged, .reloadPriority, .reloadBroken, .reloadPeerRemoved: [.process]
            case .partition, .cutPair: [.isolation]
            case .linkDown, .linkFlap, .loss, .delay, .duplicate: [.link]
            case .clockStep: [.clock]
            case .webDown, .webHang: [.web]
            case .apiThrottle, .apiError, .apiUnavailable, .apiHang, .apiSlow, .imdsDown, .credentialsExpire: [.api]
            case .flood: [.process, .link]
            }
        }

        /// The fault can move VRRP states (everything but the API's faults and floods:
        /// neither may change who is MASTER, so the state rules stay on through them).
        public var disturbsVRRP: Bool { !Self.api.contains(self) && !Self.web.contains(self) && self != .flood && self != .clockStep }

        /// The fault stops or restarts the node's daemon, or changes what it runs.
        var holdsProcess: Bool { resources.contains(.process) && self != .flood }

        /// Drawn for this kind: loss's and duplicate's percentage, api-slow's and delay's
        /// milliseconds, clock-step's seconds.
        var levels: ClosedRange<Int>? {
            switch self {
            case .loss: 10...60
            case .apiSlow: 200...700
            case .delay: 20...200
            case .duplicate: 5...50
            case .clockStep: -120...120
            default: nil
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
            case .apiThrottle, .apiError, .apiUnavailable, .apiHang, .apiSlow, .imdsDown: 1...6
            case .credentialsExpire: 0.1...1
            case .loss, .delay, .duplicate: 1...6
            case .flood: 1...4
            case .clockStep: 1...10
            case .webDown, .webHang: 1...8
            }
        }
    }

    enum Resource: Hashable { case process, isolation, link, api, clock, web }

    public struct Fault: Sendable, Hashable, Codable {
        public var id: Int
        public var kind: Kind
        public var start: Double
        public var end: Double
        public var node: Int
        /// cut-pair's other node.
        public var peer: Int?
        /// loss's and duplicate's percentage, api-slow's and delay's milliseconds, clock-step's seconds.
        public var level: Int?
        public init(id: Int, kind: Kind, start: Double, end: Double, node: Int, peer: Int? = nil, level: Int? = nil) {
            self.id = id
            self.kind = kind
            self.start = start
            self.end = end
            self.node = node
            self.peer = peer
            self.level = level
        }
        public var description: String {
            "#\(id) \(kind.rawValue) \(Kind.web.contains(kind) ? "w" : "n")\(node + 1)" + (peer.map { "-n\($0 + 1)" } ?? "")
                + (level.map { [.loss, .duplicate].contains(kind) ? " \($0)%" : kind == .clockStep ? " \($0 > 0 ? "+" : "")\($0) s" : " \($0) ms" } ?? "")
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
    /// `steadyNode`'s daemon is never killed or stopped (it gets every other fault), so
    /// that it lives the whole run and its resources can be judged over a long life.
    public init(seed: UInt64, duration: Double, nodes: Int, kinds: [Kind] = Kind.allCases, meanGap: Double = 1.5,
                quietTail: Double = 5, steadyNode: Int? = nil) {
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
                // A web server's fault names the server (of two), not a balancer.
                let node = Int.random(in: 0..<(Kind.web.contains(kind) ? 2 : nodes), using: &random)
                if kind == .cutPair && nodes < 2 { continue }
                if [.kill, .stop].contains(kind) && node == steadyNode { continue }
                var peer: Int?
                if kind == .cutPair {
                    let others = (0..<nodes).filter { $0 != node }
                    peer = others.randomElement(using: &random)
                }
                let keys = kind.resources.map { Self.key($0, node) }
                guard keys.allSatisfy({ busyUntil[$0] ?? 0 <= time }) else { continue }
                let end = min(last, time + random.seconds(kind.durations))
                for key in keys { busyUntil[key] = end }
                let level = kind.levels.map { Int.random(in: $0, using: &random) }
                faults.append(Fault(id: faults.count + 1, kind: kind, start: time, end: end, node: node, peer: peer, level: level))
                break
            }
            time += random.gap(mean: meanGap)
        }
        self.faults = faults
    }

    static func key(_ resource: Resource, _ node: Int) -> String {
        [.isolation, .api, .clock, .web].contains(resource) ? "\(resource)" : "\(resource) \(node)"
    }

    /// How many faults of each kind.
    public var counts: [Kind: Int] { faults.reduce(into: [:]) { $0[$1.kind, default: 0] += 1 } }

    /// The faults active at `time`.
    public func active(at time: Double) -> [Fault] { faults.filter { $0.start <= time && time < $0.end } }
}
