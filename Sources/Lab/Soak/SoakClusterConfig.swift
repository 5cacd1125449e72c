import Foundation

/// The soak cluster's configuration files, pure: each node's file for the options, and
/// the variants the reload faults swap in (a priority moved, a peer dropped).
struct SoakClusterConfig: Sendable {
    var transport: SoakRunner.Transport
    var version: Int
    var hmac: Bool
    var nodes: Int
    /// The advertisement interval the daemons use (whole seconds for VRRPv2).
    var advertInterval: Double
    var keyPath: String
    /// `ec2_route_failover`'s table, endpoint and IMDS (nil: no route failover).
    var routes: (table: String, endpoint: String, imds: String)?
    /// The web servers behind the VIP (IPVS DR, HTTP_GET checks); none: no virtual_server.
    var realServers: [String] = []

    static let priorities = [150, 125, 100, 75, 50]
    /// reload-priority moves a node's priority by this much (up for the last, down for others).
    static let priorityShift = 40

    static func address(_ n: Int) -> String { "172.31.18.\(10 + n)" }

    func with(realServers: [String]) -> SoakClusterConfig {
        var copy = self
        copy.realServers = realServers
        return copy
    }

    /// The lowest priority a node can have in a run (after a reload-priority).
    static func lowestPriority(nodes: Int) -> Int { max(1, (priorities.prefix(nodes).min() ?? 1) - priorityShift) }

    func text(node i: Int, priorityShift: Bool = false, dropPeer: Bool = false) -> String {
        var priority = Self.priorities[i % Self.priorities.count]
        if priorityShift { priority += i == nodes - 1 ? Self.priorityShift : -Self.priorityShift }
        var peers = (0..<nodes).filter { $0 != i }.map(Self.address)
        if dropPeer { peers.removeFirst() }
        // GRE: the peers are the overlay's tunnels; VRRP is multicast on ovc0.
        let overlay = transport == .gre
            ? "overlay ovc0 {\n  local \(Self.address(i))\n  peers {\n" + peers.map { "    \($0)\n" }.joined()
                + "  }\n  key 42\n  address 10.200.0.\(i + 1)/24\n}\n"
            : ""
        var extra = transport == .replicate ? ["transport replicate", "replicate_mode l3"] : []
        if hmac { extra += ["authentication {", "  auth_type HMAC_SHA256", "  auth_key_file \(keyPath)", "}"] }
        if let routes {
            extra += ["ec2_route_failover {", "  route_table \(routes.table)", "  endpoint \(routes.endpoint)",
                      "  imds_endpoint \(routes.imds)", "  refresh 1", "  api_timeout 1", "}"]
        }
        var instance = LabInstance(priority: priority, version: version, advertInt: String(format: "%g", advertInterval),
                                   password: version == 2 && !hmac ? "1111" : nil,
                                   source: transport == .gre ? nil : Self.address(i),
                                   peers: transport == .gre ? [] : peers, extra: extra)
        if transport == .gre { instance.interface = "ovc0" }
        return overlay + instance.text + virtualServer
    }

    /// The VIP's virtual server: both web servers by direct routing, each checked by
    /// HTTP_GET every second (connect_timeout 1, one retry after 1 s: a dead server is out
    /// within about 4 s).
    var virtualServer: String {
        guard !realServers.isEmpty else { return "" }
        var lines = ["virtual_server \(LabInstance.defaultVIP) 80 {", "  delay_loop 1", "  lb_algo rr", "  lb_kind DR", "  protocol TCP"]
        for server in realServers {
            lines += ["  real_server \(server) 80 {", "    weight 1", "    HTTP_GET {", "      url {", "        path /index.html",
                      "        status_code 200", "      }", "      connect_timeout 1", "      retry 1", "      delay_before_retry 1",
                      "    }", "  }"]
        }
        return (lines + ["}"]).joined(separator: "\n") + "\n"
    }
}
