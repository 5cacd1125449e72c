import NetworkTypes
import Testing
import VRRP
@testable import VRRPSimulation

/// Whole clusters on the in-memory network with a virtual clock: deterministic, and no
/// test sleeps.
@Suite struct ClusterTests {
    static let versions: [(VRRPVersion, Centiseconds)] = [(.v2, .seconds(1)), (.v3, .seconds(1)), (.v3, Centiseconds(5))]

    @Test(arguments: versions.indices)
    func electsTheHighestPriority(_ v: Int) {
        let (version, interval) = Self.versions[v]
        let c = SimulatedCluster.make(priorities: [100, 200, 150], version: version, interval: interval)
        c.startAll()
        c.run(for: interval.duration * 10)
        #expect(c.masters == ["lvs2"])
        #expect(c.state("lvs1") == .backup && c.state("lvs3") == .backup)
        // The winner became MASTER exactly at its own Master_Down_Interval.
        let mdi = VRRPTiming.masterDownInterval(version: version, priority: 200, masterAdvertisementInterval: interval)
        #expect(c.transitions(of: "lvs2").map(\.at) == [.zero, mdi])
        // Nobody else ever was MASTER.
        #expect(c.transitions.filter { $0.to == .master }.map(\.node) == ["lvs2"])
    }

    @Test(arguments: versions.indices)
    func failsOverExactlyAtMasterDownIntervalAfterTheLastAdvertisement(_ v: Int) throws {
        let (version, interval) = Self.versions[v]
        let c = SimulatedCluster.make(priorities: [200, 150, 100], version: version, interval: interval)
        c.startAll()
        c.run(for: interval.duration * 10 + .milliseconds(3))
        c.crash("lvs1")
        c.run(for: interval.duration * 10)
        #expect(c.masters == ["lvs2"])
        let last = try #require(c.lastAdvertisementSent(by: "lvs1"))
        let takeover = try #require(c.lastBecameMaster("lvs2"))
        let mdi = VRRPTiming.masterDownInterval(version: version, priority: 150, masterAdvertisementInterval: interval)
        #expect(takeover == last + c.latency + mdi)
    }

    @Test func gracefulShutdownHandsOverAfterSkewTime() throws {
        let c = SimulatedCluster.make(priorities: [200, 150], version: .v3, interval: Centiseconds(10))
        c.startAll()
        c.run(for: .seconds(2))
        let stop = c.now
        c.shutdown("lvs1")
        c.run(for: .seconds(1))
        #expect(c.masters == ["lvs2"])
        let takeover = try #require(c.lastBecameMaster("lvs2"))
        let skew = VRRPTiming.skewTime(version: .v3, priority: 150, masterAdvertisementInterval: Centiseconds(10))
        #expect(takeover == stop + c.latency + skew)
        #expect(c.counters("lvs1").priorityZeroSent == 1)
    }

    @Test func higherPriorityPreemptsWhenItReturnsButNotWithNopreempt() {
        for preempt in [true, false] {
            let c = SimulatedCluster.make(priorities: [200, 150], preempt: preempt)
            c.startAll()
            c.run(for: .seconds(10))
            c.crash("lvs1")
            c.run(for: .seconds(10))
            #expect(c.masters == ["lvs2"])
            c.start("lvs1")
            c.run(for: .seconds(10))
            #expect(c.masters == (preempt ? ["lvs1"] : ["lvs2"]), "preempt \(preempt)")
        }
    }

    @Test func lostAdvertisementsBelowThreeIntervalsChangeNothing() {
        let c = SimulatedCluster.make(priorities: [200, 150, 100])
        c.startAll()
        c.run(for: .seconds(10))
        let before = c.transitions.count
        c.dropNextAdvertisements(from: "lvs1", count: 2)
        c.run(for: .seconds(10))
        #expect(c.masters == ["lvs1"])
        #expect(c.transitions.count == before)
        // Three lost in a row exceed Master_Down_Interval (3 intervals + skew): lvs2 takes
        // over, then hands back when lvs1 is heard again.
        c.dropNextAdvertisements(from: "lvs1", count: 4)
        c.run(for: .seconds(10))
        #expect(c.transitions.contains { $0.node == "lvs2" && $0.to == .master })
        #expect(c.masters == ["lvs1"])
    }

    @Test func partitionMakesTwoMastersAndHealingLeavesOneWithinAnInterval() throws {
        let c = SimulatedCluster.make(priorities: [200, 150, 100], version: .v3, interval: Centiseconds(100))
        c.startAll()
        c.run(for: .seconds(10))
        c.cut("lvs1", "lvs2")
        c.cut("lvs1", "lvs3")
        c.run(for: .seconds(10))
        #expect(Set(c.masters) == ["lvs1", "lvs2"])
        let healedAt = c.now
        c.heal()
        c.run(for: .seconds(1) + .milliseconds(2))
        #expect(c.masters == ["lvs1"])
        let stepDown = try #require(c.transitions(of: "lvs2").last { $0.from == .master }).at
        #expect(stepDown - healedAt <= .seconds(1) + c.latency)
    }

    @Test func equalPrioritiesAreBrokenByTheHigherPrimaryAddress() {
        let c = SimulatedCluster.make(priorities: [100, 100, 100])
        c.startAll()
        c.run(for: .seconds(20))
        #expect(c.masters == ["lvs3"])  // 172.31.18.12 is the highest address
    }

    @Test func multicastOnANetworkThatDropsItSplitsTheBrainAndUnicastDoesNot() {
        let split = SimulatedCluster.make(priorities: [200, 150, 100], unicast: false, dropsMulticast: true)
        split.startAll()
        split.run(for: .seconds(10))
        #expect(split.masters.count == 3)
        let unicast = SimulatedCluster.make(priorities: [200, 150, 100], unicast: true, dropsMulticast: true)
        unicast.startAll()
        unicast.run(for: .seconds(10))
        #expect(unicast.masters == ["lvs1"])
    }

    @Test func aFaultyMasterHandsOverAndComesBack() {
        let c = SimulatedCluster.make(priorities: [200, 150])
        c.startAll()
        c.run(for: .seconds(10))
        c.fault("lvs1", true)
        c.run(for: .seconds(2))
        #expect(c.state("lvs1") == .fault)
        #expect(c.masters == ["lvs2"])
        c.fault("lvs1", false)
        c.run(for: .seconds(10))
        #expect(c.masters == ["lvs1"])
    }

    @Test func trackScriptWeightMovesMastership() {
        let c = SimulatedCluster.make(priorities: [200, 150], tracked: [TrackedItem(.script, "chk", weight: -80)])
        c.startAll()
        c.run(for: .seconds(10))
        c.setTracked("lvs1", .script, "chk", up: false)
        c.run(for: .seconds(10))
        #expect(c.masters == ["lvs2"])
    }

    @Test func forgedPacketsAreDroppedAndCountedWithoutStateChange() {
        let c = SimulatedCluster.make(priorities: [200, 150], version: .v2)
        c.startAll()
        c.run(for: .seconds(10))
        let transitions = c.transitions.count
        let forged = VRRPAdvertisement(version: .v2, virtualRouterID: 51, priority: 254, advertisementInterval: .seconds(1),
                                       addresses: [IPv4Address(192, 168, 20, 11)], authType: .simplePassword,
                                       authenticationData: VRRPAdvertisement.passwordData("guess"))
        let attacker = IPv4Address(172, 31, 18, 66)
        let lvs1 = IPv4Address(172, 31, 18, 10), lvs2 = IPv4Address(172, 31, 18, 11)
        let fromStranger = ReceivedPacket(payload: try! forged.encoded(pseudoHeader: PseudoHeader(source: attacker, destination: lvs1)),
                                          source: attacker, destination: lvs1, timeToLive: 255)
        #expect(c.inject(fromStranger, into: "lvs1")?.reason == .unknownSource)
        let spoofedPeer = ReceivedPacket(payload: fromStranger.payload, source: lvs2, destination: lvs1, timeToLive: 255)
        #expect(c.inject(spoofedPeer, into: "lvs1")?.reason == .authFailure)
        let badTTL = ReceivedPacket(payload: fromStranger.payload, source: lvs2, destination: lvs1, timeToLive: 64)
        #expect(c.inject(badTTL, into: "lvs1")?.reason == .badTTL)
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1"])
        #expect(c.transitions.count == transitions)
        #expect(c.counters("lvs1").rejectedTotal == 3)
    }

    @Test func everyAdvertisementReachesEachPeerOnce() {
        let c = SimulatedCluster.make(priorities: [200, 150, 100, 50])
        c.startAll()
        c.run(for: .seconds(10))
        let sent = c.counters("lvs1").advertisementsSent
        c.run(for: .seconds(10))
        let sentInWindow = c.counters("lvs1").advertisementsSent - sent
        #expect(sentInWindow == 10)
        for peer in ["lvs2", "lvs3", "lvs4"] {
            #expect(c.counters(peer).advertisementsReceived == c.counters("lvs1").advertisementsSent)
        }
    }
}
