import NetworkTypes
import Testing
@testable import VRRP

/// RFC 5798 §6.4 as tables: a configuration, a sequence of events, and the actions
/// each event must produce.
@Suite struct StateMachineTests {
    typealias M = VRRPStateMachine
    static let me = IPv4Address(172, 31, 18, 163)
    static let higherAddress = IPv4Address(172, 31, 18, 200)
    static let lowerAddress = IPv4Address(172, 31, 18, 100)

    static func config(_ version: VRRPVersion = .v3, priority: UInt8 = 100, interval: Centiseconds = .seconds(1),
                       preempt: Bool = true, preemptDelay: Duration = .zero) -> M.Configuration {
        M.Configuration(version: version, priority: priority, advertisementInterval: interval,
                        primaryAddress: me, preempt: preempt, preemptDelay: preemptDelay)
    }

    static func heard(_ priority: UInt8, _ interval: Centiseconds = .seconds(1), from source: IPv4Address = higherAddress) -> M.Event {
        .advertisementReceived(M.Heard(priority: priority, advertisementInterval: interval, source: source))
    }

    /// v3, priority 100, 1 s: skew 156/256 * 1 s, MDI 3 s + skew.
    static let skew100 = Duration.milliseconds(609) + .microseconds(375)
    static let mdi100 = Duration.seconds(3) + skew100

    struct Step: Sendable { let event: M.Event; let actions: [InstanceEffect]; let state: M.State }

    static let scenarios: [(String, M.Configuration, [Step])] = [
        ("startup goes to BACKUP and arms Master_Down_Timer", config(), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
        ]),
        ("the address owner becomes MASTER at once", config(priority: 255), [
            Step(event: .startup, actions: [.sendAdvertisement(priority: 255), .transition(from: .initialize, to: .master),
                                            .armTimer(.advertisement, after: .seconds(1))], state: .master),
        ]),
        ("Master_Down_Timer expiry makes a MASTER that advertises every interval", config(), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: .timerFired(.masterDown), actions: [.sendAdvertisement(priority: 100), .transition(from: .backup, to: .master),
                                                            .armTimer(.advertisement, after: .seconds(1))], state: .master),
            Step(event: .timerFired(.advertisement), actions: [.sendAdvertisement(priority: 100), .armTimer(.advertisement, after: .seconds(1))], state: .master),
        ]),
        ("a BACKUP restarts its timer for a higher or equal MASTER, ignores a lower one it preempts", config(), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: heard(150), actions: [.armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: heard(100), actions: [.armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: heard(50), actions: [], state: .backup),
        ]),
        ("nopreempt: a BACKUP accepts a lower-priority MASTER", config(preempt: false), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: heard(50), actions: [.armTimer(.masterDown, after: mdi100)], state: .backup),
        ]),
        ("priority 0 heard by a BACKUP: take over after Skew_Time", config(), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: heard(0), actions: [.armTimer(.masterDown, after: skew100)], state: .backup),
        ]),
        ("v3 BACKUP learns Master_Adver_Interval", config(), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
            // 10 cs: 3 * 100 ms + 156/256 * 100 ms = 360.9375 ms
            Step(event: heard(150, Centiseconds(10)), actions: [.armTimer(.masterDown, after: .microseconds(360_937) + .nanoseconds(500))], state: .backup),
        ]),
        ("v2 BACKUP keeps its own interval and skew of (256-p)/256 s", config(.v2, interval: .seconds(2)), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: .seconds(6) + skew100)], state: .backup),
            Step(event: heard(150, .seconds(5)), actions: [.armTimer(.masterDown, after: .seconds(6) + skew100)], state: .backup),
        ]),
        ("MASTER steps down for a higher priority and learns its interval", config(), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: .timerFired(.masterDown), actions: [.sendAdvertisement(priority: 100), .transition(from: .backup, to: .master),
                                                            .armTimer(.advertisement, after: .seconds(1))], state: .master),
            Step(event: heard(50), actions: [], state: .master),
            Step(event: heard(100, from: lowerAddress), actions: [], state: .master),
            Step(event: heard(100, Centiseconds(200), from: higherAddress),
                 actions: [.cancelTimer(.advertisement), .transition(from: .master, to: .backup),
                           .armTimer(.masterDown, after: .seconds(6) + skew100 * 2)], state: .backup),
        ]),
        ("MASTER answers priority 0 with an advertisement at once", config(priority: 255), [
            Step(event: .startup, actions: [.sendAdvertisement(priority: 255), .transition(from: .initialize, to: .master),
                                            .armTimer(.advertisement, after: .seconds(1))], state: .master),
            Step(event: heard(0), actions: [.sendAdvertisement(priority: 255), .armTimer(.advertisement, after: .seconds(1))], state: .master),
        ]),
        ("shutdown: a MASTER sends priority 0, a BACKUP just stops", config(priority: 255), [
            Step(event: .startup, actions: [.sendAdvertisement(priority: 255), .transition(from: .initialize, to: .master),
                                            .armTimer(.advertisement, after: .seconds(1))], state: .master),
            Step(event: .shutdown, actions: [.cancelTimer(.advertisement), .sendAdvertisement(priority: 0),
                                             .transition(from: .master, to: .initialize)], state: .initialize),
            Step(event: .timerFired(.advertisement), actions: [], state: .initialize),
            Step(event: heard(150), actions: [], state: .initialize),
        ]),
        ("preempt_delay holds preemption, then releases it", config(preemptDelay: .seconds(30)), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100),
                                            .armTimer(.preemptDelay, after: .seconds(30))], state: .backup),
            Step(event: heard(50), actions: [.armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: .timerFired(.preemptDelay), actions: [], state: .backup),
            Step(event: heard(50), actions: [], state: .backup),
        ]),
        ("a fault takes a MASTER out with priority 0; clearing it starts over as BACKUP", config(), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: .timerFired(.masterDown), actions: [.sendAdvertisement(priority: 100), .transition(from: .backup, to: .master),
                                                            .armTimer(.advertisement, after: .seconds(1))], state: .master),
            Step(event: .faultDetected, actions: [.cancelTimer(.advertisement), .sendAdvertisement(priority: 0),
                                                  .transition(from: .master, to: .fault)], state: .fault),
            Step(event: heard(50), actions: [], state: .fault),
            Step(event: .faultCleared, actions: [.transition(from: .fault, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
        ]),
        ("a BACKUP raised to 255 takes over at once", config(), [
            Step(event: .startup, actions: [.transition(from: .initialize, to: .backup), .armTimer(.masterDown, after: mdi100)], state: .backup),
            Step(event: .priorityChanged(255), actions: [.cancelTimer(.masterDown), .sendAdvertisement(priority: 255),
                                                         .transition(from: .backup, to: .master), .armTimer(.advertisement, after: .seconds(1))], state: .master),
        ]),
        ("a MASTER whose priority drops advertises the new priority", config(priority: 255), [
            Step(event: .startup, actions: [.sendAdvertisement(priority: 255), .transition(from: .initialize, to: .master),
                                            .armTimer(.advertisement, after: .seconds(1))], state: .master),
            Step(event: .priorityChanged(90), actions: [], state: .master),
            Step(event: .timerFired(.advertisement), actions: [.sendAdvertisement(priority: 90), .armTimer(.advertisement, after: .seconds(1))], state: .master),
        ]),
    ]

    @Test(arguments: scenarios.indices)
    func scenario(_ index: Int) {
        let (name, configuration, steps) = Self.scenarios[index]
        var machine = M(configuration: configuration)
        for (n, step) in steps.enumerated() {
            let actions = machine.handle(step.event)
            #expect(actions == step.actions, "\(name), step \(n + 1): \(step.event)")
            #expect(machine.state == step.state, "\(name), step \(n + 1)")
        }
    }

    @Test func timingFormulas() {
        // RFC 3768: skew independent of the interval.
        #expect(VRRPTiming.skewTime(version: .v2, priority: 100, masterAdvertisementInterval: .seconds(5)) == Self.skew100)
        #expect(VRRPTiming.masterDownInterval(version: .v2, priority: 255, masterAdvertisementInterval: .seconds(1))
                == .seconds(3) + .microseconds(3906) + .nanoseconds(250))
        // RFC 5798: skew scales with Master_Adver_Interval; 5 cs at priority 1 is 255/256 * 50 ms.
        #expect(VRRPTiming.skewTime(version: .v3, priority: 1, masterAdvertisementInterval: Centiseconds(5))
                == .milliseconds(50) * 255 / 256)
        #expect(VRRPTiming.masterDownInterval(version: .v3, priority: 1, masterAdvertisementInterval: Centiseconds(5))
                == .milliseconds(150) + .milliseconds(50) * 255 / 256)
        // The integer arithmetic gives exactly RFC 5798's exact values, for every priority,
        // at the intervals at both ends of the field and between (odd ones included, whose
        // 256th parts are not whole nanoseconds), and v2's at any interval.
        for interval in [1, 2, 3, 5, 7, 99, 100, 255, 1000, 4095, 25_500] {
            for p in UInt8(0)...255 {
                let exact = Duration.milliseconds(interval * 10) * (256 - Int(p)) / 256
                #expect(VRRPTiming.skewTime(version: .v3, priority: p, masterAdvertisementInterval: Centiseconds(interval)) == exact)
                #expect(VRRPTiming.masterDownInterval(version: .v3, priority: p, masterAdvertisementInterval: Centiseconds(interval))
                        == .milliseconds(interval * 30) + exact)
                #expect(VRRPTiming.skewTime(version: .v2, priority: p, masterAdvertisementInterval: Centiseconds(interval))
                        == .seconds(1) * (256 - Int(p)) / 256)
            }
        }
        // Out-of-range values cannot overflow (they are clamped, never trapped on).
        _ = VRRPTiming.masterDownInterval(version: .v3, priority: 0, masterAdvertisementInterval: Centiseconds(.max))
        _ = VRRPTiming.masterDownInterval(version: .v3, priority: 0, masterAdvertisementInterval: Centiseconds(.min))
        // Higher priority always waits less.
        for p in UInt8(1)...254 {
            #expect(VRRPTiming.masterDownInterval(version: .v3, priority: p + 1, masterAdvertisementInterval: .seconds(1))
                    < VRRPTiming.masterDownInterval(version: .v3, priority: p, masterAdvertisementInterval: .seconds(1)))
        }
    }
}
