import Foundation
import Testing
import Lab

/// Namespace tier, faults between nodes: a partition (bridge port isolation cuts the
/// advertisements both ways) makes two MASTERs, as VRRP must; when it heals there is one
/// MASTER again within one advertisement interval; cuts shorter than
/// Master_Down_Interval, however often, move nothing.
@Suite struct PartitionTests {
    /// When the node's daemon entered its current state, on this process's wall clock.
    static func stateSince(_ lab: NetworkLab, _ node: NetworkLab.Node) -> (String, Double)? {
        let asked = Date().timeIntervalSince1970
        guard let status = lab.instance(node), let state = status["state"] as? String,
              let seconds = status["secondsInState"] as? Double else { return nil }
        return (state, asked - seconds)
    }

    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "bridge"], test: "partition")))
    func aHealedPartitionLeavesOneMasterWithinOneAdvertisementInterval() throws {
        let (lab, nodes) = try UnicastClusterTests.lab(2)
        defer { lab.teardown() }
        for (i, node) in nodes.enumerated() {
            _ = try lab.startOvercast(node, config: UnicastClusterTests.unicast(nodes, i, priority: 150 - 50 * i, advertInt: "0.2").text)
        }
        #expect(waitUntil(timeout: 10) { lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP" })

        for round in 1...2 {
            try lab.isolate(nodes)
            // Master_Down_Interval for priority 100 at 0.2 s: 3 x 0.2 + 0.61 x 0.2 = 0.72 s.
            #expect(waitUntil(timeout: 3, interval: 0.05) { lab.state(nodes[1]) == "MASTER" }, "round \(round): the cut did not cut")
            #expect(lab.state(nodes[0]) == "MASTER")
            #expect(lab.holders(UnicastClusterTests.vip, among: nodes).sorted() == ["n1", "n2"])

            try lab.isolate(nodes, false)
            let healed = Date().timeIntervalSince1970
            #expect(waitUntil(timeout: 3, interval: 0.02) { lab.state(nodes[1]) == "BACKUP" })
            let (state, since) = try #require(Self.stateSince(lab, nodes[1]))
            #expect(state == "BACKUP")
            // The lower priority steps down on the first advertisement it hears: at most
            // one interval (0.2 s) after the heal, plus scheduling slack.
            #expect(since - healed <= 0.2 + 0.1, "round \(round): one MASTER again \(since - healed) s after the heal")
            #expect(lab.state(nodes[0]) == "MASTER")
            #expect(waitUntil(timeout: 2) { lab.holders(UnicastClusterTests.vip, among: nodes) == ["n1"] })
        }
    }

    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "bridge"], test: "flapping link")))
    func aFlappingLinkShorterThanMasterDownMovesNothing() throws {
        let (lab, nodes) = try UnicastClusterTests.lab(2)
        defer { lab.teardown() }
        for (i, node) in nodes.enumerated() {
            _ = try lab.startOvercast(node, config: UnicastClusterTests.unicast(nodes, i, priority: 150 - 50 * i, advertInt: "0.5").text)
        }
        #expect(waitUntil(timeout: 10) { lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP" })
        let before = nodes.map { lab.instance($0)?["transitions"] as? Int }
        let received = lab.instance(nodes[1])?["advertisementsReceived"] as? Int ?? 0
        // Master_Down_Interval at 0.5 s is 1.8 s: cuts of 0.9 s, ten of them in 15 s.
        for _ in 0..<10 {
            try lab.isolate(nodes)
            usleep(900_000)
            try lab.isolate(nodes, false)
            usleep(600_000)
        }
        usleep(500_000)
        let heard = (lab.instance(nodes[1])?["advertisementsReceived"] as? Int ?? 0) - received
        // Fifteen seconds at 0.5 s would be 30 advertisements; the cuts took about 18.
        #expect(heard > 5 && heard < 25, "the cuts did not cut: \(heard) advertisements heard")
        #expect(nodes.map { lab.instance($0)?["transitions"] as? Int } == before)
        #expect(lab.state(nodes[1]) == "BACKUP")
        #expect(lab.holders(UnicastClusterTests.vip, among: nodes) == ["n1"])
    }
}
