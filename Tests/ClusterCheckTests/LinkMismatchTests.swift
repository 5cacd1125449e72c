import ClusterCheck
import Config
import Foundation
import Testing

/// Pairs of files whose nodes cannot hear each other, or do not move the same routes:
/// peers, authentication, intervals, versions, transports, route tables, sync groups.
@Suite struct LinkMismatchTests {
    @Test func aPeerListedOneWayOnly() {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.peers = ["10.0.0.9"]
        let report = check([lvs1, lvs2])
        let oneWay = report.findings(.unicastPeerNotMutual)
        #expect(oneWay.count == 1 && oneWay.first?.severity == .error)
        #expect(oneWay.first?.places == [lvs1.at("10.0.0.2"), lvs2.at("unicast_peer")])
        #expect(oneWay.first?.message.contains("/cluster/lvs2.conf never sends to /cluster/lvs1.conf") == true)
        let unknown = report.findings(.unicastPeerUnknown)
        #expect(unknown.count == 1 && unknown.first?.severity == .warning)
        #expect(unknown.first?.places == [lvs2.at("10.0.0.9")])
    }

    @Test func peersThatDoNotListEachOther() {
        var lvs1 = NodeText.lvs1, lvs2 = NodeText.lvs2
        lvs1.peers = ["10.0.0.8"]
        lvs2.peers = ["10.0.0.9"]
        let found = check([lvs1, lvs2]).findings(.unicastPeerNotMutual)
        #expect(found.count == 1 && found.first?.places == [lvs1.at("unicast_peer"), lvs2.at("unicast_peer")])
    }

    @Test func twoNodesSendingFromOneAddress() {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.source = "10.0.0.1"
        lvs2.peers = ["10.0.0.2"]
        let found = check([lvs1, lvs2]).findings(.sharedSourceAddress)
        #expect(found.count == 1 && found.first?.severity == .error)
        #expect(found.first?.places == [lvs1.at("unicast_src_ip"), lvs2.at("unicast_src_ip")])
    }

    @Test func aMissingUnicastSource() {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.source = nil
        let report = check([lvs1, lvs2])
        let found = report.findings(.unicastSourceMissing)
        #expect(found.count == 1 && found.first?.severity == .warning && found.first?.places == [lvs2.at("unicast_peer")])
        // lvs1's peer may be lvs2's interface address: not reported as unknown.
        #expect(report.findings(.unicastPeerUnknown).isEmpty)
    }

    @Test func differentAuthTypes() {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.authentication = []
        let found = check([lvs1, lvs2]).findings(.authTypeDiffers)
        #expect(found.count == 1 && found.first?.severity == .error)
        #expect(found.first?.places == [lvs1.at("auth_type"), "\(lvs2.file):1"])
        #expect(found.first?.message.contains("/cluster/lvs1.conf PASS, /cluster/lvs2.conf none") == true)
    }

    @Test func differentPasswordsAreNeverPrinted() {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.authentication = ["auth_type PASS", "auth_pass secret2"]
        let report = check([lvs1, lvs2])
        let found = report.findings(.authPasswordDiffers)
        #expect(found.count == 1 && found.first?.severity == .error)
        #expect(found.first?.places == [lvs1.at("auth_pass"), lvs2.at("auth_pass")])
        let printed = ClusterCheckOutput.text(report) + ((try? ClusterCheckOutput.json(SimulateDocument(diagnostics: [], check: report))) ?? "")
        #expect(!printed.contains("secret1") && !printed.contains("secret2"))
    }

    /// Three nodes: the message groups the files that agree, without the passwords.
    @Test func passwordsOfThreeNodes() {
        var lvs3 = NodeText(file: "/cluster/lvs3.conf", state: "BACKUP", priority: 99, source: "10.0.0.3", peers: ["10.0.0.1", "10.0.0.2"])
        lvs3.authentication = ["auth_type PASS", "auth_pass secret2"]
        var lvs1 = NodeText.lvs1, lvs2 = NodeText.lvs2
        lvs1.peers.append("10.0.0.3")
        lvs2.peers.append("10.0.0.3")
        lvs2.authentication = lvs3.authentication
        let report = check([lvs1, lvs2, lvs3])
        #expect(report.findings.map(\.kind) == [.authPasswordDiffers], "\(report.findings)")
        #expect(report.findings.first?.message.contains("between {/cluster/lvs1.conf} and {/cluster/lvs2.conf, /cluster/lvs3.conf}") == true)
        #expect(report.findings.first?.places == [lvs1.at("auth_pass"), lvs2.at("auth_pass"), lvs3.at("auth_pass")])
    }

    static func hmac(_ node: NodeText, key: String) -> NodeText {
        var node = node
        node.authentication = ["auth_type HMAC_SHA256", "auth_key_file \(key)"]
        return node
    }

    @Test func differentHMACKeysAreComparedNeverPrinted() {
        let lvs1 = Self.hmac(.lvs1, key: "lvs1.key"), lvs2 = Self.hmac(.lvs2, key: "lvs2.key")
        let keys = ["/cluster/lvs1.key": Array("0123456789abcdef".utf8), "/cluster/lvs2.key": Array("fedcba9876543210".utf8)]
        let report = check([lvs1, lvs2], keys: keys)
        let found = report.findings(.authKeyDiffers)
        #expect(found.count == 1 && found.first?.severity == .error)
        #expect(found.first?.places == [lvs1.at("auth_key_file"), lvs2.at("auth_key_file")])
        #expect(!ClusterCheckOutput.text(report).contains("0123456789abcdef"))
        let same = check([lvs1, lvs2], keys: ["/cluster/lvs1.key": Array("0123456789abcdef".utf8),
                                              "/cluster/lvs2.key": Array("0123456789abcdef".utf8)])
        #expect(same.findings.isEmpty, "\(same.findings)")
    }

    @Test func keysThatCannotBeComparedSaySo() {
        let lvs1 = Self.hmac(.lvs1, key: "lvs1.key"), lvs2 = Self.hmac(.lvs2, key: "lvs2.key")
        let unreadable = check([lvs1, lvs2], keys: ["/cluster/lvs1.key": Array("0123456789abcdef".utf8)])
        let found = unreadable.findings(.authKeyUnverifiable)
        #expect(found.count == 1 && found.first?.severity == .warning)
        #expect(found.first?.places == [lvs1.at("auth_key_file"), lvs2.at("auth_key_file")])
        #expect(found.first?.message.contains("/cluster/lvs2.key: no such file") == true)
        // One path on every node is each node's own file: reading it here proves nothing.
        let shared = check([Self.hmac(.lvs1, key: "/etc/overcast/vi1.key"), Self.hmac(.lvs2, key: "/etc/overcast/vi1.key")],
                           keys: ["/etc/overcast/vi1.key": Array("0123456789abcdef".utf8)])
        #expect(shared.findings.map(\.kind) == [.authKeyUnverifiable])
        #expect(shared.findings.first?.message.contains("sha256sum /etc/overcast/vi1.key") == true)
    }

    @Test func differentIntervalsAreAnErrorInVersion2() {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.advertInt = "2"
        let found = check([lvs1, lvs2]).findings(.advertIntervalDiffers)
        #expect(found.count == 1 && found.first?.severity == .error)
        #expect(found.first?.places == [lvs1.at("advert_int"), lvs2.at("advert_int")])
    }

    @Test func differentIntervalsAreAWarningInVersion3() {
        var lvs1 = NodeText.lvs1, lvs2 = NodeText.lvs2
        for index in 0..<2 {
            var node = index == 0 ? lvs1 : lvs2
            node.authentication = []
            node.extra = ["version 3"]
            if index == 0 { lvs1 = node } else { lvs2 = node }
        }
        lvs2.advertInt = "0.5"
        let found = check([lvs1, lvs2]).findings(.advertIntervalDiffers)
        #expect(found.count == 1 && found.first?.severity == .warning)
    }

    /// One error: the authentication v3 drops and the other interval are that error again.
    @Test func differentVersions() {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.authentication = []
        lvs2.advertInt = "2"
        lvs2.extra = ["version 3"]
        let report = check([lvs1, lvs2])
        #expect(report.findings.map(\.kind) == [.versionDiffers], "\(report.findings)")
        #expect(report.findings.first?.severity == .error)
        #expect(report.findings.first?.places == ["\(lvs1.file):1", lvs2.at("version")])
    }

    /// lvs2 on multicast: against unicast an error (neither hears the other); against
    /// replicate a warning (the copies reach lvs2, lvs2's multicast only a LAN).
    @Test func transportsAgainstMulticast() {
        var multicast = NodeText.lvs2
        multicast.peers = []
        multicast.source = nil
        for (extra, severity, chosenBy) in [([String](), ClusterFinding.Severity.error, "unicast_peer"),
                                            (["transport replicate"], .warning, "transport")] {
            var lvs1 = NodeText.lvs1
            lvs1.extra = extra
            let found = check([lvs1, multicast]).findings(.transportDiffers)
            #expect(found.count == 1 && found.first?.severity == severity)
            #expect(found.first?.places == [lvs1.at(chosenBy), "\(multicast.file):1"])
        }
    }

    @Test func routeTablesThatAreNotShared() {
        var lvs1 = NodeText.lvs1, lvs2 = NodeText.lvs2
        lvs1.extra = ["ec2_route_failover {", "  route_table rtb-1 rtb-2", "}"]
        lvs2.extra = ["ec2_route_failover {", "  route_table rtb-1", "}"]
        let found = check([lvs1, lvs2]).findings(.routeTablesDiffer)
        #expect(found.count == 1 && found.first?.severity == .error)
        #expect(found.first?.places == [lvs1.at("route_table"), lvs2.at("route_table")])
        #expect(found.first?.message.contains("rtb-2 is not moved by every node") == true)
    }

    @Test func routeFailoverOnOneNodeOnly() {
        var lvs1 = NodeText.lvs1
        let lvs2 = NodeText.lvs2
        lvs1.extra = ["ec2_route_failover {", "  route_table rtb-1", "  region eu-west-1", "}"]
        let found = check([lvs1, lvs2]).findings(.routeFailoverMissing)
        #expect(found.count == 1 && found.first?.severity == .error)
        #expect(found.first?.places == [lvs1.at("ec2_route_failover"), "\(lvs2.file):1"])
    }

    @Test func differentRegions() {
        var lvs1 = NodeText.lvs1, lvs2 = NodeText.lvs2
        lvs1.extra = ["ec2_route_failover {", "  route_table rtb-1", "  region eu-west-1", "}"]
        lvs2.extra = ["ec2_route_failover {", "  route_table rtb-1", "  region us-east-1", "}"]
        let found = check([lvs1, lvs2]).findings(.routeSettingsDiffer)
        #expect(found.count == 1 && found.first?.severity == .warning)
        #expect(found.first?.places == [lvs1.at("region"), lvs2.at("region")])
    }

    static let secondInstance = ["vrrp_instance VI_2 {", "  interface eth1", "  virtual_router_id 52",
                                 "  priority 10X", "  unicast_src_ip 10.1.0.X", "  unicast_peer {", "    10.1.0.Y", "  }",
                                 "  virtual_ipaddress {", "    10.1.0.254", "  }", "}"]

    static func withSecondInstance(_ node: NodeText, own: Int, peer: Int, syncGroup: Bool) -> NodeText {
        var node = node
        node.after = secondInstance.map { $0.replacingOccurrences(of: "X", with: "\(own)").replacingOccurrences(of: "Y", with: "\(peer)") }
        if syncGroup { node.after += ["vrrp_sync_group G1 {", "  group {", "    VI_1", "    VI_2", "  }", "}"] }
        return node
    }

    @Test func syncGroupsThatDiffer() {
        let lvs1 = Self.withSecondInstance(.lvs1, own: 1, peer: 2, syncGroup: true)
        let lvs2 = Self.withSecondInstance(.lvs2, own: 2, peer: 1, syncGroup: false)
        let report = check([lvs1, lvs2])
        let found = report.findings(.syncGroupsDiffer)
        #expect(found.count == 1 && found.first?.severity == .warning && found.first?.virtualRouterID == nil)
        #expect(found.first?.places == [lvs1.at("vrrp_sync_group"), "\(lvs2.file):1", lvs2.at("vrrp_instance VI_2")])
        #expect(found.first?.message.contains("G1 holds VRID 51, VRID 52") == true)
        #expect(report.findings.count == 1, "\(report.findings)")
        let agreeing = check([lvs1, Self.withSecondInstance(.lvs2, own: 2, peer: 1, syncGroup: true)])
        #expect(agreeing.findings.isEmpty, "\(agreeing.findings)")
    }

    /// Track scripts and interfaces are each node's own: different ones are no finding.
    @Test func trackingIsNodeLocal() {
        var lvs1 = NodeText.lvs1
        lvs1.extra = ["track_interface {", "  eth1 weight -20", "}"]
        #expect(check([lvs1, .lvs2]).findings.isEmpty)
    }

    static func overlayNode(_ node: NodeText, local: String, peer: String, key: Int) -> NodeText {
        var node = node
        node.interface = "ovc0"
        node.peers = []
        node.source = nil
        node.after = ["overlay ovc0 {", "  local \(local)", "  peers {", "    \(peer)", "  }", "  key \(key)",
                      "  address 10.200.0.\(local.split(separator: ".").last ?? "1")/24", "}"]
        return node
    }

    @Test func overlaysThatDoNotAgree() {
        let lvs1 = Self.overlayNode(.lvs1, local: "172.31.0.1", peer: "172.31.0.2", key: 7)
        let lvs2 = Self.overlayNode(.lvs2, local: "172.31.0.2", peer: "172.31.0.9", key: 8)
        let report = check([lvs1, lvs2])
        let peers = report.findings(.overlayPeerNotMutual)
        #expect(peers.count == 1 && peers.first?.places == [lvs1.at("172.31.0.2"), lvs2.at("peers")])
        let keys = report.findings(.overlayKeyDiffers)
        #expect(keys.count == 1 && keys.first?.places == [lvs1.at("key"), lvs2.at("key")])
        #expect(report.findings(.transportDiffers).isEmpty)
    }
}
