import Foundation
import Lab
import LinuxNet
import NetworkTypes
import Nftables
import Testing

/// Namespace tier: Accept Mode off (`no_accept`). A non-accepting MASTER holds its VIP
/// but drops what is addressed to it (a TCP connection; ping is not on the machine),
/// through keepalived's nftables table;
/// the VIP is in the table's set on the MASTER only and follows a failover; the table is
/// gone after stop. The same lab with accept mode on (the default) answers.
@Suite(.serialized) struct AcceptModeTests {
    static let vip = "172.31.18.100"

    static func config(priority: Int, me: String, peer: String, noAccept: Bool) -> String {
        var instance = LabInstance(priority: priority, version: 3, advertInt: "0.2", source: me, peers: [peer],
                                   extra: noAccept ? ["no_accept"] : [])
        instance.vip = vip
        return instance.text
    }

    /// The `keepalived` table's set in `node`, read through libnftables in its namespace;
    /// nil when there is no such table.
    static func firewalled(_ lab: NetworkLab, _ node: NetworkLab.Node) -> [String]? {
        let ruleset = VIPFirewallRuleset(table: "keepalived")
        guard let listing = try? inNetworkNamespace(node.namespace, { try NftablesContext().run(ruleset.listSetCommand) })
        else { return nil }
        return VIPFirewallRuleset.elements(inListing: listing).map(\.description)
    }

    /// A TCP connection from `client` to port 9 of `address` (the VIP): "refused" is the
    /// MASTER's kernel answering (RST, nothing listens), "timeout" is the SYN dropped.
    static func tcpOutcome(_ lab: NetworkLab, _ client: NetworkLab.Node, to address: String = vip) -> String {
        let script = """
            import socket
            try:
                socket.create_connection(("\(address)", 9), timeout=1.5); print("connected")
            except ConnectionRefusedError: print("refused")
            except OSError: print("timeout")
            """
        return ((try? lab.exec(client, ["python3", "-c", script], timeout: 10)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A plain switched lab (not the VPC fabric, whose source/destination check would
    /// drop traffic to a VIP that is no ENI's address): what is dropped is the table's doing.
    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "bridge", "python3"], test: "accept mode")))
    func aNonAcceptingMasterDropsTrafficToItsVIPAndTheSetFollowsMastership() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        let client = try lab.addNode("c", address: "172.31.18.50/16")

        // Accept mode on (keepalived's default without strict mode): the MASTER answers, no table.
        let accepting = try lab.startOvercast(n1, config: Self.config(priority: 150, me: "172.31.18.10", peer: "172.31.18.11",
                                                                      noAccept: false), tag: "-accept")
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.holds(n1, Self.vip) }, "\(lab.log(n1, tag: "-accept"))")
        #expect(waitUntil(timeout: 5) { Self.tcpOutcome(lab, client) == "refused" })
        #expect(Self.firewalled(lab, n1) == nil)
        _ = accepting.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 5) { !accepting.isRunning && !lab.holds(n1, Self.vip) })

        // no_accept: the MASTER holds the VIP and drops what is addressed to it.
        let first = try lab.startOvercast(n1, config: Self.config(priority: 150, me: "172.31.18.10", peer: "172.31.18.11", noAccept: true))
        let second = try lab.startOvercast(n2, config: Self.config(priority: 100, me: "172.31.18.11", peer: "172.31.18.10", noAccept: true))
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.state(n2) == "BACKUP" && lab.holds(n1, Self.vip) },
                "\(lab.log(n1))")
        #expect(waitUntil(timeout: 3) { Self.firewalled(lab, n1) == [Self.vip] }, "\(String(describing: Self.firewalled(lab, n1)))")
        #expect(Self.firewalled(lab, n2) == [], "the BACKUP's table has an empty set")
        #expect(Self.tcpOutcome(lab, client) == "timeout")
        // Advertisements still pass: the BACKUP stays BACKUP (it hears the MASTER).
        #expect(lab.state(n2) == "BACKUP")
        // The MASTER's own traffic from its primary address is untouched.
        #expect(Self.tcpOutcome(lab, n1, to: "172.31.18.50") == "refused")
        #expect(Self.tcpOutcome(lab, n2) == "timeout", "from the BACKUP too")

        // Failover: the stopped MASTER's table is gone, the new MASTER's set has the VIP.
        _ = first.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 8) { !first.isRunning && lab.state(n2) == "MASTER" && lab.holds(n2, Self.vip) }, "\(lab.log(n2))")
        #expect(Self.firewalled(lab, n1) == nil, "n1's table after stop")
        #expect(waitUntil(timeout: 3) { Self.firewalled(lab, n2) == [Self.vip] })
        #expect(Self.tcpOutcome(lab, client) == "timeout")

        _ = second.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 5) { !second.isRunning })
        #expect(Self.firewalled(lab, n2) == nil, "n2's table after stop")
        for node in [n1, n2] {
            #expect(!lab.log(node).contains("nftables table for no_accept"), "\(node.name): \(lab.log(node))")
        }
    }
}
