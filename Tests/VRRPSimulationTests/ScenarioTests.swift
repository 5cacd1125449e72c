import NetworkTypes
import Testing
import VRRP
@testable import VRRPSimulation

/// `overcast simulate`'s scenarios on two-host clusters: the predicted takeover is the
/// RFC's arithmetic, and the report says who holds what before, during and after.
@Suite struct ScenarioTests {
    static func hosts(interval: Centiseconds = .seconds(1), preempt: Bool = true) -> [SimulatedHost] {
        let a = IPv4Address(172, 31, 18, 10), b = IPv4Address(172, 31, 18, 11)
        return [("lvs1", a, b, UInt8(150)), ("lvs2", b, a, 100)].map { name, own, peer, priority in
            let machine = VRRPStateMachine.Configuration(version: .v3, priority: priority, advertisementInterval: interval,
                                                         primaryAddress: own, preempt: preempt)
            let router = VirtualRouter.Configuration(virtualRouterID: 51, stateMachine: machine,
                                                     virtualAddresses: [IPv4Address(192, 168, 20, 11)], unicastPeers: [peer])
            return SimulatedHost(name: name, instances: [InstanceCore.Configuration(
                name: "VI_1", router: router, notify: NotifyScripts(master: "/etc/keepalived/master.sh"))])
        }
    }

    @Test(arguments: [Centiseconds.seconds(1), Centiseconds(20)])
    func killingTheMasterIsTakenOverAfterTheBackupsMasterDownInterval(_ interval: Centiseconds) throws {
        let report = SimulatedCluster.play(.killMaster, on: Self.hosts(interval: interval))
        #expect(report.victim == "lvs1")
        #expect(report.before.map(\.masters) == [["lvs1"]])
        #expect(report.during.map(\.masters) == [["lvs2"]])
        #expect(report.during.map(\.routeOwners) == [["lvs2"]])
        #expect(report.after.map(\.masters) == [["lvs1"]])        // restarted, it preempts back
        let mdi = VRRPTiming.masterDownInterval(version: .v3, priority: 100, masterAdvertisementInterval: interval)
        let takeover = try #require(report.takeoverSeconds)
        // The fault is played as the advertisement leaves; it travels 200 µs.
        let expected = SimulatedCluster.seconds(mdi) + 0.0002
        #expect(abs(takeover - expected) <= 0.000001, "takeover \(takeover) s, expected \(expected) s")
        #expect(report.notifyCalls.map(\.node) == ["lvs2/VI_1", "lvs1/VI_1"])
        #expect(report.notifyCalls.map(\.text).allSatisfy { $0 == "notify: /etc/keepalived/master.sh" })
    }

    @Test func aPartitionSplitsTheBrainAndHealingConvergesWithinAnInterval() throws {
        let report = SimulatedCluster.play(.partition, on: Self.hosts())
        #expect(report.during.map(\.masters) == [["lvs1", "lvs2"]])
        #expect(report.after.map(\.masters) == [["lvs1"]])
        let converged = try #require(report.convergenceSeconds)
        #expect(converged <= 1.0 + 0.001)
    }

    @Test func aReloadHandsOverAfterSkewTimeAndPreemptsBack() throws {
        let report = SimulatedCluster.play(.reload, on: Self.hosts())
        let skew = VRRPTiming.skewTime(version: .v3, priority: 100, masterAdvertisementInterval: .seconds(1))
        let takeover = try #require(report.takeoverSeconds)
        #expect(abs(takeover - (SimulatedCluster.seconds(skew) + 0.0002)) <= 0.000001)
        #expect(report.after.map(\.masters) == [["lvs1"]])
        let nopreempt = SimulatedCluster.play(.reload, on: Self.hosts(preempt: false))
        #expect(nopreempt.after.map(\.masters) == [["lvs2"]])
    }
}
