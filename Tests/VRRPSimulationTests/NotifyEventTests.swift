import NetworkTypes
import Testing
import VRRP
@testable import VRRPSimulation

/// keepalived's notify events beyond transitions, decided by the instance core and seen
/// through the simulator's host: FIFO lines, notify_master_rx_lower_pri, priority
/// changes, and a sync group's own notifies and tracking.
@Suite struct NotifyEventTests {
    static func instance(_ name: String, octet: UInt8, vrid: UInt8 = 51, priority: UInt8, peers: [UInt8],
                         notify: NotifyScripts = NotifyScripts(), tracked: [TrackedItem] = []) -> InstanceCore.Configuration {
        InstanceEffectsTests.instance(name, octet: octet, vrid: vrid, priority: priority, peers: peers, notify: notify,
                                      tracked: tracked)
    }

    @Test func everyTransitionWritesKeepalivedsFIFOLine() {
        let c = SimulatedCluster()
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11]))
        c.start("lvs1")
        c.run(for: .seconds(5))
        c.shutdown("lvs1")
        c.run(for: .seconds(1))
        #expect(c.host("lvs1").notifyLines.map(\.description)
                == ["INSTANCE \"lvs1\" BACKUP 200", "INSTANCE \"lvs1\" MASTER 200", "INSTANCE \"lvs1\" STOP 200"])
    }

    /// A partition heals with two MASTERs: the lower steps down, the higher one hears a
    /// lower priority and runs notify_master_rx_lower_pri (the stale-writer case).
    @Test func aMasterHearingALowerPriorityRunsRxLowerPri() {
        let c = SimulatedCluster()
        let notify = NotifyScripts(masterRxLowerPriority: "/etc/keepalived/reclaim.sh")
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11], notify: notify))
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 100, peers: [10], notify: notify))
        c.startAll()
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1"])
        #expect(c.host("lvs1").notifyCalls.isEmpty && c.host("lvs2").notifyCalls.isEmpty)  // a BACKUP's adverts: none sent
        c.cut("lvs1", "lvs2")
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1", "lvs2"])
        c.heal()
        // lvs1's next advertisement is lost, so lvs2 (still MASTER) is heard first.
        c.dropNextAdvertisements(from: "lvs1", count: 1)
        c.run(for: .seconds(3))
        #expect(c.masters == ["lvs1"])
        let reclaims = c.host("lvs1").notifyCalls.filter { $0.command == "/etc/keepalived/reclaim.sh" }
        #expect(reclaims.count >= 1 && reclaims.allSatisfy { $0.arguments.isEmpty })
        #expect(c.host("lvs1").notifyLines.contains { $0.description == "INSTANCE \"lvs1\" MASTER_RX_LOWER_PRI 200" })
        // The lower one stepped down on hearing the higher: it heard no lower priority.
        #expect(!c.host("lvs2").notifyCalls.contains { $0.command == "/etc/keepalived/reclaim.sh" })
        // Once it backs off (it sends no more as BACKUP), there is nothing more to reclaim.
        let settled = c.host("lvs1").notifyCalls.count
        c.run(for: .seconds(10))
        #expect(c.host("lvs1").notifyCalls.count == settled)
    }

    @Test func priorityChangesWriteFIFOLinesOnlyWhenAskedFor() {
        let c = SimulatedCluster()
        let check = TrackedItem(.script, "chk", weight: -50)
        c.addInstance(Self.instance("asked", octet: 10, vrid: 51, priority: 200, peers: [],
                                    notify: NotifyScripts(priorityChanges: true), tracked: [check]))
        c.addInstance(Self.instance("quiet", octet: 12, vrid: 52, priority: 200, peers: [], tracked: [check]))
        c.startAll()
        c.run(for: .seconds(5))
        c.setTracked("asked", .script, "chk", up: false)
        c.setTracked("quiet", .script, "chk", up: false)
        c.run(for: .seconds(1))
        #expect(c.host("asked").notifyLines.last?.description == "INSTANCE \"asked\" MASTER_PRIORITY 150")
        #expect(!c.host("quiet").notifyLines.contains { $0.event.hasSuffix("_PRIORITY") })
    }

    /// The group's own notify runs once per group transition with "GROUP" NAME STATE 0,
    /// while each member runs its own.
    @Test func aSyncGroupRunsItsOwnNotifyOncePerGroupTransition() {
        let c = SimulatedCluster()
        c.addInstance(Self.instance("web", octet: 10, vrid: 51, priority: 200, peers: [],
                                    tracked: [TrackedItem(.script, "chk")]), host: "a", syncGroups: ["G"])
        c.addInstance(Self.instance("db", octet: 10, vrid: 52, priority: 200, peers: [],
                                    tracked: [TrackedItem(.script, "chk")]), host: "a", syncGroups: ["G"])
        c.defineSyncGroup(.init(name: "G", members: ["web", "db"], notify: NotifyScripts(any: "/g/notify.sh")), host: "a")
        c.start("web")
        c.start("db")
        c.run(for: .seconds(5))
        #expect(c.syncGroupState("G", host: "a") == .master)
        // A group-tracked script (each member tracks it) fails: both in FAULT, one group FAULT.
        c.setTracked("web", .script, "chk", up: false)
        c.setTracked("db", .script, "chk", up: false)
        c.run(for: .seconds(1))
        #expect(c.state("web") == .fault && c.state("db") == .fault)
        #expect(c.groupTransitions.map { $0.transition.calls.map(\.description) }
                == [["/g/notify.sh GROUP G BACKUP 0"], ["/g/notify.sh GROUP G MASTER 0"], ["/g/notify.sh GROUP G FAULT 0"]])
        #expect(c.groupTransitions.last?.transition.line.description == "GROUP \"G\" FAULT 0")
        // Both members' own faults clear: neither holds the other in FAULT.
        c.setTracked("web", .script, "chk", up: true)
        c.setTracked("db", .script, "chk", up: true)
        c.run(for: .seconds(5))
        #expect(c.state("web") == .master && c.state("db") == .master, "\(c.core("web").faults) \(c.core("db").faults)")
        #expect(c.syncGroupState("G", host: "a") == .master)
    }
}

extension NotifyEventTests {
    /// `overcast simulate` carries the configuration's sync groups' own notifies: the
    /// takeover host's group goes MASTER once all its members are, and says so once.
    @Test func simulateReportsTheSyncGroupsOwnNotifies() {
        let hosts = ScenarioTests.hosts().map { host -> SimulatedHost in
            var second = host.instances[0]
            second.name = "VI_2"
            second.router.virtualRouterID = 52
            return SimulatedHost(name: host.name, instances: host.instances + [second], syncGroups: ["G": ["VI_1", "VI_2"]],
                                 groupNotify: ["G": NotifyScripts(master: "/etc/keepalived/group-master.sh")])
        }
        let report = SimulatedCluster.play(.killMaster, on: hosts)
        let group = report.notifyCalls.filter { $0.text == "notify: /etc/keepalived/group-master.sh" }
        #expect(group.map(\.node) == ["lvs2", "lvs1"], "\(report.notifyCalls)")
        #expect(report.timeline.contains { $0.node == "lvs2" && $0.text == "sync group G: BACKUP -> MASTER" })
    }
}
