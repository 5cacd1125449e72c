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
///   writes at once, and a write that fails is retried by the next refresh.
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
        public var handOverBound: Double { advertInterval + slack }
    }

    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        public var time: Double
        public var what: String
        public var description: String { "\(String(format: "%.2f", time)) s: \(what)" }
    }

    public let settings: Settings
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

    public init(settings: Settings, nodes: Int) {
        self.settings = settings
        self.nodes = nodes
    }

    public mutating func faultStarted(_ fault: FaultSchedule.Fault, at time: Double) {
        active[fault.id] = fault
        healStart = nil
        converged = false
        anomalySince = nil
    }

    public mutating func faultEnded(_ fault: FaultSchedule.Fault, at time: Double) {
        active[fault.id] = nil
        if fault.kind.resource == .process { silentSince[fault.node] = nil }
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
        guard active.isEmpty else { return }
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

    /// The VIP's route target at `time` (nil: no route), and the instance of the single
    /// MASTER of the last sample (nil: not exactly one).
    public mutating func route(at time: Double, target: String?, expected: String?) {
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
        guard active.isEmpty, converged, let expected, target != expected else {
            routeWrongSince = nil
            routeWrongReported = false
            return
        }
        let since = routeWrongSince ?? time
        routeWrongSince = since
        if time - since > settings.routeBound && !routeWrongReported {
            routeWrongReported = true
            violations.append(Violation(time: time, what: "the route points at \(target), not the MASTER's \(expected), for \(String(format: "%.2f", time - since)) s (bound \(String(format: "%.2f", settings.routeBound)) s)"))
        }
    }

    /// At the end of the run: a heal not yet converged is a violation.
    public mutating func finish(at time: Double) {
        if active.isEmpty, let start = healStart, !converged, !reportedThisHeal, time - start > settings.convergenceBound {
            violations.append(Violation(time: time, what: "no single MASTER at the end, \(String(format: "%.2f", time - start)) s after the heal"))
        }
        if active.isEmpty && healStart == nil {
            violations.append(Violation(time: time, what: "the run ended with a daemon not answering"))
        }
    }

    private mutating func checkAnswers(at time: Double, _ states: [String?]) {
        let paused = Set(active.values.filter { $0.kind.resource == .process }.map(\.node))
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

    /// Route writes (ReplaceRoute, CreateRoute) made by a node that was BACKUP all along:
    /// the last sample at least `margin` before the write and the first at least `margin`
    /// after it both show it BACKUP, and it did not become MASTER in between (a MASTER for
    /// less than a sample, whose write started as MASTER, shows in its count). `log` is
    /// the samples in time order.
    public static func backupWrites(_ writes: [(time: Double, node: Int)], log: [(time: Double, observed: [Observation])],
                                    margin: Double = 0.1) -> [Violation] {
        writes.compactMap { write in
            guard let before = log.last(where: { $0.time <= write.time - margin }),
                  let after = log.first(where: { $0.time >= write.time + margin }),
                  before.observed.indices.contains(write.node), after.observed.indices.contains(write.node) else { return nil }
            let (b, a) = (before.observed[write.node], after.observed[write.node])
            guard b.state == "BACKUP", a.state == "BACKUP", let countBefore = b.becameMaster, let countAfter = a.becameMaster,
                  countAfter == countBefore else { return nil }
            return Violation(time: write.time, what: "n\(write.node + 1) wrote the route while BACKUP (BACKUP at \(String(format: "%.2f", before.time)) and \(String(format: "%.2f", after.time)) s, MASTER \(countBefore) times so far)")
        }
    }

    static func describe(_ states: [String?]) -> String {
        states.enumerated().map { "n\($0.offset + 1) \($0.element ?? "?")" }.joined(separator: ", ")
    }
}
