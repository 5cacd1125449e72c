/// The soak's invariants over what the cluster is seen doing (each node's VRRP state,
/// sampled every 50 ms) and what the schedule did to it. A value fed in time order, so
/// the rules can be tested on made-up timelines.
///
/// The rules, with the bounds derived from VRRP's timers:
/// - **Heal**: once no fault is active and every daemon answers, there is exactly one
///   MASTER within `convergenceBound` = Master_Down_Interval (of the lowest priority, the
///   longest) + one advertisement interval + `slack`. A node restarted at the heal starts
///   as BACKUP and waits Master_Down_Interval; two MASTERs after a partition settle on the
///   first advertisement heard; a preempting node waits its Master_Down_Interval and its
///   first advertisement moves the old MASTER; so the worst case is the sum.
/// - **Quiet**: after that, while no fault is active, any moment without exactly one
///   MASTER (a preemption's hand-over) lasts at most one advertisement interval + `slack`.
/// - **Alive**: outside its own process faults, every daemon answers status within
///   `answerBound`, and none exits unless the schedule stopped it.
/// - **Route** (with `ec2_route_failover`): once written, the VIP's route is never
///   missing; while quiet and converged it points at the MASTER's instance, or comes to
///   within `routeBound` = one refresh (1 s) + one API timeout (1 s) + 0.5 s: a new MASTER
///   writes at once, and a write that fails is retried by the next refresh. Faults or not,
///   while some node is MASTER and the API answers, it points at a MASTER within
///   `takeoverRouteBound`.
/// `slack` covers the 50 ms sampling, process scheduling and the status round trip.
public struct SoakChecker: Sendable {
    public struct Settings: Sendable, Hashable {
        public var advertInterval: Double
        public var masterDownInterval: Double
        public var slack: Double
        public var answerBound: Double
        public init(advertInterval: Double, lowestPriority: Int, slack: Double = 0.3, answerBound: Double = 2) {
            self.advertInterval = advertInterval
            // RFC 5798: 3 × Advertisement_Interval + Skew_Time, Skew_Time = (256 - Priority) / 256 × interval.
            masterDownInterval = 3 * advertInterval + Double(256 - lowestPriority) / 256 * advertInterval
            self.slack = slack
            self.answerBound = answerBound
        }
        public var convergenceBound: Double { masterDownInterval + advertInterval + slack }
        public var routeBound = 2.5
        /// A MASTER's takeover plus its write: Master_Down_Interval + one interval + `routeBound`.
        public var takeoverRouteBound: Double { masterDownInterval + advertInterval + routeBound }
        public var handOverBound: Double { advertInterval + slack }
        /// The client's longest gap between answers outside the recovery after a fault:
        /// two requests in a row lost (one to a web server on its way out of the
        /// rotation, and its timeout) plus `slack`. Set from the client's interval and
        /// timeout by the runner.
        public var clientGapBound = 2.5
        /// After the last fault that moves VRRP or stops the API: a takeover and its route
        /// write, and one request's timeout (1 s).
        public var clientRecovery: Double { takeoverRouteBound + 1 }
    }

    public struct Violation: Sendable, Hashable, Codable, CustomStringConvertible {
        public var time: Double
        public var what: String
        public var description: String { "\(String(format: "%.2f", time)) s: \(what)" }
    }

    public private(set) var settings: Settings
    public let nodes: Int
    public private(set) var violations: [Violation] = []
    /// Samples checked against a rule (every sample outside a fault counts once).
    public private(set) var checks = 0
    /// Heals seen converged, and the longest time one took.
    public private(set) var heals = 0
    public private(set) var worstConvergence = 0.0

    private var active: [Int: FaultSchedule.Fault] = [:]
    /// When the current quiet period's heal began (no fault, every daemon answering);
    /// nil while a fault is active or a daemon has not answered since.
    private var healStart: Double?
    private var converged = false
    private var reportedThisHeal = false
    /// Since when the quiet cluster has not had exactly one MASTER.
    private var anomalySince: Double?
    private var anomalyReported = false
    /// Since when each node has not answered, outside its own process faults.
    private var silentSince: [Int: Double] = [:]
    private var silentReported: Set<Int> = []
    /// Route samples checked, and since when the route has not pointed at the MASTER.
    public private(set) var routeChecks = 0
    private var routeSeen = false
    private var routeMissingReported = false
    private var routeWrongSince: Double?
    private var routeWrongReported = false
    private var routeAwaySince: Double?
    private var routeAwayReported = false
    private var daemonStartedWithoutIMDS = false
    /// The client (with load balancing): requests, answers, the longest gap between
    /// answers, and the longest outside a fault's recovery.
    public private(set) var clientRequests = 0
    public private(set) var clientAnswers = 0
    public private(set) var longestClientGap = 0.0
    public private(set) var longestQuietClientGap = 0.0
    private var lastAnswer: Double?
    private var lastDisturbance = 0.0
    private var clientGapReported = false

    public init(settings: Settings, nodes: Int) {
        self.settings = settings
        self.nodes = nodes
    }

    public mutating func faultStarted(_ fault: FaultSchedule.Fault, at time: Double) {
        active[fault.id] = fault
        if fault.kind == .imdsDown { daemonStartedWithoutIMDS = false }
        guard fault.kind.disturbsVRRP else { return }
        healStart = nil
        converged = false
        anomalySince = nil
    }

    public mutating func faultEnded(_ fault: FaultSchedule.Fault, at time: Double) {
        if fault.kind.disturbsVRRP || apiStopped { lastDisturbance = time }
        active[fault.id] = nil
        if fault.kind.holdsProcess { silentSince[fault.node] = nil }
        // A daemon started while IMDS is down has no credentials until it is back.
        if [.kill, .stop].contains(fault.kind), active.values.contains(where: { $0.kind == .imdsDown }) {
            daemonStartedWithoutIMDS = true
        }
    }

    /// Faults that can move VRRP states: the heal and quiet rules wait for none.
    private var vrrpQuiet: Bool { !active.values.contains { $0.kind.disturbsVRRP } }

    /// No route can be written: the API refuses every call, or IMDS is down and a daemon
    /// started since has no credentials.
    private var apiStopped: Bool {
        active.values.contains { $0.kind.stopsTheAPI || ($0.kind == .imdsDown && daemonStartedWithoutIMDS) }
    }

    /// A violation found outside the samples (the EC2 lab's log of writes).
    public mutating func record(_ violation: Violation) { violations.append(violation) }

    /// A daemon exited that the schedule did not stop.
    public mutating func unexpectedExit(node: Int, at time: Double, status: String) {
        violations.append(Violation(time: time, what: "n\(node + 1)'s daemon exited unscheduled (\(status))"))
    }

    /// Each node's state at `time` (nil: its daemon did not answer).
    public mutating func sample(at time: Double, states: [String?]) {
        checkAnswers(at: time, states)
        guard vrrpQuiet else { return }
        guard states.allSatisfy({ $0 != nil }) else {
            // Not yet healed: a restarted daemon is still starting.
            healStart = nil
            return
        }
        checks += 1
        let masters = states.filter { $0 == "MASTER" }.count
        if healStart == nil {
            healStart = time
            converged = false
            reportedThisHeal = false
        }
        guard let start = healStart else { return }
        if !converged {
            if masters == 1 {
                converged = true
                heals += 1
                worstConvergence = max(worstConvergence, time - start)
                anomalySince = nil
            } else if time - start > settings.convergenceBound && !reportedThisHeal {
                reportedThisHeal = true
                violations.append(Violation(time: time, what: "\(masters) MASTERs \(String(format: "%.2f", time - start)) s after the heal (bound \(String(format: "%.2f", settings.convergenceBound)) s): \(Self.describe(states))"))
            }
            return
        }
        if masters == 1 {
            anomalySince = nil
            anomalyReported = false
            return
        }
        let since = anomalySince ?? time
        anomalySince = since
        if time - since > settings.handOverBound && !anomalyReported {
            anomalyReported = true
            violations.append(Violation(time: time, what: "\(masters) MASTERs for \(String(format: "%.2f", time - since)) s with no fault active (bound \(String(format: "%.2f", settings.handOverBound)) s): \(Self.describe(states))"))
        }
    }

    /// The VIP's route target at `time` (nil: no route), and the instances of the nodes
    /// that were MASTER in the last sample.
    public mutating func route(at time: Double, target: String?, masters: Set<String>) {
        routeChecks += 1
        guard let target else {
            if routeSeen && !routeMissingReported {
                routeMissingReported = true
                violations.append(Violation(time: time, what: "the VIP's route is missing"))
            }
            return
        }
        routeSeen = true
        routeMissingReported = false
        // Quiet and converged: at the one MASTER within routeBound.
        if vrrpQuiet, !apiStopped, converged, masters.count == 1, let master = masters.first, target != master {
            let since = routeWrongSince ?? time
            routeWrongSince = since
            if time - since > settings.routeBound && !routeWrongReported {
                routeWrongReported = true
                violations.append(Violation(time: time, what: "the route points at \(target), not the MASTER's \(master), for \(String(format: "%.2f", time - since)) s (bound \(String(format: "%.2f", settings.routeBound)) s)"))
            }
        } else {
            routeWrongSince = nil
            routeWrongReported = false
        }
        // Faults or not: at some MASTER within takeoverRouteBound, while there is one and
        // the API works (a partition's MASTERs take turns; a dead MASTER's route waits
        // for the next MASTER's Master_Down_Interval and its write).
        if !masters.isEmpty, !apiStopped, !masters.contains(target) {
            let since = routeAwaySince ?? time
            routeAwaySince = since
            if time - since > settings.takeoverRouteBound && !routeAwayReported {
                routeAwayReported = true
                violations.append(Violation(time: time, what: "the route points at \(target), which is not MASTER, for \(String(format: "%.2f", time - since)) s while \(masters.sorted().joined(separator: ",")) \(masters.count == 1 ? "is" : "are") (bound \(String(format: "%.2f", settings.takeoverRouteBound)) s)"))
            }
        } else {
            routeAwaySince = nil
            routeAwayReported = false
        }
    }

    public mutating func setClientGapBound(_ bound: Double) {
        var changed = settings
        changed.clientGapBound = bound
        settings = changed
    }

    /// One request of the client to the VIP, at `time` (when its answer or timeout came).
    /// After the recovery from the last fault that moves VRRP or stops the API, answers
    /// may be no further apart than `clientGapBound`; web servers' faults get no
    /// recovery: the other server answers.
    public mutating func client(at time: Double, answered: Bool) {
        clientRequests += 1
        if !vrrpQuiet || apiStopped { lastDisturbance = time }
        let recovered = lastDisturbance + settings.clientRecovery
        if answered {
            clientAnswers += 1
            if let last = lastAnswer {
                longestClientGap = max(longestClientGap, time - last)
                if time > recovered { longestQuietClientGap = max(longestQuietClientGap, time - max(last, recovered)) }
            }
            lastAnswer = time
            clientGapReported = false
            return
        }
        guard let last = lastAnswer, time > recovered, !clientGapReported else { return }
        let gap = time - max(last, recovered)
        if gap > settings.clientGapBound {
            clientGapReported = true
            violations.append(Violation(time: time, what: "the client has had no answer for \(String(format: "%.2f", time - last)) s, \(String(format: "%.2f", gap)) s past the recovery from the last fault (bound \(String(format: "%.2f", settings.clientGapBound)) s)"))
        }
    }

    /// At the end of the run: a heal not yet converged is a violation.
    public mutating func finish(at time: Double) {
        if vrrpQuiet, let start = healStart, !converged, !reportedThisHeal, time - start > settings.convergenceBound {
            violations.append(Violation(time: time, what: "no single MASTER at the end, \(String(format: "%.2f", time - start)) s after the heal"))
        }
        if vrrpQuiet && healStart == nil {
            violations.append(Violation(time: time, what: "the run ended with a daemon not answering"))
        }
    }

    private mutating func checkAnswers(at time: Double, _ states: [String?]) {
        let paused = Set(active.values.filter { $0.kind.holdsProcess }.map(\.node))
        for (node, state) in states.enumerated() {
            guard state == nil, !paused.contains(node) else {
                silentSince[node] = nil
                silentReported.remove(node)
                continue
            }
            let since = silentSince[node] ?? time
            silentSince[node] = since
            if time - since > settings.answerBound && !silentReported.contains(node) {
                silentReported.insert(node)
                violations.append(Violation(time: time, what: "n\(node + 1) has not answered status for \(String(format: "%.2f", time - since)) s outside its own faults"))
            }
        }
    }

    /// A node as one sample saw it.
    public struct Observation: Sendable, Hashable {
        public var state: String?
        /// The daemon's count of transitions to MASTER.
        public var becameMaster: Int?
        public init(state: String?, becameMaster: Int?) {
            self.state = state
            self.becameMaster = becameMaster
        }
    }

    /// Route writes (ReplaceRoute, CreateRoute) made by a node that was not MASTER at any
    /// time in the `window` before the write reached the API (a request sent as MASTER
    /// may arrive late: held by a link that went down, retransmitted, up to the API
    /// timeout), judged by the samples from `window` + `margin` before it to `margin`
    /// after it: each shows the node BACKUP and its count of transitions to MASTER stays
    /// the same (a MASTER for less than a sample shows in the count).
    public static func backupWrites(_ writes: [(time: Double, node: Int)], log: [(time: Double, observed: [Observation])],
                                    window: Double = 1, margin: Double = 0.1) -> [Violation] {
        writes.compactMap { write in
            guard let first = log.lastIndex(where: { $0.time <= write.time - window - margin }),
                  let last = log.firstIndex(where: { $0.time >= write.time + margin }) else { return nil }
            let seen = log[first...last].compactMap { $0.observed.indices.contains(write.node) ? $0.observed[write.node] : nil }
            guard seen.count == last - first + 1, seen.allSatisfy({ $0.state == "BACKUP" }),
                  let count = seen.first?.becameMaster, seen.allSatisfy({ $0.becameMaster == count }) else { return nil }
            return Violation(time: write.time, what: "n\(write.node + 1) wrote the route while BACKUP (BACKUP from \(String(format: "%.2f", log[first].time)) to \(String(format: "%.2f", log[last].time)) s, MASTER \(count) times so far)")
        }
    }

    static func describe(_ states: [String?]) -> String {
        states.enumerated().map { "n\($0.offset + 1) \($0.element ?? "?")" }.joined(separator: ", ")
    }
}
