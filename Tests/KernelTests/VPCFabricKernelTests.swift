import Foundation
import HTTPClient
import Testing
import Lab

/// Kernel tier: what the VPC fabric enforces that needs the VM's kernel: GRE (protocol 47)
/// through security groups, and latency between availability zones (netem).
@Suite(.serialized, .enabled(if: KernelTier.inside, "runs only inside the kernel-tier VM (scripts/kernel-tier.sh)"))
struct VPCFabricKernelTests {
    static let vip = "192.168.20.11"

    static func overlay(_ own: String, _ peer: String, _ n: Int) -> String {
        "overlay ovc0 {\n  local \(own)\n  peers {\n    \(peer)\n  }\n  key 42\n  address 10.200.0.\(n + 1)/24\n}\n"
            + LabInstance(priority: 150 - 50 * n, version: 3, advertInt: "0.5").text.replacingOccurrences(of: "interface eth0", with: "interface ovc0")
    }

    /// The overlay's tunnels need IP protocol 47 between the nodes: a group that allows
    /// VRRP (112) but not GRE splits the brain, the fabric counting the GRE packets it
    /// dropped under each node's group; allowing 47 brings one MASTER back.
    @Test func theOverlayNeedsGREInTheSecurityGroups() throws {
        let lab = try VPCLab()
        defer { lab.teardown() }
        let group = try lab.createGroup("lb-vrrp-only")
        try lab.allow(group, "112", fromGroup: group)
        let addresses = ["172.31.18.163", "172.31.18.164"]
        let nodes = try addresses.enumerated().map { try lab.launch("lb\($0.offset + 1)", address: $0.element, sourceDestCheck: false, groups: [group]) }
        for (i, node) in nodes.enumerated() {
            _ = try lab.network.startOvercast(node.node, config: Self.overlay(addresses[i], addresses[1 - i], i))
        }
        #expect(waitUntil(timeout: 60, interval: 0.5) { nodes.allSatisfy { lab.network.state($0.node) == "MASTER" } },
                "\(nodes.map { lab.network.state($0.node) ?? "-" }) \(lab.fabric.dropReport())")
        for node in nodes { #expect(lab.fabric.dropped(.securityGroup(eni: node.eni, outbound: false)) > 0, "\(lab.fabric.dropReport())") }
        try lab.allow(group, "47", fromGroup: group)
        #expect(waitUntil(timeout: 60, interval: 0.5) { nodes.map { lab.network.state($0.node) } == ["MASTER", "BACKUP"] },
                "\(nodes.map { lab.network.state($0.node) ?? "-" }) \(lab.fabric.dropReport())")
    }

    /// MASTER and BACKUP in two zones (unicast VRRP goes through the VPC's router between
    /// subnets, 0.5 ms each way): the backup takes over and the route follows, and the
    /// client, which reaches the VIP only through the route table, is answered again.
    @Test func aFailoverAcrossZonesMovesTheRouteAndTheClientFollows() throws {
        let lab = try VPCLab()
        defer { lab.teardown() }
        let addresses = ["172.31.18.163", "172.31.33.164"]
        let nodes = try addresses.enumerated().map { try lab.launch("lb\($0.offset + 1)", address: $0.element, sourceDestCheck: false) }
        let client = try lab.launch("client", address: "172.31.0.100")
        #expect(lab.fabric.options.delaysBetweenZones, "this kernel should have netem")
        for node in nodes {
            let root = lab.network.path("www-\(node.node.name)")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try "\(node.node.name)\n".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
            _ = try lab.network.spawn(node.node, ["python3", "-m", "http.server", "--bind", "0.0.0.0", "--directory", root, "80"],
                                      log: "www-\(node.node.name).log")
        }
        func config(_ n: Int) -> String {
            LabInstance(priority: 150 - 50 * n, version: 3, advertInt: "0.5", source: addresses[n], peers: [addresses[1 - n]], extra: [
                "ec2_route_failover {", "  route_table \(lab.routeTables[0])", "  endpoint \(lab.ec2.endpoint)",
                "  imds_endpoint \(lab.ec2.imdsEndpoint)", "  refresh 2", "}",
            ]).text
        }
        let first = try lab.network.startOvercast(nodes[0].node, config: config(0), environment: EC2Lab.environment)
        _ = try lab.network.startOvercast(nodes[1].node, config: config(1), environment: EC2Lab.environment)
        func fetch() -> String? {
            try? inNetworkNamespace(client.node.namespace) {
                guard let answer = try? CurlEasyRequest().get("http://\(Self.vip)/index.html", timeoutMilliseconds: 1000),
                      answer.status == 200 else { return nil }
                return String(decoding: answer.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            } ?? nil
        }
        // Python's web server takes up to a minute to start in the emulated VM.
        #expect(waitUntil(timeout: 120, interval: 0.5) { fetch() == "lb1" }, "\(lab.network.log(nodes[0].node)) \(lab.fabric.dropReport())")
        #expect(lab.network.state(nodes[1].node) == "BACKUP")
        let killed = Date()
        first.stop(signal: SIGKILL)
        try lab.network.setPort(nodes[0].node, up: false)
        #expect(waitUntil(timeout: 120, interval: 0.2) { fetch() == "lb2" }, "\(lab.network.log(nodes[1].node)) \(lab.fabric.dropReport())")
        let gap = Date().timeIntervalSince(killed)
        #expect(try lab.routeTarget("\(Self.vip)/32") == nodes[1].id)
        print("cross-zone failover: the client was answered by lb2 \(String(format: "%.2f", gap)) s after lb1 died")
    }
}
