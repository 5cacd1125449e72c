import Testing
@testable import HealthChecks

@Suite struct CheckerPolicyTests {
    typealias P = CheckerPolicy
    static let settings = P.Settings(delayLoop: .seconds(6), retry: 2, delayBeforeRetry: .seconds(1), warmup: .seconds(4))

    @Test func failuresAreRetriedBeforeTheServerGoesDownAndOneSuccessBringsItBack() {
        var p = P(settings: Self.settings)
        let steps: [(P.Event, [P.Action], Bool)] = [
            (.start(warmupFraction: 0.5), [.runCheck(after: .seconds(2), from: .now)], true),
            (.succeeded, [.runCheck(after: .seconds(6), from: .previousRun)], true),
            (.failed("refused"), [.runCheck(after: .seconds(1), from: .now)], true),
            (.failed("refused"), [.runCheck(after: .seconds(1), from: .now)], true),
            (.failed("refused"), [.markDown(reason: "refused"), .runCheck(after: .seconds(6), from: .previousRun)], false),
            (.failed("refused"), [.runCheck(after: .seconds(1), from: .now)], false),
            (.succeeded, [.markUp, .runCheck(after: .seconds(6), from: .previousRun)], true),
            (.failed("timeout"), [.runCheck(after: .seconds(1), from: .now)], true),
            (.succeeded, [.runCheck(after: .seconds(6), from: .previousRun)], true),
        ]
        for (n, (event, actions, up)) in steps.enumerated() {
            #expect(p.handle(event) == actions, "step \(n + 1)")
            #expect(p.isUp == up, "step \(n + 1)")
        }
    }

    @Test func alphaStartsDownUntilTheFirstSuccess() {
        var p = P(settings: P.Settings(delayLoop: .seconds(1), retry: 0, alpha: true))
        #expect(!p.isUp)
        #expect(p.handle(.start(warmupFraction: 2)) == [.runCheck(after: .zero, from: .now)])
        #expect(p.handle(.failed("x")) == [.runCheck(after: .seconds(1), from: .previousRun)])
        #expect(p.handle(.succeeded) == [.markUp, .runCheck(after: .seconds(1), from: .previousRun)])
    }
}
