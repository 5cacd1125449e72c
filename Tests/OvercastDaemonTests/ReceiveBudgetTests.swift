import Testing
@testable import OvercastDaemon

@Suite struct ReceiveBudgetTests {
    static let second: UInt64 = 1_000_000_000

    @Test func aFloodIsReadAtTheBudgetsRateWhateverItsOwnRate() {
        // A loop that reads whenever it may, for 10 s of a flood that never ends.
        var budget = ReceiveBudget(now: 0, rate: 10_000, burst: 1_000)
        var now: UInt64 = 0, read = 0, wakeUps = 0
        while now < 10 * Self.second {
            if let resume = budget.resumeTime(now: now) {
                #expect(resume > now)
                now = resume
                continue
            }
            let allowed = budget.allowance(now: now)
            #expect(allowed >= 1 && allowed <= 64)
            budget.spend(allowed)
            read += allowed
            wakeUps += 1
            now += 20_000   // each batch takes the loop 20 us
        }
        // The burst, then the rate: 1,000 + 10 s x 10,000 (within one batch).
        #expect(read >= 100_000 && read <= 101_000 + 64, "\(read)")
        // In batches: not a wake-up per packet.
        #expect(wakeUps <= read / 60, "\(wakeUps) wake-ups for \(read) packets")
    }

    @Test func anIdleLaneRefillsOnlyUpToTheBurst() {
        var budget = ReceiveBudget(now: 0, rate: 10_000, burst: 1_000)
        budget.spend(1_000)
        #expect(budget.allowance(now: 0) == 0)
        #expect(budget.resumeTime(now: 0) == 6_400_000)   // 64 packets at 10,000/s
        var total = 0
        let later = 3600 * Self.second
        while budget.allowance(now: later) > 0 {
            let n = budget.allowance(now: later)
            budget.spend(n)
            total += n
        }
        #expect(total == 1_000)
    }

    @Test func aClockThatDoesNotMoveGivesNothingMore() {
        var budget = ReceiveBudget(now: 5 * Self.second, rate: 10_000, burst: 100)
        budget.spend(100)
        #expect(budget.allowance(now: 4 * Self.second) == 0)
        #expect(budget.allowance(now: 5 * Self.second) == 0)
        #expect(budget.allowance(now: 5 * Self.second + 1_000_000) == 10)
    }
}
