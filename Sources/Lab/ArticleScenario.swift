import Foundation
import HTTPClient
#if canImport(Glibc)
import Glibc
#endif

/// One line of the scenario's timeline.
public struct TimelineEvent: Sendable {
    /// Seconds since the scenario started.
    public var seconds: Double
    /// Who: lvs1, lvs2, route, client, web2, lab...
    public var actor: String
    public var text: String

    public var line: String { String(format: "%8.3fs  %-7@ %@", seconds, actor as NSString, text as NSString) }
}

/// What one run of the article's scenario measured. Durations in seconds; nil when the
/// step did not happen within its bound (then `problems` says which and why).
public struct ScenarioReport: Sendable {
    public var transport: String
    public var nopreempt: Bool
    public var answersAtStart: Set<String> = []
    /// kill -9 of the MASTER to the backup in MASTER state.
    public var takeover: Double?
    /// kill -9 to the route pointing at the backup (read from moto).
    public var routeMoved: Double?
    /// The longest time the client went without an answer around the failover.
    public var clientGap: Double?
    public var answersAfterFailover: Set<String> = []
    /// Who was MASTER, and where the route pointed, after the old MASTER came back.
    public var masterAfterReturn: String?
    public var routeAfterReturn: String?
    /// A web server stopped to it leaving the rotation, and restarted to it coming back.
    public var webRemoved: Double?
    public var answersWithoutWeb2: Set<String> = []
    public var webRestored: Double?
    public var answersAtEnd: Set<String> = []
    public var problems: [String] = []
    public var timeline: [TimelineEvent] = []
}

/// The article's whole setup, run the way a user deploys it, for one transport: the
/// client fetches from the VIP all along; the MASTER is killed and the backup takes
/// over with the route; the old MASTER returns and preempts (or not, with nopreempt);
/// a web server is stopped and restored. Every step waits on what can be observed
/// (daemon status, the route in moto, the client's answers) with a bound, and the
/// timeline records when each thing happened.
public final class ArticleScenario: @unchecked Sendable {
    public let bed: ArticleLab
    private let emit: @Sendable (TimelineEvent) -> Void
    private let start = Date()
    private let lock = NSLock()
    private var events: [TimelineEvent] = []

    // What the watcher last saw.
    private var states: [String?] = [nil, nil]
    /// When each daemon entered its current state, by its own clock (status secondsInState).
    private var stateSince: [Double] = [0, 0]
    private var routeOwner: String?
    private var realServers: [String: Bool] = [:]
    private var answers: [(time: Double, body: String?)] = []
    private var running = true

    public init(bed: ArticleLab, emit: @escaping @Sendable (TimelineEvent) -> Void = { _ in }) {
        self.bed = bed
        self.emit = emit
    }

    var now: Double { Date().timeIntervalSince(start) }

    func note(_ actor: String, _ text: String, at seconds: Double? = nil) {
        let event = TimelineEvent(seconds: seconds ?? now, actor: actor, text: text)
        lock.withLock { events.append(event) }
        emit(event)
    }

    private func snapshot<T>(_ body: (ArticleScenario) -> T) -> T { lock.withLock { body(self) } }

    /// Answers the client got since `time`.
    func answered(since time: Double) -> [String] {
        snapshot { $0.answers.filter { $0.time >= time }.compactMap(\.body) }
    }

    /// Waits until the client got `wanted` (a set of web servers) within one window of
    /// the last `window` answers, up to `timeout`.
    func waitForAnswers(_ wanted: Set<String>, timeout: Double) -> Bool {
        waitUntil(timeout: timeout, interval: 0.1) {
            let recent = snapshot { Array($0.answers.suffix(8)) }
            return Set(recent.compactMap(\.body)) == wanted && recent.suffix(4).allSatisfy { $0.body != nil }
        }
    }

    public func run(transport: String, nopreempt: Bool = false) -> ScenarioReport {
        var report = ScenarioReport(transport: transport, nopreempt: nopreempt)
        let watcher = Thread { [self] in watch() }
        let client = Thread { [self] in fetchLoop() }
        watcher.start()
        client.start()
        defer {
            lock.withLock { running = false }
            usleep(300_000)
            report.timeline = snapshot { $0.events }
        }
        do { try steps(transport: transport, nopreempt: nopreempt, &report) } catch {
            report.problems.append("\(error)")
        }
        return report
    }

    private func steps(transport: String, nopreempt: Bool, _ report: inout ScenarioReport) throws {
        let mdi = ArticleLab.masterDownInterval
        func fail(_ what: String) { report.problems.append(what); note("lab", "FAILED: \(what)") }

        guard bed.waitForWebServers(timeout: 120) else { return fail("the web servers did not start") }
        note("lab", "transport \(transport)\(nopreempt ? ", nopreempt" : ""): starting lvs1 (priority 101) and lvs2 (100)")
        var first = try bed.lab.startOvercast(bed.lvs[0], config: bed.configuration(0, transport: transport, nopreempt: nopreempt),
                                              tag: "-\(transport)", environment: EC2Lab.environment)
        if nopreempt {
            // Both start as BACKUP and nobody preempts: whoever's Master_Down_Interval
            // ends first stays MASTER, so lvs1 must be MASTER before lvs2 starts.
            guard waitUntil(timeout: 120, interval: 0.2, { snapshot { $0.states[0] == "MASTER" } }) else {
                first.stop(signal: SIGTERM, timeout: 10)
                return fail("lvs1 never became MASTER on its own")
            }
        }
        let second = try bed.lab.startOvercast(bed.lvs[1], config: bed.configuration(1, transport: transport, nopreempt: nopreempt),
                                               tag: "-\(transport)", environment: EC2Lab.environment)
        defer {
            first.stop(signal: SIGTERM, timeout: 10)
            second.stop(signal: SIGTERM, timeout: 10)
        }
        let ready = waitUntil(timeout: 120, interval: 0.2) {
            snapshot { $0.states[0] == "MASTER" && $0.states[1] == "BACKUP" && $0.routeOwner == "lvs1" }
        }
        guard ready else { return fail("lvs1 never became MASTER with the route (states \(snapshot { $0.states }))") }
        guard waitForAnswers(["web1", "web2"], timeout: 60) else { return fail("the client never got answers from both web servers") }
        report.answersAtStart = Set(answered(since: now - 2))
        note("client", "answers from \(report.answersAtStart.sorted().joined(separator: " and ")) (IPVS DR, round robin)")

        // 1. The MASTER's machine dies: kill -9 of the daemon and its network port down
        // (the kernel would otherwise go on forwarding by IPVS without the daemon).
        usleep(1_000_000)
        note("lvs1", "dies (kill -9, network down): no priority 0, the backup waits Master_Down_Interval (\(String(format: "%.2f", mdi)) s)")
        let killedAt = now
        first.stop(signal: SIGKILL)
        try bed.lab.setPort(bed.lvs[0], up: false)
        if waitUntil(timeout: mdi + 15, interval: 0.02, { snapshot { $0.states[1] == "MASTER" } }) {
            report.takeover = snapshot { $0.stateSince[1] } - killedAt
        } else { fail("lvs2 did not take over") }
        if waitUntil(timeout: mdi + 20, interval: 0.02, { snapshot { $0.routeOwner == "lvs2" } }) { report.routeMoved = now - killedAt }
        else { fail("the route did not move to lvs2") }
        if waitUntil(timeout: 20, interval: 0.1, { answered(since: killedAt + (report.routeMoved ?? 0)).count >= 3 }) {
            let record = snapshot { $0.answers.filter { $0.time >= killedAt - 1 } }
            var gap = 0.0
            var lastGood = record.first { $0.body != nil }?.time ?? killedAt
            for sample in record where sample.body != nil {
                gap = max(gap, sample.time - lastGood)
                lastGood = sample.time
            }
            report.clientGap = gap
            report.answersAfterFailover = Set(answered(since: now - 2))
            note("client", String(format: "answering again through lvs2; the longest gap was %.2f s", gap))
        } else { fail("the client got no answers after the failover") }

        // 2. The old MASTER comes back.
        try bed.lab.setPort(bed.lvs[0], up: true)
        note("lvs1", "back on the network; starting Overcast")
        first = try bed.lab.startOvercast(bed.lvs[0], config: bed.configuration(0, transport: transport, nopreempt: nopreempt),
                                          tag: "-\(transport)-again", environment: EC2Lab.environment)
        let expected = nopreempt ? ("lvs2", ["BACKUP", "MASTER"]) : ("lvs1", ["MASTER", "BACKUP"])
        let settled = waitUntil(timeout: 90, interval: 0.2) {
            snapshot { $0.states[0] == expected.1[0] && $0.states[1] == expected.1[1] && $0.routeOwner == expected.0 }
        }
        if nopreempt { usleep(UInt32((mdi + 1) * 1_000_000)) }  // long enough to see that nothing changes
        report.masterAfterReturn = snapshot { $0.states[0] == "MASTER" ? "lvs1" : $0.states[1] == "MASTER" ? "lvs2" : nil }
        report.routeAfterReturn = snapshot { $0.routeOwner }
        if !settled || report.masterAfterReturn != expected.0 {
            fail("after lvs1 returned: MASTER \(report.masterAfterReturn ?? "none"), route \(report.routeAfterReturn ?? "none"); expected \(expected.0)")
        }
        guard waitForAnswers(["web1", "web2"], timeout: 30) else { return fail("no answers from both web servers after the return") }

        // 3. A web server fails and comes back.
        let stoppedAt = now
        bed.stopWebServer(1)
        note("web2", "stopped")
        if waitForAnswers(["web1"], timeout: 40) {
            report.webRemoved = now - stoppedAt
            report.answersWithoutWeb2 = Set(answered(since: now - 1))
        } else { fail("web2 was not taken out of the rotation") }
        let restartedAt = now
        try bed.startWebServer(1)
        note("web2", "restarted")
        // Python's start-up alone takes up to a minute in the emulated VM.
        if bed.waitForWebServers(timeout: 240) && waitForAnswers(["web1", "web2"], timeout: 60) {
            report.webRestored = now - restartedAt
            report.answersAtEnd = Set(answered(since: now - 2))
        } else { fail("web2 did not come back into the rotation") }
        note("lab", "transport \(transport) done; stopping both daemons")
    }

    // MARK: - Watching

    /// Every 50 ms: both daemons' states, the route in moto (which the VPC fabric follows),
    /// and the MASTER's view of the real servers.
    private func watch() {
        while snapshot({ $0.running }) {
            for n in 0..<2 {
                let status = bed.lab.instance(bed.lvs[n])
                let state = status?["state"] as? String
                let old = snapshot { $0.states[n] }
                if state != old {
                    // The daemon's own account of when it changed state, not when we looked.
                    let since = max(0, now - (status?["secondsInState"] as? Double ?? 0))
                    lock.withLock { states[n] = state; stateSince[n] = since }
                    if let state { note("lvs\(n + 1)", "\(old ?? "(not running)") -> \(state)", at: since) }
                    else { note("lvs\(n + 1)", "not answering") }
                }
            }
            if let target = try? bed.ec2.routeTarget(table: bed.routeTable, destination: ArticleLab.vip + "/32") {
                let owner = (0..<2).first { bed.instance($0) == target }.map { "lvs\($0 + 1)" }
                if owner != snapshot({ $0.routeOwner }), let owner {
                    lock.withLock { routeOwner = owner }
                    note("route", "\(ArticleLab.vip)/32 -> \(target) (\(owner)); the VPC now routes the VIP there")
                }
            }
            let master = snapshot { $0.states.firstIndex(of: "MASTER") }
            if let master, let servers = bed.lab.overcastStatus(bed.lvs[master])?["realServers"] as? [[String: Any]] {
                for server in servers {
                    guard let address = server["address"] as? String, let up = server["up"] as? Bool else { continue }
                    let name = ArticleLab.webServers.firstIndex(of: address).map { "web\($0 + 1)" } ?? address
                    if snapshot({ $0.realServers[name] }) != up {
                        lock.withLock { realServers[name] = up }
                        note(name, up ? "health check up: in the IPVS rotation" : "health check down: out of the IPVS rotation")
                    }
                }
            }
            usleep(50_000)
        }
    }

    /// The client: a GET of the VIP every 100 ms (0.5 s timeout), from its own namespace.
    private func fetchLoop() {
        _ = try? inNetworkNamespace(bed.client.namespace) { [self] in
            let http = try CurlEasyRequest()
            var misses = 0
            while snapshot({ $0.running }) {
                let body = ArticleLab.fetch(http)
                let time = now  // when the answer (or the timeout) came: gaps are measured between answers
                lock.withLock { answers.append((time, body)) }
                // One refused request is a web server on its way out of the rotation;
                // three in a row is the VIP unreachable.
                misses = body == nil ? misses + 1 : 0
                if misses == 3 && snapshot({ $0.answers.contains { $0.body != nil } }) { note("client", "no answers") }
                usleep(100_000)
            }
        }
    }
}
