import Foundation
import Lab
import LinuxNet
import NetworkTypes
import PacketCapture
import Testing
@testable import VRRP

/// Namespace tier: what a MASTER owns besides its VIPs (`virtual_ipaddress_excluded`,
/// `virtual_routes`, `virtual_rules`) is on the MASTER only, moves with a failover and
/// follows a reload in place; the static ones (`static_ipaddress`, `static_routes`,
/// `static_rules`) are on every node from start and stay after stop. The kernel is read
/// twice: through LinuxNet's netlink wrapper and through `ip` in the same namespace.
@Suite(.serialized) struct MasterKernelStateTests {
    static let excluded = ["192.168.30.5", "192.168.30.6"]
    static let staticAddress = "192.168.40.1"

    /// The routes and rules lines of both nodes' files; `dropped` leaves some out.
    static func config(priority: Int, me: String, peer: String, reloaded: Bool = false) -> String {
        var routes = ["10.78.0.0/16 dev eth0 table 100 tos 0x10", "blackhole 10.79.0.0/16", "10.80.0.0/16 via 172.31.18.1 src 192.168.30.5",
                      "10.82.0.0/16 nexthop via 172.31.18.1 dev eth0 weight 2 nexthop via 172.31.18.2 weight 1"]
        var rules = ["from 192.168.30.0/24 table 100 priority 1000", "to 10.81.0.0/16 priority 1002 blackhole tos 0x10"]
        var staticRoutes = ["10.91.0.0/16 via 172.31.18.1 dev eth0"]
        if !reloaded {
            routes.insert("10.77.0.0/16 via 172.31.18.1 metric 5", at: 0)
            rules.insert("fwmark 7 table 100 priority 1001", at: 1)
            staticRoutes.append("10.90.0.0/16 via 172.31.18.1")
        }
        let head = """
            static_ipaddress {
              \(staticAddress)/32 dev eth0
            }
            static_routes {
            \(staticRoutes.map { "  " + $0 }.joined(separator: "\n"))
            }
            static_rules {
              from 192.168.40.0/24 table 200 priority 2000
            }

            """
        let extra = ["virtual_ipaddress_excluded {", "  \(excluded[0])/32", "  \(excluded[1])/24 dev eth0", "}",
                     "virtual_routes {"] + routes.map { "  " + $0 } + ["}", "virtual_rules {"] + rules.map { "  " + $0 } + ["}"]
        return head + LabInstance(priority: priority, version: 3, advertInt: "0.2", source: me, peers: [peer], extra: extra).text
    }

    /// The routes Overcast wrote (keepalived's protocol, 18), through the netlink wrapper.
    static func ownRoutes(_ lab: NetworkLab, _ node: NetworkLab.Node) -> Set<String> {
        let routes = (try? inNetworkNamespace(node.namespace) { try NetlinkSocket(.route).routes() }) ?? []
        return Set(routes.filter { $0.protocolNumber == 18 }.map(Self.text))
    }

    /// A route in the words the expectations below are written in.
    static func text(_ route: KernelRoute) -> String {
        var words: [String] = route.type == .unicast ? [] : [route.type.rawValue]
        words.append(route.destination.description)
        if let gateway = route.gateway { words.append("via \(gateway)") }
        if let source = route.source { words.append("src \(source)") }
        words.append("table \(route.table)")
        if let metric = route.metric, metric != 0 { words.append("metric \(metric)") }
        if let tos = route.tos { words.append("tos \(tos)") }
        for hop in route.nextHops { words.append("nexthop \(hop.gateway.map(\.description) ?? "-") weight \(hop.weight)") }
        return words.joined(separator: " ")
    }

    static func rules(_ lab: NetworkLab, _ node: NetworkLab.Node) -> Set<PolicyRule> {
        Set((try? inNetworkNamespace(node.namespace) { try NetlinkSocket(.route).rules() }) ?? [])
    }

    static let virtualRoutes: Set<String> = [
        "10.77.0.0/16 via 172.31.18.1 table 254 metric 5", "10.78.0.0/16 table 100 tos 16", "blackhole 10.79.0.0/16 table 254",
        "10.80.0.0/16 via 172.31.18.1 src 192.168.30.5 table 254",
        "10.82.0.0/16 table 254 nexthop 172.31.18.1 weight 2 nexthop 172.31.18.2 weight 1",
    ]
    static let staticRoutes: Set<String> = ["10.90.0.0/16 via 172.31.18.1 table 254", "10.91.0.0/16 via 172.31.18.1 table 254"]
    static let virtualRules: Set<PolicyRule> = [
        PolicyRule(from: IPv4Network("192.168.30.0/24"), priority: 1000, action: .table(100), protocolNumber: 18),
        PolicyRule(fwmark: 7, priority: 1001, action: .table(100), protocolNumber: 18),
        PolicyRule(to: IPv4Network("10.81.0.0/16"), priority: 1002, action: .blackhole, protocolNumber: 18, tos: 16),
    ]
    static let staticRule = PolicyRule(from: IPv4Network("192.168.40.0/24"), priority: 2000, action: .table(200), protocolNumber: 18)

    /// What `ip` says of the same state, to check the wrapper against the tool.
    static func ipSays(_ lab: NetworkLab, _ node: NetworkLab.Node) -> (routes: String, rules: String) {
        ((try? lab.exec(node, ["ip", "route", "show", "table", "all"])) ?? "", (try? lab.exec(node, ["ip", "rule"])) ?? "")
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip", "tcpdump"], test: "MASTER kernel state")))
    func theMastersRoutesRulesAndExcludedAddressesMoveWithItAndStaticOnesStay() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        let capture = try lab.startCapture(n1, file: "vrrp.pcap", filter: "ip proto 112", outgoingOnly: true)
        let first = try lab.startOvercast(n1, config: Self.config(priority: 150, me: "172.31.18.10", peer: "172.31.18.11"))
        let second = try lab.startOvercast(n2, config: Self.config(priority: 100, me: "172.31.18.11", peer: "172.31.18.10"))
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.state(n2) == "BACKUP" }, "\(lab.log(n1))")

        // The MASTER has all of it; the BACKUP only the static state.
        #expect(waitUntil(timeout: 3) { Self.ownRoutes(lab, n1) == Self.virtualRoutes.union(Self.staticRoutes) },
                "\(Self.ownRoutes(lab, n1))\n\(lab.log(n1))")
        #expect(Self.rules(lab, n1).isSuperset(of: Self.virtualRules.union([Self.staticRule])), "\(Self.rules(lab, n1))")
        #expect(Self.excluded.allSatisfy { lab.holds(n1, $0) } && lab.holds(n1, Self.staticAddress))
        #expect(Self.ownRoutes(lab, n2) == Self.staticRoutes, "\(Self.ownRoutes(lab, n2))")
        #expect(Self.rules(lab, n2).isDisjoint(with: Self.virtualRules) && Self.rules(lab, n2).contains(Self.staticRule))
        #expect(!Self.excluded.contains { lab.holds(n2, $0) } && lab.holds(n2, Self.staticAddress))

        // `ip` in the same namespace sees the same.
        let (routes, rules) = Self.ipSays(lab, n1)
        for line in ["10.77.0.0/16 via 172.31.18.1 dev eth0 proto keepalived metric 5",
                     "10.78.0.0/16 tos 0x10 dev eth0 table 100 proto keepalived scope link",
                     "blackhole 10.79.0.0/16 proto keepalived",
                     "10.80.0.0/16 via 172.31.18.1 dev eth0 proto keepalived src 192.168.30.5",
                     "10.90.0.0/16 via 172.31.18.1 dev eth0 proto keepalived",
                     "10.82.0.0/16 proto keepalived \n\tnexthop via 172.31.18.1 dev eth0 weight 2 \n\tnexthop via 172.31.18.2 dev eth0 weight 1"] {
            #expect(routes.contains(line), "ip route show table all lacks '\(line)':\n\(routes)")
        }
        for line in ["1000:\tfrom 192.168.30.0/24 lookup 100 proto keepalived", "1001:\tfrom all fwmark 0x7 lookup 100 proto keepalived",
                     "1002:\tfrom all to 10.81.0.0/16 tos 0x10 blackhole proto keepalived", "2000:\tfrom 192.168.40.0/24 lookup 200 proto keepalived"] {
            #expect(rules.contains(line), "ip rule lacks '\(line)':\n\(rules)")
        }
        let (backupRoutes, backupRules) = Self.ipSays(lab, n2)
        #expect(!backupRoutes.contains("10.77.0.0/16") && !backupRules.contains("1000:") && backupRules.contains("2000:"))

        // The advertisement carries the VIP only, never the excluded addresses (a few of
        // them sent first: the checks above may all pass within one interval).
        #expect(waitUntil(timeout: 5) { (lab.instance(n1)?["advertisementsSent"] as? Int ?? 0) >= 3 })
        capture.stop(signal: SIGINT)
        let advertised = try CaptureFile.read(lab.path("vrrp.pcap")).compactMap { frame -> [String]? in
            guard let packet = try? IPv4Packet(parsing: frame.bytes.dropFirst(14)) else { return nil }
            let pseudo = PseudoHeader(source: packet.header.source, destination: packet.header.destination)
            return (try? VRRPAdvertisement(parsing: packet.payload, pseudoHeader: pseudo))?.addresses.map(\.description)
        }
        #expect(!advertised.isEmpty && advertised.allSatisfy { $0 == ["192.168.20.11"] }, "\(advertised.prefix(3))")

        // Failover: the stopped MASTER withdraws its state, keeps the static state; n2 takes over.
        first.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 8) { !first.isRunning && lab.state(n2) == "MASTER" }, "\(lab.log(n2))")
        #expect(waitUntil(timeout: 3) { Self.ownRoutes(lab, n2) == Self.virtualRoutes.union(Self.staticRoutes) },
                "\(Self.ownRoutes(lab, n2))")
        #expect(Self.rules(lab, n2).isSuperset(of: Self.virtualRules) && Self.excluded.allSatisfy { lab.holds(n2, $0) })
        #expect(Self.ownRoutes(lab, n1) == Self.staticRoutes, "\(Self.ownRoutes(lab, n1))")
        #expect(Self.rules(lab, n1).isDisjoint(with: Self.virtualRules) && Self.rules(lab, n1).contains(Self.staticRule))
        #expect(!Self.excluded.contains { lab.holds(n1, $0) } && lab.holds(n1, Self.staticAddress))

        // A reload that drops a route, a rule and a static route: gone, the rest stays, no flap.
        let transitions = lab.instance(n2)?["transitions"] as? Int
        try Self.config(priority: 100, me: "172.31.18.11", peer: "172.31.18.10", reloaded: true)
            .write(toFile: lab.path("n2.conf"), atomically: true, encoding: .utf8)
        kill(second.pid, SIGHUP)
        #expect(waitUntil(timeout: 5) { lab.overcastStatus(n2)?["reloads"] as? Int == 1 })
        let afterReload = Self.virtualRoutes.subtracting(["10.77.0.0/16 via 172.31.18.1 table 254 metric 5"])
            .union(["10.91.0.0/16 via 172.31.18.1 table 254"])
        #expect(waitUntil(timeout: 3) { Self.ownRoutes(lab, n2) == afterReload }, "\(Self.ownRoutes(lab, n2))\n\(lab.log(n2))")
        #expect(!Self.rules(lab, n2).contains(PolicyRule(fwmark: 7, priority: 1001, action: .table(100), protocolNumber: 18)))
        #expect(Self.rules(lab, n2).contains(PolicyRule(from: IPv4Network("192.168.30.0/24"), priority: 1000, action: .table(100),
                                                        protocolNumber: 18)))
        #expect(!(try lab.exec(n2, ["ip", "route", "show", "table", "all"])).contains("10.77.0.0/16"))
        #expect(lab.state(n2) == "MASTER" && lab.instance(n2)?["transitions"] as? Int == transitions)

        // Stopped: the static state stays, the MASTER's goes.
        second.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 5) { !second.isRunning })
        #expect(Self.ownRoutes(lab, n2) == ["10.91.0.0/16 via 172.31.18.1 table 254"], "\(Self.ownRoutes(lab, n2))")
        #expect(Self.rules(lab, n2).contains(Self.staticRule) && lab.holds(n2, Self.staticAddress))
        #expect(!Self.excluded.contains { lab.holds(n2, $0) })
        // Nothing the kernel refused along the way (withdrawing at start what is absent is no error).
        for node in [n1, n2] {
            let refused = lab.log(node).split(separator: "\n").filter { $0.contains("cannot add") || $0.contains("cannot remove") }
            #expect(refused.isEmpty, "\(node.name): \(refused)")
        }
    }

    /// A route the kernel refuses is logged with the line as written; the rest goes in and
    /// the instance stays MASTER.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "refused route")))
    func aRefusedRouteIsLoggedWithItsLineAndNothingElseStops() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        _ = try lab.startOvercast(n1, config: LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10",
                                                          peers: ["172.31.18.11"],
                                                          extra: ["virtual_routes {", "  10.99.0.0/16 via 203.0.113.1 no_track",
                                                                  "  10.98.0.0/16 via 172.31.18.1 no_track", "}"]).text)
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" }, "\(lab.log(n1))")
        #expect(waitUntil(timeout: 3) { Self.ownRoutes(lab, n1).isEmpty && lab.holds(n1, "192.168.20.11")
            && ((try? lab.exec(n1, ["ip", "route"])) ?? "").contains("10.98.0.0/16 via 172.31.18.1 dev eth0") },
            "\((try? lab.exec(n1, ["ip", "route"])) ?? "")")
        let routes = try inNetworkNamespace(n1.namespace) { try NetlinkSocket(.route).routes() }
        #expect(routes.first { $0.destination == IPv4Network("10.98.0.0/16") }?.protocolNumber == 3, "no_track, no proto: boot")
        let refused = lab.log(n1).split(separator: "\n").filter { $0.contains("cannot add MASTER route") }
        #expect(refused.count == 1 && refused.first?.contains("10.99.0.0/16 via 203.0.113.1 no_track") == true, "\(lab.log(n1))")
        #expect(lab.state(n1) == "MASTER")
    }

    /// promote_secondaries sets the interface's sysctl when the instance starts; the
    /// interface's own value is back after the daemon stops, as with keepalived.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "promote_secondaries")))
    func promoteSecondariesSetsTheSysctl() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let sysctl = ["cat", "/proc/sys/net/ipv4/conf/eth0/promote_secondaries"]
        try lab.exec(n1, ["sh", "-c", "echo 0 > /proc/sys/net/ipv4/conf/eth0/promote_secondaries"])
        #expect(try lab.exec(n1, sysctl).hasPrefix("0"))
        var instance = LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"],
                                   extra: ["promote_secondaries"])
        instance.vip = "192.168.20.11/24"
        let daemon = try lab.startOvercast(n1, config: instance.text)
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" }, "\(lab.log(n1))")
        #expect(try lab.exec(n1, sysctl).hasPrefix("1"))
        // With it, removing the VIP (the primary of 192.168.20.0/24 here) keeps a secondary of that subnet.
        try lab.exec(n1, ["ip", "addr", "add", "192.168.20.99/24", "dev", "eth0"])
        #expect(try lab.exec(n1, ["ip", "-o", "addr", "show", "dev", "eth0"]).contains("192.168.20.99/24 scope global secondary"))
        daemon.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 5) { !daemon.isRunning })
        #expect(!lab.holds(n1, "192.168.20.11") && lab.holds(n1, "192.168.20.99"), "the secondary was promoted, not removed")
        #expect(try lab.exec(n1, sysctl).hasPrefix("0"), "the interface's own value is restored at stop")
    }
}
