import Foundation
import HTTPClient
import LinuxNet
import NetworkTypes
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// The article's topology on a lab VPC (`VPCLab`, 172.31.0.0/16): two load balancers and
/// two web servers with their source/destination check off (the article's step), web
/// servers answering for the VIP on `lo` (direct routing), a client, and moto as the EC2
/// API. The VIP 192.168.20.11 lies outside the VPC's CIDR: the client reaches it only
/// through the route table entry that `ec2_route_failover` writes in moto, which the
/// fabric follows, so traffic really goes where the route table says.
public final class ArticleLab: @unchecked Sendable {
    public static let vip = "192.168.20.11"
    public static let balancers = ["172.31.18.163", "172.31.18.164"]
    public static let webServers = ["172.31.8.1", "172.31.8.2"]
    public static let clientAddress = "172.31.0.100"

    public let vpc: VPCLab
    public var lab: NetworkLab { vpc.network }
    public let client: NetworkLab.Node
    public let lvs: [NetworkLab.Node]
    public let web: [NetworkLab.Node]
    public var ec2: EC2Lab { vpc.ec2 }
    private let balancerInstances: [VPCLab.Instance]
    private var webProcesses: [ChildProcess?] = [nil, nil]

    public var routeTable: String { vpc.routeTables[0] }
    /// The instance id of load balancer `n`.
    public func instance(_ n: Int) -> String { balancerInstances[n].id }

    public init() throws {
        try Prerequisites.require(commands: VPCLab.fabricCommands, pythonModules: ["moto", "boto3", "flask_cors"])
        let vpc = try VPCLab()
        self.vpc = vpc
        do {
            client = try vpc.launch("client", address: Self.clientAddress).node
            balancerInstances = try Self.balancers.enumerated().map {
                try vpc.launch("lvs\($0.offset + 1)", address: $0.element, sourceDestCheck: false)
            }
            lvs = balancerInstances.map(\.node)
            web = try Self.webServers.enumerated().map { try vpc.launch("web\($0.offset + 1)", address: $0.element, sourceDestCheck: false).node }
            for (n, node) in web.enumerated() { try DirectRoutingWebServer.prepare(node, name: "web\(n + 1)", vip: Self.vip, in: vpc.network) }
        } catch {
            vpc.teardown()
            throw error
        }
    }

    public func teardown() { vpc.teardown() }

    /// Starts (or restarts) web server `n`: Python's http.server on port 80.
    public func startWebServer(_ n: Int) throws {
        webProcesses[n] = try DirectRoutingWebServer.start(web[n], name: "web\(n + 1)", in: lab)
    }

    public func stopWebServer(_ n: Int) {
        webProcesses[n]?.stop(signal: SIGKILL)
        webProcesses[n] = nil
    }

    /// Waits until both web servers answer the client directly (a Python web server takes
    /// half a minute to start in the emulated VM; health checks must not start before).
    public func waitForWebServers(timeout: Double) -> Bool {
        let urls = Self.webServers.map { "http://\($0)/index.html" }
        return (try? inNetworkNamespace(client.namespace) {
            let http = try CurlEasyRequest()
            return waitUntil(timeout: timeout, interval: 0.5) {
                urls.allSatisfy { (try? http.get($0, timeoutMilliseconds: 1000).status) == 200 }
            }
        }) ?? false
    }

    /// One GET of the VIP from the client: the web server's name, or nil.
    public static func fetch(_ http: CurlEasyRequest) -> String? {
        guard let response = try? http.get("http://\(vip)/index.html", timeoutMilliseconds: 500), response.status == 200 else {
            return nil
        }
        return String(decoding: response.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The configuration of load balancer `n` for `transport`: the article's file with the
    /// transport's own lines, `ec2_route_failover` pointing at the lab's moto, and shorter
    /// health-check intervals so the demonstration does not wait.
    public func configuration(_ n: Int, transport: String, nopreempt: Bool = false) -> String {
        let own = Self.balancers[n]
        let other = Self.balancers[1 - n]
        var lines = ["global_defs {", "  router_id LVS_\(n + 1)", "}", ""]
        if transport == "gre" {
            lines += ["overlay ovc0 {", "  local \(own)", "  peers {", "    \(other)", "  }", "  key 42",
                      "  address 10.200.0.\(n + 1)/24", "}", ""]
        }
        // keepalived ignores nopreempt on a node whose initial state is MASTER.
        lines += ["vrrp_instance VI_1 {", "  state \(n == 0 && !nopreempt ? "MASTER" : "BACKUP")",
                  "  interface \(transport == "gre" ? "ovc0" : "eth0")", "  virtual_router_id 51",
                  "  priority \(n == 0 ? 101 : 100)", "  advert_int 1"]
        if nopreempt { lines.append("  nopreempt") }
        lines += ["  authentication {", "    auth_type PASS", "    auth_pass 1111", "  }",
                  "  virtual_ipaddress {", "    \(Self.vip)/32 dev eth0", "  }"]
        switch transport {
        case "unicast": lines += ["  unicast_src_ip \(own)", "  unicast_peer {", "    \(other)", "  }"]
        // l3: the copies are unicast by IP, which any VPC carries (l2 rests on a VPC
        // delivering multicast by MAC, which AWS does not promise: VPCFabricTests).
        case "replicate": lines += ["  transport replicate", "  replicate_mode l3", "  unicast_peer {", "    \(other)", "  }"]
        default: break
        }
        lines += ["  ec2_route_failover {", "    route_table \(routeTable)", "    endpoint \(ec2.endpoint)",
                  "    imds_endpoint \(ec2.imdsEndpoint)", "    refresh 5", "  }", "}", ""]
        lines += ["virtual_server \(Self.vip) 80 {", "  delay_loop 2", "  lb_algo rr", "  lb_kind DR", "  protocol TCP"]
        for server in Self.webServers {
            lines += ["  real_server \(server) 80 {", "    weight 1", "    HTTP_GET {", "      url {", "        path /index.html",
                      "        status_code 200", "      }", "      connect_timeout 1", "      retry 1", "      delay_before_retry 1",
                      "    }", "  }"]
        }
        lines += ["}", ""]
        return lines.joined(separator: "\n")
    }

    /// Master_Down_Interval of the article's timers (VRRPv2, advert_int 1) for the backup's
    /// priority 100: 3 x 1 s + (256 - 100) / 256 s.
    public static let masterDownInterval = 3.0 + (256.0 - 100.0) / 256.0
}
