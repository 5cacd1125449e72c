import ClusterCheck
import Config
import Foundation
import Testing

/// Pairs of files that differ in one thing each: which virtual routers exist, which
/// addresses they move, and who wins the election when.
@Suite struct ElectionMismatchTests {
    @Test func aConsistentPairHasNoFinding() {
        let report = check([.lvs1, .lvs2])
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(report.virtualRouters.count == 1)
        #expect(report.virtualRouters.first?.members.map(\.file) == ["/cluster/lvs1.conf", "/cluster/lvs2.conf"])
    }

    /// The article's own files (conf/) are the consistent pair the README shows.
    @Test func theArticlesFilesAgree() {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let loaded = ["article-lvs1-master", "article-lvs2-backup"].map { ClusterNodeLoader.load(path: "\(root)/conf/\($0).conf") }
        #expect(loaded.allSatisfy { $0.isValid }, "\(loaded.flatMap(\.diagnostics))")
        let report = ClusterCheck.run(loaded.map(\.node))
        #expect(report.findings.isEmpty, "\(report.findings)")
    }

    @Test func interfaceNamesAreNodeLocal() {
        var lvs2 = NodeText.lvs2
        lvs2.interface = "ens5"
        let report = check([.lvs1, lvs2])
        #expect(report.findings.isEmpty, "\(report.findings)")
        #expect(report.virtualRouters.count == 1 && report.virtualRouters.first?.interface == nil)
    }

    @Test func differentVirtualAddresses() {
        var lvs1 = NodeText.lvs1
        lvs1.addresses = ["192.168.20.11", "192.168.20.12"]
        let lvs2 = NodeText.lvs2
        let found = check([lvs1, lvs2]).findings(.virtualAddressesDiffer)
        #expect(found.count == 1 && found.first?.severity == .error)
        #expect(found.first?.places == [lvs1.at("192.168.20.12"), lvs2.at("virtual_ipaddress")])
        #expect(found.first?.virtualRouterID == 51)
    }

    @Test func differentPrefixLengths() {
        var lvs1 = NodeText.lvs1
        lvs1.addresses = ["192.168.20.11/24"]
        let lvs2 = NodeText.lvs2
        let found = check([lvs1, lvs2]).findings(.virtualAddressPrefixDiffers)
        #expect(found.count == 1 && found.first?.severity == .warning)
        #expect(found.first?.places == [lvs1.at("192.168.20.11"), lvs2.at("192.168.20.11")])
    }

    @Test func aVirtualRouterOnOneNodeOnly() {
        var lvs1 = NodeText.lvs1
        lvs1.after = ["vrrp_instance VI_2 {", "  interface eth0", "  virtual_router_id 52", "  unicast_src_ip 10.0.0.1",
                      "  unicast_peer {", "    10.0.0.2", "  }", "  virtual_ipaddress {", "    192.168.20.12", "  }", "}"]
        let report = check([lvs1, .lvs2])
        let found = report.findings(.instanceOnSomeNodesOnly)
        #expect(found.count == 1 && found.first?.severity == .warning && found.first?.virtualRouterID == 52)
        #expect(found.first?.places == ["\(lvs1.file):\(lvs1.line("virtual_router_id 52"))"])
        #expect(report.findings.count == 1, "\(report.findings)")
    }

    /// A VRID typed differently on one node: each node is MASTER of its own router and
    /// both hold the address.
    @Test func theSameAddressUnderTwoVRIDs() {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.virtualRouterID = 52
        let report = check([lvs1, lvs2])
        let found = report.findings(.sameAddressDifferentRouter)
        #expect(found.count == 1 && found.first?.severity == .error && found.first?.virtualRouterID == nil)
        #expect(found.first?.places == [lvs1.at("192.168.20.11"), lvs2.at("192.168.20.11")])
        #expect(found.first?.message.contains("VRID 51 on /cluster/lvs1.conf but VRID 52 on /cluster/lvs2.conf") == true)
        #expect(report.findings(.instanceOnSomeNodesOnly).count == 2)
    }

    /// Rule 3 of the pairing: a VRID used on two interfaces of one file pairs by interface.
    @Test func aVRIDOnTwoInterfacesPairsByInterface() {
        var lvs1 = NodeText.lvs1
        lvs1.after = ["vrrp_instance VI_2 {", "  interface eth1", "  virtual_router_id 51", "  unicast_src_ip 10.1.0.1",
                      "  unicast_peer {", "    10.1.0.2", "  }", "  virtual_ipaddress {", "    192.168.30.11", "  }", "}"]
        let report = check([lvs1, .lvs2])
        #expect(report.virtualRouters.map(\.interface) == ["eth0", "eth1"])
        #expect(report.virtualRouters.map(\.members.count) == [2, 1])
        #expect(report.findings.map(\.kind) == [.instanceOnSomeNodesOnly], "\(report.findings)")
        #expect(report.findings.first?.message.hasPrefix("VRID 51 on eth1: ") == true)
    }

    @Test func aPriorityTieNamesTheWinner() {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.priority = 101
        let found = check([lvs1, lvs2]).findings(.priorityTie)
        #expect(found.count == 1 && found.first?.severity == .warning)
        #expect(found.first?.places == [lvs1.at("priority"), lvs2.at("priority")])
        #expect(found.first?.message.contains("the higher primary address, 10.0.0.2 (/cluster/lvs2.conf)") == true)
    }

    @Test func aTieWithoutSourceAddressesSaysItCannotTell() {
        var lvs1 = NodeText.lvs1, lvs2 = NodeText.lvs2
        lvs1.priority = 100
        lvs2.source = nil
        let found = check([lvs1, lvs2]).findings(.priorityTie)
        #expect(found.first?.message.contains("which the files do not all give") == true)
    }

    @Test func twoAddressOwners() {
        var lvs1 = NodeText.lvs1, lvs2 = NodeText.lvs2
        lvs1.priority = 255
        lvs2.priority = 255
        let report = check([lvs1, lvs2])
        let found = report.findings(.severalAddressOwners)
        #expect(found.count == 1 && found.first?.severity == .error)
        #expect(found.first?.places == [lvs1.at("priority"), lvs2.at("priority")])
        #expect(report.findings(.priorityTie).isEmpty)
    }

    @Test func nopreemptOnOneNodeSaysWhatEachDoes() {
        var lvs1 = NodeText.lvs1, lvs2 = NodeText.lvs2
        lvs1.state = "BACKUP"
        lvs2.extra = ["nopreempt"]
        let found = check([lvs1, lvs2]).findings(.preemptDiffers)
        #expect(found.count == 1 && found.first?.severity == .warning)
        #expect(found.first?.places == ["\(lvs1.file):1", lvs2.at("nopreempt")])
        let message = found.first?.message ?? ""
        #expect(message.contains("/cluster/lvs1.conf (priority 101) takes over again"), "\(message)")
        #expect(message.contains("nopreempt on /cluster/lvs2.conf (priority 100) has no effect"), "\(message)")
    }

    @Test func differentPreemptDelays() {
        var lvs1 = NodeText.lvs1
        let lvs2 = NodeText.lvs2
        lvs1.extra = ["preempt_delay 30"]
        let found = check([lvs1, lvs2]).findings(.preemptDelayDiffers)
        #expect(found.count == 1 && found.first?.severity == .warning)
        #expect(found.first?.places == [lvs1.at("preempt_delay"), "\(lvs2.file):1"])
        #expect(found.first?.message.contains("/cluster/lvs1.conf 30 s, /cluster/lvs2.conf 0 s") == true)
    }

    @Test func stateMasterOnBothNodesWithNopreempt() {
        var lvs1 = NodeText.lvs1, lvs2 = NodeText.lvs2
        lvs2.state = "MASTER"
        lvs1.extra = ["nopreempt"]
        lvs2.extra = ["nopreempt"]
        let found = check([lvs1, lvs2]).findings(.masterStateWithoutPreemption)
        #expect(found.count == 1 && found.first?.severity == .warning)
        #expect(found.first?.places == [lvs1.at("state"), lvs2.at("state"), lvs1.at("nopreempt"), lvs2.at("nopreempt")])
    }
}
