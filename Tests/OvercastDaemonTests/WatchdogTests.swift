@testable import OvercastDaemon
import Testing

/// The watchdog's two decisions: whether systemd asked for it, and which loops are stuck.
@Suite struct WatchdogTests {
    @Test func onlyAWatchdogMeantForThisProcessCounts() {
        #expect(Watchdog.interval(environment: [:], pid: 10) == nil)
        #expect(Watchdog.interval(environment: ["WATCHDOG_USEC": "10000000"], pid: 10) == 10)
        #expect(Watchdog.interval(environment: ["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "10"], pid: 10) == 0.5)
        #expect(Watchdog.interval(environment: ["WATCHDOG_USEC": "500000", "WATCHDOG_PID": "11"], pid: 10) == nil)
        #expect(Watchdog.interval(environment: ["WATCHDOG_USEC": "0"], pid: 10) == nil)
        #expect(Watchdog.interval(environment: ["WATCHDOG_USEC": "ten"], pid: 10) == nil)
    }

    @Test func aLoopBehindItsPingIsStuckUnlessItHasEnded() {
        let sent: [String: UInt64] = ["VI_1": 4, "VI_2": 4, "VI_3": 4, "VI_4": 4]
        let answers: [String: (ping: UInt64, exited: Bool)] = [
            "VI_1": (4, false), "VI_2": (3, false), "VI_3": (1, true), "VI_5": (0, false),
        ]
        // VI_4 is gone (a reload removed it): not stuck; VI_5 was never asked.
        #expect(Watchdog.stuck(sent: sent, answers: answers) == ["VI_2"])
        #expect(Watchdog.stuck(sent: [:], answers: answers).isEmpty)
    }
}
