import Config
import Testing
@testable import HealthChecks

/// The checkers' table on made-up times: when runs start, how a run's targets add up to
/// one result, when a server changes, and what a reload keeps.
@Suite struct CheckerTableTests {
    static let web = HealthPlan.Server(id: .init(virtualServer: 0, address: "10.0.1.1", port: 80), label: "TCP 10.0.0.1:80")
    static let db = HealthPlan.Server(id: .init(virtualServer: 0, address: "10.0.1.2", port: 80), label: "TCP 10.0.0.1:80")

    static func target(_ n: Int) -> CheckTarget {
        CheckTarget(id: "t\(n)", url: "tcp://10.0.1.1:\(n)", connectTimeout: 1, kind: .tcpConnect)
    }

    /// Every 10 s, one retry 1 s later, no warmup: the first run is due at once.
    static func checker(_ key: String, server: Int, targets: Int = 1, script: HealthPlan.Script? = nil,
                        delayLoop: Duration = .seconds(10)) -> HealthPlan.Checker {
        HealthPlan.Checker(key: key, server: server, settings: .init(delayLoop: delayLoop, retry: 1),
                           targets: (0..<targets).map(target), script: script, notifyUp: "/bin/up", notifyDown: "/bin/down")
    }

    static func table(_ plan: HealthPlan, at now: Double = 100) -> CheckerTable {
        var table = CheckerTable()
        table.replace(with: plan, now: now, warmupDraw: { 0.5 })
        return table
    }

    @Test func aRunEndsWhenEveryTargetHasAnsweredAndTheFirstFailureCounts() throws {
        var table = Self.table(HealthPlan(servers: [Self.web], checkers: [Self.checker("a", server: 0, targets: 2)]))
        #expect(table.targetCount == 2 && table.earliestDue == 100)
        let run = try #require(table.startDue(at: 100, limit: 64).first)
        #expect(run.targets.count == 2 && run.due == 100)
        #expect(table.startDue(at: 100, limit: 64).isEmpty, "a running checker does not start again")
        // First failure: a retry is due, the server is still up.
        #expect(table.record(run.run, success: false, reason: "refused", at: 100.1) == nil)
        #expect(table.record(run.run, success: false, reason: "timeout", at: 100.2) == nil)
        #expect(table.isAlive(Self.web.id) && table.earliestDue == 101.2)
        // The retry fails too: down, with the run's first failure.
        let retry = try #require(table.startDue(at: 101.2, limit: 64).first)
        #expect(table.record(retry.run, success: true, reason: "", at: 101.3) == nil)
        let down = table.record(retry.run, success: false, reason: "reset", at: 101.4)
        #expect(down == CheckerTable.ServerChange(server: Self.web, isUp: false, reason: "reset", notify: "/bin/down"))
        #expect(!table.isAlive(Self.web.id))
        #expect(table.states == [RealServerStatus(virtualServer: "TCP 10.0.0.1:80", address: "10.0.1.1", port: 80, up: false,
                                                  lastFailure: "reset")])
        // One success brings it back.
        let nextDue = try #require(table.earliestDue)
        let next = try #require(table.startDue(at: nextDue, limit: 64).first)
        _ = table.record(next.run, success: true, reason: "", at: 112)
        let up = table.record(next.run, success: true, reason: "", at: 112)
        #expect(up == CheckerTable.ServerChange(server: Self.web, isUp: true, reason: "check succeeded", notify: "/bin/up"))
    }

    /// A server is up while all its checkers are; a server without checkers, or unknown,
    /// is up.
    @Test func aServerIsDownWhenAnyOfItsCheckersIs() throws {
        let plan = HealthPlan(servers: [Self.web, Self.db], checkers: [
            Self.checker("a", server: 0, delayLoop: .seconds(10)), Self.checker("b", server: 0, delayLoop: .seconds(20)),
        ])
        var table = Self.table(plan)
        let runs = table.startDue(at: 100, limit: 64)
        #expect(runs.count == 2)
        // With retry 1, a failure is retried first; the second one takes the checker down.
        _ = table.record(runs[1].run, success: false, reason: "503", at: 100)
        let retry = try #require(table.startDue(at: 101, limit: 64).first)
        #expect(table.record(retry.run, success: false, reason: "503", at: 101)?.isUp == false)
        #expect(table.record(runs[0].run, success: true, reason: "", at: 101) == nil)
        #expect(!table.isAlive(Self.web.id) && table.isAlive(Self.db.id))
        #expect(table.isAlive(.init(virtualServer: 9, address: "10.9.9.9", port: 1)))
        #expect(table.states.map(\.address) == ["10.0.1.1"], "a server without checkers is not listed")
    }

    @Test func atMostTheLimitStartsAtOnceEarliestFirst() {
        let plan = HealthPlan(servers: [Self.web], checkers: (0..<5).map { Self.checker("c\($0)", server: 0) })
        var table = CheckerTable()
        var draws = [0.4, 0.1, 0.3, 0.0, 0.2][...]
        table.replace(with: plan, now: 100, warmupDraw: { draws.popFirst() ?? 0 })
        // No warmup in these settings: every checker is due at once.
        #expect(table.startDue(at: 100, limit: 3).count == 3)
        #expect(table.startDue(at: 100, limit: 3).count == 2)
        #expect(table.startDue(at: 100, limit: 3).isEmpty)
    }

    @Test func newCheckersWaitARandomPartOfTheirWarmup() {
        let settings = CheckerPolicy.Settings(delayLoop: .seconds(10), warmup: .seconds(4))
        let plan = HealthPlan(servers: [Self.web], checkers: [HealthPlan.Checker(key: "a", server: 0, settings: settings)])
        var table = CheckerTable()
        table.replace(with: plan, now: 100, warmupDraw: { 0.25 })
        #expect(table.earliestDue == 101)
    }

    /// misc_dynamic: 0 up, 1 down, 2-255 up with weight status - 2; a timeout is down.
    @Test func scriptExitsFollowKeepalivedsRule() throws {
        let script = HealthPlan.Script(command: "/bin/check", timeout: 2, dynamic: true)
        var table = Self.table(HealthPlan(servers: [Self.web], checkers: [Self.checker("m", server: 0, targets: 0, script: script)]))
        func run(_ code: Int32?, at now: Double) throws -> (CheckerTable.ServerChange?, Bool) {
            let due = try #require(table.startDue(at: now, limit: 64).first)
            #expect(due.script == script && due.targets.isEmpty)
            return table.recordScript(due.run, exitStatus: code, at: now)
        }
        var (change, weightChanged) = try run(7, at: 100)
        #expect(change == nil && weightChanged && table.dynamicWeight(Self.web.id) == 5)
        (change, weightChanged) = try run(7, at: 110)
        #expect(change == nil && !weightChanged)
        (change, _) = try run(1, at: 120)
        #expect(change == nil, "retried first")
        (change, _) = try run(nil, at: 121)
        #expect(change?.isUp == false && change?.reason == "script timed out")
        (change, weightChanged) = try run(0, at: 131)
        #expect(change?.isUp == true && !weightChanged && table.dynamicWeight(Self.web.id) == 5)
    }

    /// A reload keeps the state of a checker whose key and settings are unchanged, even in
    /// the middle of a run; a changed or removed checker's late results are dropped.
    @Test func aReloadKeepsUnchangedCheckersAndDropsTheResultsOfOthers() throws {
        let plan = HealthPlan(servers: [Self.web, Self.db], checkers: [Self.checker("a", server: 0), Self.checker("b", server: 1)])
        var table = Self.table(plan)
        let runs = table.startDue(at: 100, limit: 64)
        try #require(runs.count == 2)
        // The reload drops b, puts a new checker first and moves a to another slot.
        var changed = HealthPlan(servers: [Self.db, Self.web], checkers: [Self.checker("n", server: 0), Self.checker("a", server: 1)])
        changed.checkers[1].notifyDown = "/bin/new-down"
        table.replace(with: changed, now: 105, warmupDraw: { 0 })
        #expect(table.record(runs[1].run, success: false, reason: "late", at: 105.1) == nil)
        // a's run started before the reload still ends it, and takes the new notify script.
        #expect(table.record(runs[0].run, success: false, reason: "refused", at: 105.2) == nil)
        let retry = try #require(table.startDue(at: 106.2, limit: 64).first { $0.run.key == "a" })
        let down = table.record(retry.run, success: false, reason: "refused", at: 106.3)
        #expect(down == CheckerTable.ServerChange(server: Self.web, isUp: false, reason: "refused", notify: "/bin/new-down"))
        // Other settings make another checker: it starts afresh, up.
        var slower = changed
        slower.checkers[1].settings.delayLoop = .seconds(30)
        table.replace(with: slower, now: 107, warmupDraw: { 0 })
        #expect(table.isAlive(Self.web.id))
    }

    /// Quick checks keep the delay_loop cadence from when they were due; a check that
    /// took more than half the delay rests a whole delay after it finished (backpressure
    /// when the checker or the network is overloaded); retries count from now.
    @Test func quickChecksKeepTheCadenceAndSlowOnesBackOff() {
        let due = 100.0
        #expect(CheckerTable.nextRun(due: due, now: 100.4, after: 1, anchor: .previousRun) == 101)
        #expect(CheckerTable.nextRun(due: due, now: 100.5, after: 1, anchor: .previousRun) == 101)
        #expect(CheckerTable.nextRun(due: due, now: 100.8, after: 1, anchor: .previousRun) == 101.8)
        #expect(CheckerTable.nextRun(due: due, now: 103, after: 1, anchor: .previousRun) == 104)
        #expect(CheckerTable.nextRun(due: due, now: 100.4, after: 1, anchor: .now) == 101.4)
    }

    /// A plan that names a server it does not have is skipped, not trapped on.
    @Test func aCheckerOfAMissingServerIsSkipped() {
        let table = Self.table(HealthPlan(servers: [Self.web], checkers: [Self.checker("x", server: 3), Self.checker("a", server: 0)]))
        #expect(table.checkers.map(\.plan.key) == ["a"])
    }
}
