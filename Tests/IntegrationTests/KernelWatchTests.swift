import Foundation
import Lab
import LinuxNet
import NetworkTypes
import Testing

/// Namespace tier: someone deletes what Overcast put into the kernel (keepalived's
/// netlink watch). A MASTER whose VIP or virtual route is deleted leaves MASTER and, the
/// election won again at once, puts it all back; a deleted static route is reinstated;
/// `no_track` entries are let be; `track_src_ip` puts the instance in FAULT while its
/// source address is gone. Both daemons are real, the deletions are `ip` commands.
@Suite(.serialized) struct KernelWatchTests {
    static let trackedRoute = "10.77.0.0/16"
    static let untrackedRoute = "10.78.0.0/16"
    static let staticRoute = "10.91.0.0/16"
    static let untrackedAddress = "192.168.30.5"

    static func config(priority: Int, me: String, peer: String, extra: [String] = []) -> String {
        """
        static_routes {
          \(staticRoute) via 172.31.18.1 dev eth0
        }

        """ + LabInstance(priority: priority, version: 3, advertInt: "0.2", source: me, peers: [peer],
                          extra: ["virtual_routes {", "  \(trackedRoute) via 172.31.18.1", "  \(untrackedRoute) via 172.31.18.1 no_track", "}",
                                  "virtual_ipaddress_excluded {", "  \(untrackedAddress)/32 no_track", "}",
                                  "virtual_rules {", "  from 192.168.30.0/24 table 100 priority 1000", "}"] + extra).text
    }

    static func hasRoute(_ lab: NetworkLab, _ node: NetworkLab.Node, _ destination: String) -> Bool {
        let routes = (try? inNetworkNamespace(node.namespace) { try NetlinkSocket(.route).routes() }) ?? []
        return routes.contains { $0.destination == IPv4Network(destination) }
    }

    static func hasRule(_ lab: NetworkLab, _ node: NetworkLab.Node, priority: UInt32) -> Bool {
        let rules = (try? inNetworkNamespace(node.namespace) { try NetlinkSocket(.route).rules() }) ?? []
        return rules.contains { $0.priority == priority && $0.action == .table(100) }
    }

    static func transitions(_ lab: NetworkLab, _ node: NetworkLab.Node) -> Int { lab.instance(node)?["transitions"] as? Int ?? -1 }

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "kernel watch")))
    func deletedVIPsAndRoutesComeBackAndStaticOnesAreReinstated() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        _ = try lab.startOvercast(n1, config: Self.config(priority: 150, me: "172.31.18.10", peer: "172.31.18.11"))
        _ = try lab.startOvercast(n2, config: Self.config(priority: 100, me: "172.31.18.11", peer: "172.31.18.10"))
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.state(n2) == "BACKUP" }, "\(lab.log(n1))")
        #expect(waitUntil(timeout: 3) { Self.hasRoute(lab, n1, Self.trackedRoute) && Self.hasRoute(lab, n1, Self.staticRoute) })

        // The VIP deleted on the MASTER: it leaves MASTER, takes it back and the VIP is back.
        var before = Self.transitions(lab, n1)
        _ = try lab.exec(n1, ["ip", "addr", "del", "192.168.20.11/32", "dev", "eth0"])
        #expect(waitUntil(timeout: 5) { Self.transitions(lab, n1) >= before + 2 && lab.state(n1) == "MASTER" && lab.holds(n1, "192.168.20.11") },
                "\(lab.log(n1))")
        #expect(lab.log(n1).contains("deleted from the kernel while MASTER"), "\(lab.log(n1))")
        #expect(waitUntil(timeout: 3) { lab.state(n2) == "BACKUP" && !lab.holds(n2, "192.168.20.11") })

        // A virtual route deleted: the same, and the route is back.
        before = Self.transitions(lab, n1)
        _ = try lab.exec(n1, ["ip", "route", "del", Self.trackedRoute])
        #expect(waitUntil(timeout: 5) { Self.transitions(lab, n1) >= before + 2 && lab.state(n1) == "MASTER"
            && Self.hasRoute(lab, n1, Self.trackedRoute) }, "\(lab.log(n1))")

        // A virtual rule deleted: the same, and the rule is back.
        #expect(Self.hasRule(lab, n1, priority: 1000))
        before = Self.transitions(lab, n1)
        _ = try lab.exec(n1, ["ip", "rule", "del", "priority", "1000"])
        #expect(waitUntil(timeout: 5) { Self.transitions(lab, n1) >= before + 2 && lab.state(n1) == "MASTER"
            && Self.hasRule(lab, n1, priority: 1000) }, "\(lab.log(n1))")

        // A no_track route and address deleted, then a static route: the static one is
        // reinstated, and by then the watch has read the tables without the no_track
        // entries and let them be.
        before = Self.transitions(lab, n1)
        #expect(lab.holds(n1, Self.untrackedAddress))
        _ = try lab.exec(n1, ["ip", "route", "del", Self.untrackedRoute])
        _ = try lab.exec(n1, ["ip", "addr", "del", "\(Self.untrackedAddress)/32", "dev", "eth0"])
        _ = try lab.exec(n1, ["ip", "route", "del", Self.staticRoute])
        #expect(waitUntil(timeout: 5) { Self.hasRoute(lab, n1, Self.staticRoute) }, "\(lab.log(n1))")
        #expect(lab.log(n1).contains("reinstating deleted static route"))
        #expect(!Self.hasRoute(lab, n1, Self.untrackedRoute), "no_track: not put back until the next MASTER transition")
        #expect(!lab.holds(n1, Self.untrackedAddress))
        #expect(Self.transitions(lab, n1) == before && lab.state(n1) == "MASTER")
        // On the BACKUP too a static route is reinstated.
        _ = try lab.exec(n2, ["ip", "route", "del", Self.staticRoute])
        #expect(waitUntil(timeout: 5) { Self.hasRoute(lab, n2, Self.staticRoute) }, "\(lab.log(n2))")
    }

    /// On a plain bridge: the VPC fabric, like EC2, drops frames from an address the
    /// instance was not given, and the source here is a second address of the node.
    @Test(.enabled(if: Prerequisites.available(commands: ["ip"], test: "track_src_ip")))
    func trackSrcIPFaultsWhileTheSourceAddressIsGone() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        _ = try lab.exec(n1, ["ip", "addr", "add", "172.31.18.20/16", "dev", "eth0"])
        _ = try lab.startOvercast(n1, config: LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.20",
                                                          peers: ["172.31.18.11"], extra: ["track_src_ip"]).text)
        _ = try lab.startOvercast(n2, config: LabInstance(priority: 100, version: 3, advertInt: "0.2", source: "172.31.18.11",
                                                          peers: ["172.31.18.20"]).text)
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.state(n2) == "BACKUP" }, "\(lab.log(n1))")

        _ = try lab.exec(n1, ["ip", "addr", "del", "172.31.18.20/16", "dev", "eth0"])
        #expect(waitUntil(timeout: 5) { lab.state(n1) == "FAULT" && lab.state(n2) == "MASTER" }, "\(lab.log(n1))")
        let faults = lab.instance(n1)?["faults"] as? [String] ?? []
        #expect(faults == ["source address 172.31.18.20 missing"], "\(faults)")
        #expect(!lab.holds(n1, "192.168.20.11"))

        _ = try lab.exec(n1, ["ip", "addr", "add", "172.31.18.20/16", "dev", "eth0"])
        #expect(waitUntil(timeout: 5) { lab.state(n1) == "MASTER" && lab.state(n2) == "BACKUP" }, "\(lab.log(n1))")
        #expect(lab.instance(n1)?["faults"] as? [String] ?? ["?"] == [])
    }

    /// Two instances in a sync group: one's VIP deleted, both leave MASTER and are back.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "kernel watch sync group")))
    func theSyncGroupLeavesMasterWithTheMemberWhoseVIPWasDeleted() throws {
        func config(priority: Int, me: String, peer: String) -> String {
            var web = LabInstance(priority: priority, version: 3, advertInt: "0.2", source: me, peers: [peer])
            web.name = "WEB"
            var db = web
            db.name = "DB"
            db.vrid = 52
            db.vip = "192.168.20.12"
            return "vrrp_sync_group G {\n  group {\n    WEB\n    DB\n  }\n}\n" + web.text + db.text
        }
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        _ = try lab.startOvercast(n1, config: config(priority: 150, me: "172.31.18.10", peer: "172.31.18.11"))
        _ = try lab.startOvercast(n2, config: config(priority: 100, me: "172.31.18.11", peer: "172.31.18.10"))
        #expect(waitUntil(timeout: 10) { lab.state(n1, "WEB") == "MASTER" && lab.state(n1, "DB") == "MASTER"
            && lab.state(n2, "WEB") == "BACKUP" && lab.state(n2, "DB") == "BACKUP" }, "\(lab.log(n1))")
        func transitions(_ name: String) -> Int { lab.instance(n1, name)?["transitions"] as? Int ?? -1 }
        let (web, db) = (transitions("WEB"), transitions("DB"))
        _ = try lab.exec(n1, ["ip", "addr", "del", "192.168.20.11/32", "dev", "eth0"])
        #expect(waitUntil(timeout: 5) { transitions("WEB") >= web + 2 && transitions("DB") >= db + 2
            && lab.state(n1, "WEB") == "MASTER" && lab.state(n1, "DB") == "MASTER"
            && lab.holds(n1, "192.168.20.11") && lab.holds(n1, "192.168.20.12") }, "\(lab.log(n1))")
    }
}
