import NetworkTypes
import Testing
import VRRP
@testable import VRRPSimulation

/// What a transition means on a host (addresses, gratuitous ARP, notify scripts, routes,
/// sync groups, tracking), checked on the simulator: the daemon's own core and
/// interpreter, on a virtual clock.
@Suite struct InstanceEffectsTests {
    static let vip = IPv4Address(192, 168, 20, 11)

    /// An instance `name` on host `host` (address 172.31.18.`octet`), VRID `vrid`, unicast
    /// to `peers`.
    static func instance(_ name: String, octet: UInt8, vrid: UInt8 = 51, priority: UInt8, peers: [UInt8],
                         garp: GARPSchedule = GARPSchedule(), notify: NotifyScripts = NotifyScripts(),
                         tracked: [TrackedItem] = [], manageAddresses: Bool = true) -> InstanceCore.Configuration {
        let machine = VRRPStateMachine.Configuration(version: .v3, priority: priority, advertisementInterval: .seconds(1),
                                                     primaryAddress: IPv4Address(172, 31, 18, octet))
        let router = VirtualRouter.Configuration(virtualRouterID: vrid, stateMachine: machine, virtualAddresses: [vip],
                                                 unicastPeers: peers.map { IPv4Address(172, 31, 18, $0) })
        return InstanceCore.Configuration(name: name, router: router, manageAddresses: manageAddresses, garp: garp,
                                          notify: notify, tracked: tracked)
    }

    static let notify = NotifyScripts(master: "/etc/keepalived/to-master.sh", backup: "/etc/keepalived/to-backup.sh",
                                      fault: "/etc/keepalived/to-fault.sh", stop: "/etc/keepalived/stop.sh",
                                      any: "/etc/keepalived/notify.sh")

    @Test func becomingMasterAddsTheAddressesAnnouncesThemTwiceAndRefreshes() {
        let c = SimulatedCluster()
        let garp = GARPSchedule(delay: .seconds(5), repeatCount: 3, refresh: .seconds(60), refreshRepeat: 2)
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11], garp: garp))
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 100, peers: [10], garp: garp))
        c.startAll()
        c.run(for: .seconds(4))
        #expect(c.masters == ["lvs1"])
        #expect(c.host("lvs1").holdsAddresses && !c.host("lvs2").holdsAddresses)
        #expect(c.host("lvs1").gratuitousARPRounds == 3)          // the first burst
        let masterAt = c.lastBecameMaster("lvs1") ?? .zero
        c.run(until: masterAt + .seconds(5) + .milliseconds(1))
        #expect(c.host("lvs1").gratuitousARPRounds == 6)          // garp_master_delay's second burst
        c.run(until: masterAt + .seconds(60) + .milliseconds(1))
        #expect(c.host("lvs1").gratuitousARPRounds == 8)          // one refresh of 2
        c.run(until: masterAt + .seconds(120) + .milliseconds(1))
        #expect(c.host("lvs1").gratuitousARPRounds == 10)
        #expect(c.host("lvs2").gratuitousARPRounds == 0)
    }

    /// vrrp_garp_interval: a burst's rounds go out that far apart, not at once; leaving
    /// MASTER stops what is left of it.
    @Test func aPacedBurstSendsOneRoundPerInterval() {
        let c = SimulatedCluster()
        let garp = GARPSchedule(delay: .zero, repeatCount: 4, interval: .milliseconds(250))
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11], garp: garp))
        c.startAll()
        c.run(until: .seconds(10), stoppingWhen: { c.masters == ["lvs1"] })
        let masterAt = c.lastBecameMaster("lvs1") ?? .zero
        #expect(c.now < masterAt + .milliseconds(1))
        c.run(until: masterAt + .milliseconds(1))
        #expect(c.host("lvs1").gratuitousARPRounds == 1)
        c.run(until: masterAt + .milliseconds(251))
        #expect(c.host("lvs1").gratuitousARPRounds == 2)
        c.run(until: masterAt + .milliseconds(751))
        #expect(c.host("lvs1").gratuitousARPRounds == 4)
        c.run(until: masterAt + .seconds(3))
        #expect(c.host("lvs1").gratuitousARPRounds == 4)

        let d = SimulatedCluster()
        d.addInstance(Self.instance("lvs1", octet: 10, priority: 100, peers: [11], garp: GARPSchedule(delay: .zero, repeatCount: 50,
                                                                                                    interval: .milliseconds(500))))
        d.addInstance(Self.instance("lvs2", octet: 11, priority: 200, peers: [10]))
        d.start("lvs1")
        d.run(for: .seconds(5))
        #expect(d.masters == ["lvs1"])
        d.start("lvs2")
        d.run(for: .seconds(5))
        #expect(d.masters == ["lvs2"])
        let rounds = d.host("lvs1").gratuitousARPRounds
        d.run(for: .seconds(30))
        #expect(rounds < 50 && d.host("lvs1").gratuitousARPRounds == rounds)   // the rest of the burst was dropped
    }

    @Test func leavingMasterRemovesTheAddressesAndStopsTheARPSchedule() {
        let c = SimulatedCluster()
        let garp = GARPSchedule(delay: .seconds(5), repeatCount: 1, refresh: .seconds(10), refreshRepeat: 1)
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 100, peers: [11], garp: garp))
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 200, peers: [10], garp: garp))
        c.start("lvs1")
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1"] && c.host("lvs1").holdsAddresses)
        c.start("lvs2")                                               // preempts after its Master_Down_Interval
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs2"])
        #expect(!c.host("lvs1").holdsAddresses && c.host("lvs2").holdsAddresses)
        let rounds = c.host("lvs1").gratuitousARPRounds
        c.run(for: .seconds(60))
        #expect(c.host("lvs1").gratuitousARPRounds == rounds)      // no refresh once BACKUP
        #expect(c.core("lvs1").state == .backup)
    }

    @Test func noVirtualIPAddressRunsVRRPWithoutTouchingTheAddresses() {
        let c = SimulatedCluster()
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [], manageAddresses: false))
        c.startAll()
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1"])
        #expect(!c.host("lvs1").holdsAddresses && c.host("lvs1").gratuitousARPRounds == 0)
        #expect(c.host("lvs1").ownsRoutes)                           // routes still follow mastership
    }

    @Test func notifyScriptsRunOnEveryTransitionWithKeepalivedsArguments() {
        let c = SimulatedCluster()
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11], notify: Self.notify,
                                    tracked: [TrackedItem(.interface, "eth0")]))
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 100, peers: [10]))
        c.startAll()
        c.run(for: .seconds(5))
        c.setTracked("lvs1", .interface, "eth0", up: false)
        c.run(for: .seconds(1))
        c.setTracked("lvs1", .interface, "eth0", up: true)
        c.run(for: .seconds(5))
        c.shutdown("lvs1")
        let calls = c.host("lvs1").notifyCalls.map(\.description)
        #expect(calls == [
            "/etc/keepalived/to-backup.sh", "/etc/keepalived/notify.sh INSTANCE lvs1 BACKUP 200",
            "/etc/keepalived/to-master.sh", "/etc/keepalived/notify.sh INSTANCE lvs1 MASTER 200",
            "/etc/keepalived/to-fault.sh", "/etc/keepalived/notify.sh INSTANCE lvs1 FAULT 200",
            "/etc/keepalived/to-backup.sh", "/etc/keepalived/notify.sh INSTANCE lvs1 BACKUP 200",
            "/etc/keepalived/to-master.sh", "/etc/keepalived/notify.sh INSTANCE lvs1 MASTER 200",
            "/etc/keepalived/stop.sh", "/etc/keepalived/notify.sh INSTANCE lvs1 STOP 200",
        ])
    }

    @Test func routesFollowMastershipAndACrashLeavesThemWithTheDeadNode() {
        let c = SimulatedCluster()
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11]))
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 100, peers: [10]))
        c.startAll()
        c.run(for: .seconds(5))
        #expect(c.host("lvs1").ownsRoutes && !c.host("lvs2").ownsRoutes)
        c.crash("lvs1")
        c.run(for: .seconds(5))
        // The survivor takes the routes; the dead node's record still says it wrote them
        // (a real EC2 route table has one target: the survivor's write wins).
        #expect(c.host("lvs2").ownsRoutes && c.masters == ["lvs2"])
        c.start("lvs1")
        c.run(for: .seconds(5))
        #expect(c.host("lvs1").ownsRoutes && !c.host("lvs2").ownsRoutes)
    }

    /// Two instances per host in one sync group: one member's own FAULT takes the other
    /// with it, so both VIPs move together, and both come back together.
    @Test func aSyncGroupFailsOverAsOne() {
        let c = SimulatedCluster()
        let check = TrackedItem(.script, "chk_web")
        for (host, octet, peer, priority) in [("lvs1", UInt8(10), UInt8(11), UInt8(200)), ("lvs2", 11, 10, 100)] {
            c.addInstance(Self.instance("\(host)-web", octet: octet, vrid: 51, priority: priority, peers: [peer], tracked: [check]),
                          host: host, syncGroups: ["G"])
            c.addInstance(Self.instance("\(host)-db", octet: octet, vrid: 52, priority: priority, peers: [peer]),
                          host: host, syncGroups: ["G"])
        }
        c.startAll()
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1-web", "lvs1-db"])
        c.setTracked("lvs1-web", .script, "chk_web", up: false)
        c.run(for: .seconds(5))
        #expect(c.state("lvs1-web") == .fault && c.state("lvs1-db") == .fault)
        #expect(c.core("lvs1-db").faults == ["sync group G: lvs1-web in FAULT"])
        #expect(c.masters == ["lvs2-web", "lvs2-db"])
        c.setTracked("lvs1-web", .script, "chk_web", up: true)
        c.run(for: .seconds(10))
        #expect(c.masters == ["lvs1-web", "lvs1-db"])
        #expect(c.core("lvs1-db").faults.isEmpty)
    }

    /// A member that becomes MASTER takes a BACKUP member with it at once, without
    /// waiting for that member's own Master_Down_Interval.
    @Test func aSyncGroupMemberFollowsANewMasterAtOnce() throws {
        let c = SimulatedCluster()
        c.addInstance(Self.instance("a-web", octet: 10, vrid: 51, priority: 200, peers: [11]), host: "a", syncGroups: ["G"])
        c.addInstance(Self.instance("a-db", octet: 10, vrid: 52, priority: 100, peers: [11]), host: "a", syncGroups: ["G"])
        c.addInstance(Self.instance("b-web", octet: 11, vrid: 51, priority: 100, peers: [10]), host: "b", syncGroups: ["G"])
        c.addInstance(Self.instance("b-db", octet: 11, vrid: 52, priority: 200, peers: [10]), host: "b", syncGroups: ["G"])
        c.start("a")
        c.run(for: .seconds(5))
        c.start("b")
        c.run(for: .seconds(5))
        // b-db outranks a-db and preempts; b-web follows at once (then hands back to the
        // higher-priority a-web, as VRRP says: sync groups do not override priorities).
        let dbAt = try #require(c.lastBecameMaster("b-db"))
        #expect(c.transitions(of: "b-web").first { $0.to == .master }?.at == dbAt)
        #expect(c.transitions(of: "a-web").allSatisfy { $0.to != .backup || $0.from == .initialize })
    }

    @Test func trackingWeightsMoveThePriorityAndAWeightZeroItemFaults() {
        let c = SimulatedCluster()
        let items = [TrackedItem(.script, "chk", weight: -120), TrackedItem(.interface, "eth1", weight: 0)]
        c.addInstance(Self.instance("lvs1", octet: 10, priority: 200, peers: [11], tracked: items))
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 100, peers: [10]))
        c.startAll()
        c.run(for: .seconds(5))
        c.setTracked("lvs1", .script, "chk", up: false)
        #expect(c.core("lvs1").priority == 80)
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs2"])
        c.setTracked("lvs1", .script, "chk", up: true)
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs1"])
        c.setTracked("lvs1", .interface, "eth1", up: false)
        #expect(c.state("lvs1") == .fault && c.core("lvs1").faults == ["interface eth1 down"])
        c.setTracked("lvs1", .interface, "eth9", up: false)        // not tracked: nothing
        #expect(c.core("lvs1").faults == ["interface eth1 down"])
    }

    /// A reload that changes notify scripts, the GARP schedule or tracking weights is
    /// adopted by the running instance: no transition, no priority 0, no flap; the new
    /// settings act from then on. One that changes the protocol is refused (restart).
    @Test func aReloadOfHostSettingsIsAdoptedWithoutAFlap() {
        let c = SimulatedCluster()
        let before = Self.instance("lvs1", octet: 10, priority: 200, peers: [11], tracked: [TrackedItem(.script, "chk", weight: 0)])
        c.addInstance(before)
        c.addInstance(Self.instance("lvs2", octet: 11, priority: 100, peers: [10]))
        c.startAll()
        c.run(for: .seconds(5))
        let transitions = c.transitions.count
        var after = before
        after.notify = NotifyScripts(master: "/new/master.sh", backup: "/new/backup.sh")
        after.garp = GARPSchedule(delay: .zero, repeatCount: 1, refresh: .seconds(10), refreshRepeat: 3)
        after.tracked = [TrackedItem(.script, "chk", weight: -150)]
        c.reconfigure("lvs1", after)
        #expect(c.transitions.count == transitions && c.masters == ["lvs1"])
        #expect(c.core("lvs1").configuration.notify.master == "/new/master.sh")
        let rounds = c.host("lvs1").gratuitousARPRounds
        c.run(for: .seconds(10) + .milliseconds(1))
        // The burst garp_master_delay still had pending (now 1 round), then the new refresh's 3.
        #expect(c.host("lvs1").gratuitousARPRounds == rounds + 1 + 3)
        // The script's weight is now -150: failing moves the priority instead of faulting.
        c.setTracked("lvs1", .script, "chk", up: false)
        #expect(c.core("lvs1").priority == 50 && c.core("lvs1").faults.isEmpty)
        c.run(for: .seconds(5))
        #expect(c.masters == ["lvs2"])
        #expect(c.host("lvs1").notifyCalls.last?.command == "/new/backup.sh")

        var protocolChange = after
        protocolChange.router.stateMachine.priority = 120
        #expect(!InstanceCore.canReconfigure(after, to: protocolChange))
        c.reconfigure("lvs1", protocolChange)
        #expect(c.core("lvs1").configuration.router.stateMachine.priority == 200)   // refused: the daemon restarts instead
    }
}
