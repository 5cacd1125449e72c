import Foundation
import HTTPClient
import Testing
import Lab

/// Namespace tier: the lab's VPC fabric does what a VPC does, and each of these fails on
/// a plain bridge. Every check reads the fabric's own counters for why a packet died.
@Suite struct VPCFabricTests {
    static let fabricTools = VPCLab.fabricCommands
    static let vip = "192.168.20.11"

    static func lab(_ options: FabricOptions = FabricOptions()) throws -> VPCLab {
        try Prerequisites.require(commands: fabricTools, pythonModules: ["moto", "boto3"])
        return try VPCLab(options: options)
    }

    /// An HTTP server on port 80 of `instance` answering its name.
    static func serve(_ lab: VPCLab, _ instance: VPCLab.Instance) throws {
        let root = lab.network.path("www-\(instance.node.name)")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "\(instance.node.name)\n".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
        _ = try lab.network.spawn(instance.node, ["python3", "-m", "http.server", "--bind", "0.0.0.0", "--directory", root, "80"],
                                  log: "www-\(instance.node.name).log")
    }

    /// One GET from `client` to `address`: the body, or nil.
    static func fetch(_ lab: VPCLab, from client: VPCLab.Instance, _ address: String, timeout: Int = 1000) -> String? {
        try? inNetworkNamespace(client.node.namespace) {
            guard let answer = try? CurlEasyRequest().get("http://\(address)/index.html", timeoutMilliseconds: timeout),
                  answer.status == 200 else { return nil }
            return String(decoding: answer.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } ?? nil
    }

    @Test(.enabled(if: Prerequisites.available(commands: fabricTools, pythonModules: ["moto"], test: "VPC fabric: ARP and unicast")))
    func theVPCAnswersARPAndCarriesUnicastOnly() throws {
        let lab = try Self.lab()
        defer { lab.teardown() }
        let a = try lab.launch("a", address: "172.31.18.163")
        let b = try lab.launch("b", address: "172.31.18.164")
        let web = try lab.launch("web", address: "172.31.40.1")
        try Self.serve(lab, b)
        try Self.serve(lab, web)
        // Same subnet: ARP answered by the fabric with b's ENI MAC. Other subnet (and zone): via the router.
        #expect(waitUntil(timeout: 20, interval: 0.2) { Self.fetch(lab, from: a, b.address) == "b" }, "\(lab.fabric.dropReport())")
        #expect(waitUntil(timeout: 20, interval: 0.2) { Self.fetch(lab, from: a, web.address) == "web" }, "\(lab.fabric.dropReport())")
        let neighbours = try lab.network.exec(a.node, ["ip", "neigh", "show", b.address])
        #expect(neighbours.contains(b.mac), "a resolved b to \(neighbours), b's ENI is \(b.mac)")
        #expect(try lab.network.exec(a.node, ["ip", "neigh", "show", "172.31.0.1"]).contains(lab.fabric.options.routerMAC))

        // No ARP request reaches b: the fabric answered all of them.
        let capture = try lab.network.startCapture(b.node, file: "arp.pcap", filter: "arp")
        try lab.network.exec(a.node, ["ip", "neigh", "flush", "dev", "eth0"])
        #expect(Self.fetch(lab, from: a, b.address) == "b")
        // A gratuitous ARP for the VIP: dropped and counted, nobody learns anything.
        let before = lab.fabric.dropped(.arp)
        try lab.network.exec(a.node, ["ip", "addr", "add", "\(Self.vip)/32", "dev", "eth0"])
        try sendGratuitousARP(lab, from: a, for: Self.vip)
        #expect(waitUntil(timeout: 3) { lab.fabric.dropped(.arp) > before }, "\(lab.fabric.dropReport())")
        capture.stop(signal: SIGINT, timeout: 3)
        let seen = try ChildProcess.check(["tcpdump", "-r", lab.network.path("arp.pcap"), "-n"], timeout: 10)
        #expect(seen.split(separator: "\n").filter { $0.contains("ARP") }.isEmpty, "ARP reached b:\n\(seen)")
        #expect((try lab.network.exec(b.node, ["ip", "neigh", "show", Self.vip])).isEmpty)

        // Multicast to 224.0.0.18 (VRRP's group) and broadcast: dropped and counted.
        let multicast = lab.fabric.dropped(.multicast)
        try sendUDP(lab, from: a, to: "224.0.0.18")
        try sendUDP(lab, from: a, to: "255.255.255.255")
        #expect(waitUntil(timeout: 3) { lab.fabric.dropped(.multicast) >= multicast + 2 }, "\(lab.fabric.dropReport())")
    }

    @Test(.enabled(if: Prerequisites.available(commands: fabricTools, pythonModules: ["moto"], test: "VPC fabric: source/dest check")))
    func theSourceDestCheckDecidesWhetherTheVIPReachesItsHolder() throws {
        let lab = try Self.lab()
        defer { lab.teardown() }
        let lb = try lab.launch("lb", address: "172.31.18.163", sourceDestCheck: true)
        let client = try lab.launch("client", address: "172.31.0.100")
        try lab.network.exec(lb.node, ["ip", "addr", "add", "\(Self.vip)/32", "dev", "eth0"])
        try Self.serve(lab, lb)
        try lab.setRoute("\(Self.vip)/32", to: lb)
        #expect(waitUntil(timeout: 20, interval: 0.2) { Self.fetch(lab, from: client, lb.address) == "lb" })

        // The route says lb, but lb's ENI does not own the VIP: the VPC drops it on the way in.
        #expect(Self.fetch(lab, from: client, Self.vip) == nil)
        #expect(lab.fabric.dropped(.sourceDestCheck(eni: lb.eni, outbound: false)) > 0, "\(lab.fabric.dropReport())")
        // And what lb sends from the VIP (a DR real server's reply) dies on the way out.
        try sendUDP(lab, from: lb, source: Self.vip, to: client.address)
        #expect(waitUntil(timeout: 3) { lab.fabric.dropped(.sourceDestCheck(eni: lb.eni, outbound: true)) > 0 }, "\(lab.fabric.dropReport())")

        try lab.setSourceDestCheck(lb, false)
        #expect(waitUntil(timeout: 5, interval: 0.2) { Self.fetch(lab, from: client, Self.vip) == "lb" }, "\(lab.fabric.dropReport())")
    }

    /// The article's direct routing, with plain forwarding standing in for IPVS (this
    /// host's kernel has none): the load balancer hands the client's packet, still
    /// addressed to the VIP, to the web server's MAC; the web server answers the client
    /// from the VIP directly. The VPC lets that through only with the web server's check off.
    @Test(.enabled(if: Prerequisites.available(commands: fabricTools, pythonModules: ["moto"], test: "VPC fabric: direct routing")))
    func directRoutingNeedsTheWebServersCheckOff() throws {
        let lab = try Self.lab()
        defer { lab.teardown() }
        let lb = try lab.launch("lb", address: "172.31.18.163", sourceDestCheck: false)
        let web = try lab.launch("web", address: "172.31.8.1", sourceDestCheck: true)
        let client = try lab.launch("client", address: "172.31.0.100")
        try lab.network.exec(lb.node, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        try lab.network.exec(lb.node, ["ip", "route", "add", "\(Self.vip)/32", "via", web.address])
        try lab.network.exec(web.node, ["ip", "addr", "add", "\(Self.vip)/32", "dev", "lo"])
        for setting in ["net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2", "net.ipv4.conf.all.rp_filter=0",
                        "net.ipv4.conf.eth0.rp_filter=0"] {
            try lab.network.exec(web.node, ["sysctl", "-qw", setting])
        }
        try Self.serve(lab, web)
        try lab.setRoute("\(Self.vip)/32", to: lb)
        #expect(waitUntil(timeout: 20, interval: 0.2) { Self.fetch(lab, from: client, web.address) == "web" })
        #expect(Self.fetch(lab, from: client, Self.vip) == nil)
        #expect(lab.fabric.dropped(.sourceDestCheck(eni: web.eni, outbound: false)) > 0, "\(lab.fabric.dropReport())")
        try lab.setSourceDestCheck(web, false)
        #expect(waitUntil(timeout: 5, interval: 0.2) { Self.fetch(lab, from: client, Self.vip) == "web" }, "\(lab.fabric.dropReport())")
    }

    /// VRRP between two nodes over `transport` (unicast, or replicate's l3 copies; the GRE
    /// overlay needs the VM's kernel: VPCFabricKernelTests).
    static func vrrp(_ transport: String, _ i: Int, _ addresses: [String]) -> String {
        let peers = [addresses[1 - i]]
        return (transport == "unicast"
            ? LabInstance(priority: 150 - 50 * i, version: 3, advertInt: "0.2", source: addresses[i], peers: peers)
            : LabInstance(priority: 150 - 50 * i, version: 3, advertInt: "0.2", peers: peers,
                          extra: ["transport replicate", "replicate_mode l3"])).text
    }

    @Test(.enabled(if: Prerequisites.available(commands: fabricTools, pythonModules: ["moto"], test: "VPC fabric: security groups")),
          arguments: ["unicast", "replicate"])
    func aSecurityGroupWithoutVRRPSplitsTheBrainUntilProtocol112IsAllowed(transport: String) throws {
        let lab = try Self.lab()
        defer { lab.teardown() }
        let group = try lab.createGroup("lb-ssh-only")
        try lab.allow(group, "tcp", ports: 22...22, from: "172.31.0.0/16")
        let addresses = ["172.31.18.163", "172.31.18.164"]
        let nodes = try addresses.enumerated().map { try lab.launch("lb\($0.offset + 1)", address: $0.element, sourceDestCheck: false, groups: [group]) }
        for (i, node) in nodes.enumerated() {
            _ = try lab.network.startOvercast(node.node, config: Self.vrrp(transport, i, addresses))
        }
        #expect(waitUntil(timeout: 10) { nodes.allSatisfy { lab.network.state($0.node) == "MASTER" } },
                "\(nodes.map { lab.network.state($0.node) ?? "-" }) \(lab.fabric.dropReport())")
        for node in nodes { #expect(lab.fabric.dropped(.securityGroup(eni: node.eni, outbound: false)) > 0, "\(lab.fabric.dropReport())") }
        let meaning = lab.fabric.plan?.counters[FabricDrop.securityGroup(eni: nodes[0].eni, outbound: false).counter] ?? ""
        #expect(meaning.contains(group), "\(meaning)")

        // Allow VRRP from the group's members: the fabric follows moto, one MASTER remains.
        try lab.allow(group, "112", fromGroup: group)
        #expect(waitUntil(timeout: 10) { nodes.map { lab.network.state($0.node) } == ["MASTER", "BACKUP"] },
                "\(nodes.map { lab.network.state($0.node) ?? "-" }) \(lab.fabric.dropReport())")
    }

    @Test(.enabled(if: Prerequisites.available(commands: fabricTools, pythonModules: ["moto"], test: "VPC fabric: the route moves the VIP")),
          arguments: ["unicast", "replicate"])
    func aGratuitousARPDoesNotMoveTheVIPOnlyTheRouteDoes(transport: String) throws {
        let lab = try Self.lab()
        defer { lab.teardown() }
        let addresses = ["172.31.18.163", "172.31.18.164"]
        let nodes = try addresses.enumerated().map { try lab.launch("lb\($0.offset + 1)", address: $0.element, sourceDestCheck: false) }
        let client = try lab.launch("client", address: "172.31.0.100")
        var daemons: [ChildProcess] = []
        for (i, node) in nodes.enumerated() {
            try Self.serve(lab, node)
            // No ec2_route_failover: VRRP moves the VIP and sends gratuitous ARP, as on a LAN.
            daemons.append(try lab.network.startOvercast(node.node, config: Self.vrrp(transport, i, addresses)))
        }
        #expect(waitUntil(timeout: 10) { nodes.map { lab.network.state($0.node) } == ["MASTER", "BACKUP"] })
        try lab.setRoute("\(Self.vip)/32", to: nodes[0])
        #expect(waitUntil(timeout: 20, interval: 0.2) { Self.fetch(lab, from: client, Self.vip) == "lb1" }, "\(lab.fabric.dropReport())")

        // lb1 stops (gives the VIP up); lb2 takes it with its gratuitous ARP: the client is
        // cut off, because the route still says lb1, and the ARP was dropped by the VPC.
        let arp = lab.fabric.dropped(.arp)
        daemons[0].stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 5) { lab.network.state(nodes[1].node) == "MASTER" && lab.network.holds(nodes[1].node, Self.vip) })
        #expect(waitUntil(timeout: 3) { lab.fabric.dropped(.arp) > arp }, "lb2's gratuitous ARP was not seen: \(lab.fabric.dropReport())")
        #expect(Self.fetch(lab, from: client, Self.vip) == nil)
        // The route, and only the route, brings the client to lb2.
        try lab.setRoute("\(Self.vip)/32", to: nodes[1])
        #expect(waitUntil(timeout: 5, interval: 0.2) { Self.fetch(lab, from: client, Self.vip) == "lb2" }, "\(lab.fabric.dropReport())")
    }

    /// `replicate_mode l2` copies keep 224.0.0.18 as their destination: on a VPC that
    /// delivers by IP (the default) they die as multicast and the brain splits; `l3` works
    /// on the same VPC; `l2` works only with the fabric switched to deliver by MAC.
    @Test(.enabled(if: Prerequisites.available(commands: fabricTools, pythonModules: ["moto"], test: "VPC fabric: replicate")),
          arguments: [("l2", false), ("l3", false), ("l2", true)])
    func replicateL2NeedsAVPCThatDeliversByMACAndL3DoesNot(mode: String, deliversByMAC: Bool) throws {
        let lab = try Self.lab(FabricOptions(deliversMulticastToENIMAC: deliversByMAC))
        defer { lab.teardown() }
        let addresses = ["172.31.18.163", "172.31.18.164"]
        let nodes = try addresses.enumerated().map { try lab.launch("lb\($0.offset + 1)", address: $0.element, sourceDestCheck: false) }
        for (i, node) in nodes.enumerated() {
            let instance = LabInstance(priority: 150 - 50 * i, version: 3, advertInt: "0.2", peers: [addresses[1 - i]],
                                       extra: ["transport replicate", "replicate_mode \(mode)"])
            _ = try lab.network.startOvercast(node.node, config: instance.text)
        }
        if mode == "l2" && !deliversByMAC {
            #expect(waitUntil(timeout: 10) { nodes.allSatisfy { lab.network.state($0.node) == "MASTER" } },
                    "\(nodes.map { lab.network.state($0.node) ?? "-" })")
            #expect(lab.fabric.dropped(.multicast) > 5, "\(lab.fabric.dropReport())")
        } else {
            #expect(waitUntil(timeout: 10) { nodes.map { lab.network.state($0.node) } == ["MASTER", "BACKUP"] },
                    "\(mode), delivers by MAC \(deliversByMAC): \(nodes.map { lab.network.state($0.node) ?? "-" }) \(lab.fabric.dropReport())")
        }
    }

    /// A gratuitous ARP (request, sender = target = `address`) from `instance`'s eth0.
    func sendGratuitousARP(_ lab: VPCLab, from instance: VPCLab.Instance, for address: String) throws {
        try lab.network.exec(instance.node, ["python3", "-c", """
        import socket, struct
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind(("eth0", 0x0806))
        mac = bytes.fromhex("\(instance.mac.replacingOccurrences(of: ":", with: ""))")
        ip = socket.inet_aton("\(address)")
        frame = b"\\xff" * 6 + mac + b"\\x08\\x06" + struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip + b"\\x00" * 6 + ip
        s.send(frame)
        """])
    }

    func sendUDP(_ lab: VPCLab, from instance: VPCLab.Instance, source: String? = nil, to address: String) throws {
        try lab.network.exec(instance.node, ["python3", "-c", """
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("\(source ?? "0.0.0.0")", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("\(instance.address)"))
        s.sendto(b"x", ("\(address)", 9999))
        """])
    }
}
