import NetworkTypes
import Testing
import VRRP
@testable import VRRPSimulation

/// keepalived's answer to someone deleting what a MASTER owns (set_vrrp_backup): the
/// instance leaves MASTER for BACKUP with its Master_Down_Timer at Skew_Time, so it
/// re-elects at once and, winning, puts everything back; its sync group goes with it.
/// And `track_src_ip`: no source address is a FAULT, its return a recovery.
@Suite struct OwnedStateLossTests {
    static func instance(_ name: String, octet: UInt8, vrid: UInt8 = 51, priority: UInt8, peers: [UInt8],
                         tracked: [TrackedItem] = []) -> InstanceCore.Configuration {
        InstanceEffectsTests.instance(name, octet: octet, vrid: vrid, priority: priority, peers: peers, tracked: tracked)
    }

    @Test func aDeletedVIPTakesTheMasterToBackupAndStraightBackWithTheAddresses() throws {
        let c = SimulatedCluster()
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11]))
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 100, peers: [10]))
        c.startAll()
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1"])
        let lostAt = c.now
        c.deleteOwnedState("lvs1", "192.168.20.11/32")
        #expect(c.state("lvs1") == .backup)
        #expect(!c.host("lvs1").holdsAddresses, "leaving MASTER takes out what is left of its state")
        c.run(for: .seconds(3))
        #expect(c.masters == ["lvs1"])
        #expect(c.host("lvs1").holdsAddresses, "back as MASTER, the addresses are put back")
        // Back after Skew_Time (v3, priority 200, 1 s: (256-200)/256 s), not Master_Down_Interval.
        let back = try #require(c.lastBecameMaster("lvs1"))
        #expect(back - lostAt < .seconds(1))
        #expect(c.transitions(of: "lvs2").allSatisfy { $0.to != .master }, "the peer never took over")
    }

    /// The core's own effects: priority 0 (peers need not wait), everything it owns out,
    /// the Master_Down_Timer at Skew_Time, the sync group told it relinquished.
    @Test func theCoreGivesUpWithPriorityZeroAndArmsSkewTime() {
        var core = InstanceCore(configuration: Self.instance("lvs1", octet: 10, priority: 200, peers: [11]))
        _ = core.handle(.start)
        _ = core.handle(.timerFired(.masterDown))
        #expect(core.state == .master)
        let skew = core.router.machine.skewTime
        let effects = core.handle(.ownedStateLost("192.168.20.11/32"))
        #expect(effects.contains(.sendAdvertisement(priority: 0)) && effects.contains(.removeVirtualAddresses))
        #expect(effects.contains(.transition(from: .master, to: .backup)))
        #expect(effects.contains(.armTimer(.masterDown, after: skew)))
        #expect(effects.contains(.tellSyncGroup(SyncGroupNotice(member: "lvs1", state: .backup, ownFault: false, relinquished: true))))
        #expect(core.handle(.ownedStateLost("192.168.20.11/32")).isEmpty, "as BACKUP: nothing")
    }

    @Test func aDeletionWhileNotMasterChangesNothing() {
        let c = SimulatedCluster()
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11]))
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 100, peers: [10]))
        c.startAll()
        c.run(for: .seconds(5))
        let before = c.transitions(of: "lvs2").count
        c.deleteOwnedState("lvs2", "10.77.0.0/16")
        c.run(for: .seconds(3))
        #expect(c.state("lvs2") == .backup && c.transitions(of: "lvs2").count == before)
        #expect(c.masters == ["lvs1"])
    }

    @Test func theSyncGroupLeavesMasterWithTheMemberAndComesBackWithIt() {
        let c = SimulatedCluster()
        for (host, octet, peer, priority) in [("lvs1", UInt8(10), UInt8(11), UInt8(200)), ("lvs2", 11, 10, 100)] {
            c.addInstance(Self.instance("\(host)-web", octet: octet, vrid: 51, priority: priority, peers: [peer]),
                          host: host, syncGroups: ["G"])
            c.addInstance(Self.instance("\(host)-db", octet: octet, vrid: 52, priority: priority, peers: [peer]),
                          host: host, syncGroups: ["G"])
        }
        c.startAll()
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1-web", "lvs1-db"])
        c.deleteOwnedState("lvs1-web", "10.77.0.0/16")
        #expect(c.state("lvs1-web") == .backup && c.state("lvs1-db") == .backup, "the group leaves MASTER together")
        c.run(for: .seconds(3))
        #expect(c.masters == ["lvs1-web", "lvs1-db"])
        #expect(c.transitions(of: "lvs1-db").filter { $0.to == .backup && $0.from == .master }.count == 1)
    }

    @Test func trackSrcIPFaultsWhileTheSourceAddressIsMissing() {
        let c = SimulatedCluster()
        let source = TrackedItem(.sourceAddress, "172.31.18.10")
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11], tracked: [source]))
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 100, peers: [10]))
        c.startAll()
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1"])
        c.setTracked("lvs1", .sourceAddress, "172.31.18.10", up: false)
        #expect(c.state("lvs1") == .fault && c.core("lvs1").faults == ["source address 172.31.18.10 missing"])
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs2"])
        c.setTracked("lvs1", .sourceAddress, "172.31.18.10", up: true)
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1"] && c.core("lvs1").faults.isEmpty)
    }
}
