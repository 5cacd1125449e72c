@testable import Lab
import Testing

/// The soak's invariants on made-up timelines: each rule holds where VRRP behaves and is
/// broken, with the time and the states, where it does not.
@Suite struct SoakCheckerTests {
    /// advert_int 0.2, lowest priority 60: Master_Down_Interval 0.6 + 0.1537... ≈ 0.754 s,
    /// convergence bound ≈ 0.754 + 0.2 + 0.3 = 1.254 s, hand-over bound 0.5 s.
    static let settings = SoakChecker.Settings(advertInterval: 0.2, lowestPriority: 60)
    static let cut = FaultSchedule.Fault(id: 1, kind: .partition, start: 1, end: 2, node: 0)
    static let pause = FaultSchedule.Fault(id: 2, kind: .pause, start: 1, end: 2, node: 1)

    /// Samples every 50 ms from `from` to `to` with the states `at(t)` gives.
    static func feed(_ c: inout SoakChecker, _ from: Double, _ to: Double, _ at: (Double) -> [String?]) {
        var t = from
        while t < to {
            c.sample(at: t, states: at(t))
            t += 0.05
        }
    }

    @Test func theBoundsAreVRRPsTimersPlusSlack() {
        #expect(abs(Self.settings.masterDownInterval - (0.6 + 196.0 / 256 * 0.2)) < 1e-9)
        #expect(abs(Self.settings.convergenceBound - (Self.settings.masterDownInterval + 0.5)) < 1e-9)
        #expect(abs(Self.settings.handOverBound - 0.5) < 1e-9)
    }

    @Test func aPartitionThatHealsWithinTheBoundIsFine() {
        var c = SoakChecker(settings: Self.settings, nodes: 3)
        Self.feed(&c, 0, 1) { _ in ["MASTER", "BACKUP", "BACKUP"] }
        c.faultStarted(Self.cut, at: 1)
        Self.feed(&c, 1, 2) { _ in ["MASTER", "MASTER", "MASTER"] }
        c.faultEnded(Self.cut, at: 2)
        // Two settle at once, the third 0.4 s later.
        Self.feed(&c, 2, 4) { t in ["MASTER", "BACKUP", t < 2.4 ? "MASTER" : "BACKUP"] }
        c.finish(at: 4)
        #expect(c.violations.isEmpty, "\(c.violations)")
        #expect(c.heals == 2 && c.worstConvergence > 0.35 && c.worstConvergence < 0.45)
        #expect(c.checks > 50)
    }

    @Test func masterCountsOtherThanOneBeyondTheBoundAreViolations() {
        var c = SoakChecker(settings: Self.settings, nodes: 3)
        c.faultStarted(Self.cut, at: 0)
        c.faultEnded(Self.cut, at: 0.5)
        Self.feed(&c, 0.5, 3) { _ in ["MASTER", "MASTER", "BACKUP"] }
        #expect(c.violations.count == 1)
        #expect(c.violations.first?.what.hasPrefix("2 MASTERs 1.3") == true, "\(c.violations)")
        #expect(c.violations.first?.what.contains("n1 MASTER, n2 MASTER, n3 BACKUP") == true)

        // Converged, then no MASTER for longer than a hand-over with nothing going on.
        var quiet = SoakChecker(settings: Self.settings, nodes: 2)
        Self.feed(&quiet, 0, 1) { _ in ["MASTER", "BACKUP"] }
        Self.feed(&quiet, 1, 1.4) { _ in ["BACKUP", "BACKUP"] }
        #expect(quiet.violations.isEmpty, "a hand-over shorter than 0.5 s")
        Self.feed(&quiet, 1.4, 2) { _ in ["MASTER", "BACKUP"] }
        Self.feed(&quiet, 2, 3) { _ in ["BACKUP", "BACKUP"] }
        #expect(quiet.violations.map(\.what).first?.hasPrefix("0 MASTERs for 0.5") == true, "\(quiet.violations)")
    }

    @Test func aSilentDaemonCountsOnlyOutsideItsOwnProcessFaults() {
        var c = SoakChecker(settings: Self.settings, nodes: 2)
        Self.feed(&c, 0, 1) { _ in ["MASTER", "BACKUP"] }
        c.faultStarted(Self.pause, at: 1)
        Self.feed(&c, 1, 4) { _ in ["MASTER", nil] }
        #expect(c.violations.isEmpty, "paused: it cannot answer")
        c.faultEnded(Self.pause, at: 4)
        Self.feed(&c, 4, 7) { _ in ["MASTER", nil] }
        #expect(c.violations.count == 1 && c.violations.first?.what.hasPrefix("n2 has not answered status for 2.") == true,
                "\(c.violations)")
        c.finish(at: 7)
        #expect(c.violations.last?.what == "the run ended with a daemon not answering")
        c.unexpectedExit(node: 1, at: 7, status: "exit 139")
        #expect(c.violations.last?.what == "n2's daemon exited unscheduled (exit 139)")
    }

    @Test func theRouteFollowsTheMasterAndIsNeverMissingOnceWritten() {
        var c = SoakChecker(settings: Self.settings, nodes: 2)
        c.route(at: 0, target: nil, masters: [])
        #expect(c.violations.isEmpty, "not yet written: no route is fine")
        Self.feed(&c, 0, 1) { _ in ["MASTER", "BACKUP"] }
        c.route(at: 1, target: "i-1", masters: ["i-1"])
        // The MASTER moves; the route lags 2 s (within 2.5 s), then 3 s (beyond).
        c.route(at: 1.5, target: "i-1", masters: ["i-2"])
        c.route(at: 3.4, target: "i-2", masters: ["i-2"])
        #expect(c.violations.isEmpty, "\(c.violations)")
        c.route(at: 4, target: "i-2", masters: ["i-1"])
        c.route(at: 7.1, target: "i-2", masters: ["i-1"])
        #expect(c.violations.map(\.what) == ["the route points at i-2, not the MASTER's i-1, for 3.10 s (bound 2.50 s)"])
        c.route(at: 8, target: nil, masters: ["i-1"])
        #expect(c.violations.last?.what == "the VIP's route is missing" && c.routeChecks == 7)
    }

    @Test func duringFaultsTheRouteReachesSomeMasterUnlessTheAPIIsDown() {
        // takeoverRouteBound = 0.754 + 0.2 + 2.5 ≈ 3.45 s.
        var c = SoakChecker(settings: Self.settings, nodes: 3)
        let kill = FaultSchedule.Fault(id: 1, kind: .kill, start: 0, end: 20, node: 0)
        let api = FaultSchedule.Fault(id: 2, kind: .apiHang, start: 0, end: 20, node: 0)
        c.faultStarted(kill, at: 0)
        c.route(at: 0, target: "i-1", masters: [])
        c.route(at: 1, target: "i-1", masters: ["i-2", "i-3"])
        c.route(at: 4, target: "i-1", masters: ["i-2", "i-3"])
        #expect(c.violations.isEmpty, "3 s: within the takeover bound")
        c.route(at: 5, target: "i-1", masters: ["i-2", "i-3"])
        #expect(c.violations.map(\.what) == ["the route points at i-1, which is not MASTER, for 4.00 s while i-2,i-3 are (bound 3.45 s)"])
        var blocked = SoakChecker(settings: Self.settings, nodes: 3)
        blocked.faultStarted(api, at: 0)
        blocked.route(at: 0, target: "i-1", masters: ["i-2"])
        blocked.route(at: 10, target: "i-1", masters: ["i-2"])
        #expect(blocked.violations.isEmpty, "nobody can write while the API is down")
    }

    /// The API's faults and floods cannot move VRRP states: the state rules stay on
    /// through them. A slow API or an IMDS outage leaves the routes writable; an IMDS
    /// outage stops a daemon restarted during it from writing.
    @Test func faultsOutsideVRRPKeepTheStateRulesOnAndOnlyAStoppedAPIExcusesTheRoute() {
        var c = SoakChecker(settings: Self.settings, nodes: 3)
        Self.feed(&c, 0, 1) { _ in ["MASTER", "BACKUP", "BACKUP"] }
        for (id, kind) in [(1, FaultSchedule.Kind.apiError), (2, .flood)] {
            c.faultStarted(FaultSchedule.Fault(id: id, kind: kind, start: 1, end: 3, node: 1), at: 1)
        }
        Self.feed(&c, 1, 2) { _ in ["MASTER", "MASTER", "BACKUP"] }
        #expect(c.violations.count == 1 && c.violations[0].what.hasPrefix("2 MASTERs for 0.5"), "\(c.violations)")
        let silent = SoakChecker(settings: Self.settings, nodes: 3)
        var flooded = silent
        flooded.faultStarted(FaultSchedule.Fault(id: 1, kind: .flood, start: 0, end: 5, node: 1), at: 0)
        Self.feed(&flooded, 0, 3) { _ in ["MASTER", nil, "BACKUP"] }
        #expect(flooded.violations.first?.what.hasPrefix("n2 has not answered") == true, "a flooded daemon must still answer")

        var slow = SoakChecker(settings: Self.settings, nodes: 3)
        Self.feed(&slow, 0, 1) { _ in ["MASTER", "BACKUP", "BACKUP"] }
        slow.faultStarted(FaultSchedule.Fault(id: 1, kind: .apiSlow, start: 1, end: 20, node: 0, level: 500), at: 1)
        slow.route(at: 1, target: "i-2", masters: ["i-1"])
        slow.route(at: 4, target: "i-2", masters: ["i-1"])
        #expect(slow.violations.map(\.what) == ["the route points at i-2, not the MASTER's i-1, for 3.00 s (bound 2.50 s)"])

        var imds = SoakChecker(settings: Self.settings, nodes: 3)
        let outage = FaultSchedule.Fault(id: 1, kind: .imdsDown, start: 0, end: 20, node: 0)
        let kill = FaultSchedule.Fault(id: 2, kind: .kill, start: 1, end: 2, node: 0)
        imds.faultStarted(outage, at: 0)
        imds.route(at: 0.5, target: "i-2", masters: ["i-1"])
        imds.route(at: 4, target: "i-2", masters: ["i-1"])
        #expect(imds.violations.count == 1, "credentials held: IMDS down alone excuses nothing")
        imds.faultStarted(kill, at: 5)
        imds.faultEnded(kill, at: 6)
        imds.route(at: 6, target: "i-2", masters: ["i-1"])
        imds.route(at: 15, target: "i-2", masters: ["i-1"])
        #expect(imds.violations.count == 1, "a daemon started without IMDS cannot sign")
    }

    /// The client: no bound while a fault that moves VRRP is on and through the recovery
    /// after it (a takeover and its route write, then one timeout: ≈ 4.45 s here); after
    /// that, answers at most `clientGapBound` apart, web servers' faults or not.
    @Test func theClientsGapsAreBoundedOnceTheClusterHasRecovered() {
        var c = SoakChecker(settings: Self.settings, nodes: 3)
        c.setClientGapBound(1.5)
        #expect(abs(c.settings.clientRecovery - (Self.settings.takeoverRouteBound + 1)) < 1e-9)
        let kill = FaultSchedule.Fault(id: 1, kind: .kill, start: 1, end: 2, node: 0)
        var t = 0.0
        func client(until end: Double, _ ok: (Double) -> Bool) {
            while t < end { c.client(at: t, answered: ok(t)); t += 0.1 }
        }
        client(until: 1) { _ in true }
        c.faultStarted(kill, at: 1)
        client(until: 2) { _ in false }
        c.faultEnded(kill, at: 2)
        // Nothing answers until 6 s: within the recovery (2 + 4.45 s).
        client(until: 6) { _ in false }
        client(until: 8) { _ in true }
        #expect(c.violations.isEmpty, "\(c.violations)")
        #expect(c.longestClientGap > 4.9 && c.longestQuietClientGap < 0.2)
        // A web server hangs: every other request lost is fine...
        let hang = FaultSchedule.Fault(id: 2, kind: .webHang, start: 8, end: 20, node: 1)
        c.faultStarted(hang, at: 8)
        var n = 0
        client(until: 10) { _ in n += 1; return n % 2 == 0 }
        #expect(c.violations.isEmpty, "\(c.violations)")
        // ... but 2 s without an answer is not: the other server was there.
        client(until: 12.1) { _ in false }
        #expect(c.violations.count == 1 && c.violations[0].what.contains("past the recovery"), "\(c.violations)")
        #expect((118...123).contains(c.clientRequests) && c.clientAnswers > 40, "\(c.clientRequests) \(c.clientAnswers)")
    }

    @Test func aRouteWriteByABackupIsAViolationButOneAtATransitionIsNot() {
        typealias O = SoakChecker.Observation
        let log: [(time: Double, observed: [O])] = (0..<80).map { i in
            let t = Double(i) * 0.05
            // n1 MASTER until 1 s; n2 MASTER from 1 s; n3 BACKUP but MASTER for a moment near 1.5 s.
            return (t, [O(state: t < 1 ? "MASTER" : "BACKUP", becameMaster: 1), O(state: t < 1 ? "BACKUP" : "MASTER", becameMaster: t < 1 ? 0 : 1),
                        O(state: "BACKUP", becameMaster: t < 1.5 ? 0 : 1)])
        }
        let violations = SoakChecker.backupWrites([(0.5, 0), (1.72, 0), (1.5, 1), (2.32, 0), (0.32, 1), (1.52, 2), (2.32, 2), (2.82, 2), (5, 0)],
                                                  log: log)
        // n1 at 0.5 MASTER; at 1.72 MASTER 0.72 s before (a late arrival); n2 at 1.5 MASTER;
        // n1 at 2.32 BACKUP for 1.3 s; n2 at 0.32 too early to judge; n3 at 1.52 and 2.32 just
        // MASTER (its count moved); n3 at 2.82 BACKUP for 1.3 s; 5 s: no later sample.
        #expect(violations.map(\.what) == ["n1 wrote the route while BACKUP (BACKUP from 1.20 to 2.45 s, MASTER 1 times so far)",
                                            "n3 wrote the route while BACKUP (BACKUP from 1.70 to 2.95 s, MASTER 1 times so far)"])
        #expect(violations.map(\.time) == [2.32, 2.82])
    }
}

/// The EC2 lab's log times mapped to the run's clock, in a VM whose clock runs 5 % slow.
@Suite struct HostClockMappingTests {
    @Test func aHostTimeIsInterpolatedBetweenTheSamplesEitherSide() throws {
        let samples: [(t: Double, host: Double)] = [(0, 1000), (9.5, 1010), (19, 1020)]
        #expect(abs((try #require(SoakRunner.runTime(ofHostTime: 1015, samples: samples))) - 14.25) < 1e-9)
        #expect(abs((try #require(SoakRunner.runTime(ofHostTime: 1000, samples: samples))) - 0) < 1e-9)
        #expect(abs((try #require(SoakRunner.runTime(ofHostTime: 1022, samples: samples))) - 21) < 1e-9, "past the last: its offset")
        #expect(SoakRunner.runTime(ofHostTime: 5, samples: []) == nil)
    }
}
