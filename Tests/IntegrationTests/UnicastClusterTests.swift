import Foundation
import Testing
import Lab

/// Namespace tier: Overcast daemons on a bridge that drops multicast, as a cloud
/// network does. Counts MASTERs by who holds the VIP and by `overcast status`.
@Suite struct UnicastClusterTests {
    static let vip = "192.168.20.11"

    /// A lab of `count` nodes at 172.31.18.10, .11, ... on a multicast-dropping switch.
    static func lab(_ count: Int) throws -> (NetworkLab, [NetworkLab.Node]) {
        try Prerequisites.require(commands: ["ip", "bridge"])
        let lab = try VPCLab.network()
        let nodes = try (0..<count).map { try lab.addNode("n\($0 + 1)", address: "172.31.18.\(10 + $0)/16") }
        return (lab, nodes)
    }

    static func address(_ n: Int) -> String { "172.31.18.\(10 + n)" }

    /// Every node peers with all the others.
    static func unicast(_ nodes: [NetworkLab.Node], _ i: Int, priority: Int, version: Int = 3, advertInt: String = "0.2",
                        extra: [String] = []) -> LabInstance {
        LabInstance(priority: priority, version: version, advertInt: advertInt, password: version == 2 ? "1111" : nil,
                    source: address(i), peers: nodes.indices.filter { $0 != i }.map(address), extra: extra)
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip", "keepalived"], test: "split brain")))
    func stockKeepalivedInMulticastModeSplitsTheBrainHere() throws {
        let (lab, nodes) = try Self.lab(2)
        defer { lab.teardown() }
        for (i, node) in nodes.enumerated() {
            _ = try lab.startKeepalived(node, config: LabInstance(priority: 100 + 50 * i).text)
        }
        // Both wait Master_Down_Interval (~3.6 s), hear nothing, and take the VIP.
        let split = waitUntil(timeout: 15) { lab.holders(Self.vip, among: nodes).count == 2 }
        #expect(split, "expected both keepalived MASTER on a multicast-dropping network; holders: \(lab.holders(Self.vip, among: nodes))")
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "two-node failover")))
    func twoNodesElectOneMasterFailOverAndPreemptBack() throws {
        let (lab, nodes) = try Self.lab(2)
        defer { lab.teardown() }
        var first = try lab.startOvercast(nodes[0], config: Self.unicast(nodes, 0, priority: 150).text)
        _ = try lab.startOvercast(nodes[1], config: Self.unicast(nodes, 1, priority: 100).text)
        #expect(waitUntil(timeout: 10) { lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP" },
                "\(lab.log(nodes[0]))\n\(lab.log(nodes[1]))")
        #expect(lab.holders(Self.vip, among: nodes) == ["n1"])
        #expect(lab.instance(nodes[1])?["masterAddress"] as? String == Self.address(0))

        // kill -9: the backup takes over after Master_Down_Interval (0.6 s + skew).
        first.stop(signal: SIGKILL)
        #expect(waitUntil(timeout: 5) { lab.state(nodes[1]) == "MASTER" })
        #expect(lab.holds(nodes[1], Self.vip))

        // Back with the higher priority: it preempts, and the old backup lets go.
        first = try lab.startOvercast(nodes[0], config: Self.unicast(nodes, 0, priority: 150).text, tag: "-again")
        #expect(waitUntil(timeout: 10) { lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP" })
        #expect(waitUntil(timeout: 3) { lab.holders(Self.vip, among: nodes) == ["n1"] })

        // SIGTERM: priority 0, the VIP is removed, the backup takes over after Skew_Time.
        first.stop(signal: SIGTERM)
        #expect(first.poll().map { $0 & 0x7F == 0 && ($0 >> 8) & 0xFF == 0 } == true, "graceful exit status")
        #expect(!lab.holds(nodes[0], Self.vip))
        #expect(waitUntil(timeout: 2) { lab.state(nodes[1]) == "MASTER" })
        #expect((lab.instance(nodes[1])?["priorityZeroReceived"] as? Int ?? 0) >= 1)
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "three-node cluster")))
    func threeNodesWithSubSecondVRRPv3KeepOneMasterThroughFailures() throws {
        let (lab, nodes) = try Self.lab(3)
        defer { lab.teardown() }
        var daemons: [ChildProcess] = []
        for (i, node) in nodes.enumerated() {
            daemons.append(try lab.startOvercast(node, config: Self.unicast(nodes, i, priority: 200 - 50 * i, advertInt: "0.1").text))
        }
        #expect(waitUntil(timeout: 10) { nodes.map { lab.state($0) } == ["MASTER", "BACKUP", "BACKUP"] })
        #expect(lab.holders(Self.vip, among: nodes) == ["n1"])
        daemons[0].stop(signal: SIGKILL)
        #expect(waitUntil(timeout: 3) { lab.state(nodes[1]) == "MASTER" && lab.state(nodes[2]) == "BACKUP" })
        #expect(lab.holders(Self.vip, among: Array(nodes[1...])) == ["n2"])
        daemons[1].stop(signal: SIGKILL)
        #expect(waitUntil(timeout: 3) { lab.state(nodes[2]) == "MASTER" })
        #expect(lab.holds(nodes[2], Self.vip))
    }

    /// One advertisement lost (the nodes cut apart for 1.5 intervals at advert_int 1,
    /// Master_Down_Interval 3.6 s, links staying up): nobody moves.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "lost advertisement")))
    func aLostAdvertisementChangesNothing() throws {
        let (lab, nodes) = try Self.lab(2)
        defer { lab.teardown() }
        for (i, node) in nodes.enumerated() {
            _ = try lab.startOvercast(node, config: Self.unicast(nodes, i, priority: 150 - 50 * i, advertInt: "1").text)
        }
        #expect(waitUntil(timeout: 10) { lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP" })
        let before = lab.instance(nodes[1])?["transitions"] as? Int
        let received = lab.instance(nodes[1])?["advertisementsReceived"] as? Int ?? 0
        try lab.isolate(nodes)
        usleep(1_500_000)
        let duringCut = lab.instance(nodes[1])?["advertisementsReceived"] as? Int ?? 0
        try lab.isolate(nodes, false)
        usleep(2_500_000)
        #expect(duringCut - received <= 1, "the cut did not stop advertisements")
        #expect((lab.instance(nodes[1])?["advertisementsReceived"] as? Int ?? 0) > duringCut)
        #expect(lab.instance(nodes[1])?["transitions"] as? Int == before)
        #expect(lab.state(nodes[1]) == "BACKUP")
        #expect(lab.holders(Self.vip, among: nodes) == ["n1"])
    }

    /// SIGHUP with an unchanged file: no transition, the VIP stays; with changed notify
    /// scripts and GARP settings, the same; with a changed priority the instance is
    /// replaced and the new priority shows.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "reload")))
    func reloadKeepsUnchangedInstancesAndAppliesChanges() throws {
        let (lab, nodes) = try Self.lab(2)
        defer { lab.teardown() }
        let master = try lab.startOvercast(nodes[0], config: Self.unicast(nodes, 0, priority: 150).text)
        _ = try lab.startOvercast(nodes[1], config: Self.unicast(nodes, 1, priority: 100).text)
        #expect(waitUntil(timeout: 10) { lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP" })
        let sent = lab.instance(nodes[0])?["advertisementsSent"] as? Int ?? 0
        kill(master.pid, SIGHUP)
        #expect(waitUntil(timeout: 5) { lab.overcastStatus(nodes[0])?["reloads"] as? Int == 1 })
        #expect(lab.instance(nodes[0])?["transitions"] as? Int == 2)   // INIT->BACKUP->MASTER, nothing since
        #expect(waitUntil(timeout: 3) { (lab.instance(nodes[0])?["advertisementsSent"] as? Int ?? 0) > sent })   // same instance
        #expect(lab.holds(nodes[0], Self.vip))

        // Only notify scripts and the GARP schedule changed: adopted in place, no flap.
        try Self.unicast(nodes, 0, priority: 150, extra: ["notify_master /bin/true", "garp_master_refresh 30"]).text
            .write(toFile: lab.path("n1.conf"), atomically: true, encoding: .utf8)
        kill(master.pid, SIGHUP)
        #expect(waitUntil(timeout: 5) { lab.overcastStatus(nodes[0])?["reloads"] as? Int == 2 })
        #expect(lab.instance(nodes[0])?["transitions"] as? Int == 2 && lab.instance(nodes[0])?["priorityZeroSent"] as? Int == 0,
                "\(lab.log(nodes[0]))")
        #expect(lab.state(nodes[0]) == "MASTER" && lab.holds(nodes[0], Self.vip))

        try Self.unicast(nodes, 0, priority: 90).text.write(toFile: lab.path("n1.conf"), atomically: true, encoding: .utf8)
        kill(master.pid, SIGHUP)
        #expect(waitUntil(timeout: 5) { lab.overcastStatus(nodes[0])?["reloads"] as? Int == 3 })
        #expect(waitUntil(timeout: 5) { lab.instance(nodes[0])?["basePriority"] as? Int == 90 })
        #expect(waitUntil(timeout: 5) { lab.state(nodes[1]) == "MASTER" && lab.state(nodes[0]) == "BACKUP" })
    }
}
