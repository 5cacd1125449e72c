import EC2
import Foundation
import NetworkTypes
import VRRP

/// A test bed that behaves like an AWS VPC, described the way a user describes one: a
/// CIDR, subnets in availability zones, instances launched at addresses with security
/// groups and a source/destination check. moto (the shared EC2 lab) holds the VPC; each
/// instance is a lab node whose `eth0` wears its ENI's MAC and address, with the
/// subnet's router as default gateway; the fabric (`VPCFabric`) carries frames between
/// them as the VPC would. An "aws" node in the last subnet is the EC2 endpoint and IMDS.
public final class VPCLab: @unchecked Sendable {
    public struct Subnet: Sendable {
        public var cidr: String
        public var zone: String
        public init(_ cidr: String, zone: String) {
            self.cidr = cidr
            self.zone = zone
        }
    }

    /// An instance of the lab: its node, and what moto calls it.
    public struct Instance: Sendable {
        public var node: NetworkLab.Node
        public var id: String
        public var eni: String
        public var mac: String
        public var address: String
    }

    /// One subnet for the article's nodes (load balancers, web servers and the client:
    /// IPVS direct routing needs the real servers on the balancers' link, in AWS as here),
    /// one in a second zone, and the endpoint's.
    public static let defaultSubnets = [Subnet("172.31.0.0/19", zone: "a"), Subnet("172.31.32.0/20", zone: "b"),
                                        Subnet("172.31.240.0/20", zone: "a")]
    /// The EC2 API and IMDS endpoint's address (in the last subnet).
    public static let endpointAddress = "172.31.255.200"

    public let network: NetworkLab
    public let fabric: VPCFabric
    public let ec2: EC2Lab
    public let vpcID: String
    public let subnetIDs: [String]
    public let subnets: [Subnet]
    public let routeTables: [String]
    /// The group every instance gets unless told otherwise: all traffic from its members
    /// (what AWS's default group allows).
    public let defaultGroup: String
    public private(set) var instances: [Instance] = []
    private let host: String
    private let proxyPort: Int
    private let frontPort: Int

    public init(cidr: String = "172.31.0.0/16", subnets: [Subnet] = VPCLab.defaultSubnets,
                options: FabricOptions = FabricOptions()) throws {
        guard !subnets.isEmpty else { throw ChildProcessError("a lab VPC needs at least one subnet (the last holds its endpoint)") }
        let shared = try EC2Lab.shared()
        (host, proxyPort) = (shared.host, shared.proxyPort)
        let answer = try EC2Lab.labOperation(host: host, port: proxyPort, [
            "op": "create_vpc", "cidr": cidr, "subnets": subnets.map { ["cidr": $0.cidr, "zone": $0.zone] },
        ])
        guard let vpc = answer["vpc"] as? String, let subnetIDs = answer["subnets"] as? [String],
              let tables = answer["route_tables"] as? [String], let group = answer["security_group"] as? String,
              let front = answer["proxy_port"] as? Int, let imds = answer["imds_port"] as? Int, subnetIDs.count == subnets.count else {
            throw ChildProcessError("the EC2 lab's create_vpc answered \(answer)")
        }
        (vpcID, self.subnetIDs, self.subnets, routeTables, defaultGroup, frontPort) = (vpc, subnetIDs, subnets, tables, group, front)
        let network = try NetworkLab(dropsMulticast: true, vpcSwitch: true)
        self.network = network
        let fabric = VPCFabric(vpcID: vpc, switchNamespace: network.switchNamespace, directory: network.directory, motoHost: shared.host,
                           motoPort: shared.motoPort, generationURL: "http://\(shared.host):\(shared.proxyPort)/_generation",
                           options: options)
        self.fabric = fabric
        let close = { [host, proxyPort] in
            fabric.stop()
            network.teardown()
            _ = try? EC2Lab.labOperation(host: host, port: proxyPort, ["op": "close", "vpc": vpc, "proxy_port": front])
        }
        do {
            let endpointGroup = try EC2Lab.labOperation(host: host, port: proxyPort, ["op": "create_group", "vpc": vpc, "name": "endpoint"])
            guard let endpoint = endpointGroup["group"] as? String else { throw ChildProcessError("create_group answered \(endpointGroup)") }
            _ = try EC2Lab.labOperation(host: host, port: proxyPort, ["op": "authorize", "group": endpoint, "protocol": "tcp",
                                                                      "from": 8080, "to": 8081, "cidr": cidr])
            let eni = try EC2Lab.labOperation(host: host, port: proxyPort, [
                "op": "create_eni", "subnet": subnetIDs[subnetIDs.count - 1], "ip": Self.endpointAddress, "groups": [endpoint],
            ])
            let node = try Self.attach("aws", eni: eni, address: Self.endpointAddress, subnet: subnets[subnets.count - 1],
                                       network: network, fabric: fabric)
            ec2 = try EC2Lab(front: node, host: shared.host, motoPort: shared.motoPort, proxyPort: front, imdsPort: imds,
                             resources: .init(vpc: vpc, route_tables: tables, instances: []))
            try fabric.sync()
            fabric.watch()
        } catch {
            close()
            throw error
        }
        // The network's teardown ends the VPC; the network keeps this lab alive until then.
        network.teardownHooks.append { [self] in teardown() }
        network.vpc = self
        network.launcher = { [self] name, address in try launch(name, address: address, sourceDestCheck: false).node }
    }

    /// A VPC lab handed over as its network: `addNode(name, address:)` launches an
    /// instance there (its check off, as nodes that hold a VIP need), and the network's
    /// `teardown()` ends the VPC. For the tests and benchmarks written for a plain lab.
    public static func network(options: FabricOptions = FabricOptions()) throws -> NetworkLab {
        try Prerequisites.require(commands: fabricCommands, pythonModules: ["moto", "boto3"])
        return try VPCLab(options: options).network
    }

    /// What the fabric needs on the machine.
    public static let fabricCommands = ["ip", "bridge", "nft", "ebtables-nft-restore", "python3"]

    /// For `.enabled(if:)` of a test on a lab VPC: the fabric's prerequisites and `commands`
    /// (skips with the reason outside CI, as `Prerequisites.available`).
    public static func available(commands: [String] = [], test: String) -> Bool {
        Prerequisites.available(commands: fabricCommands + commands, pythonModules: ["moto", "boto3"], test: test)
    }

    deinit { teardown() }

    private var tornDown = false

    public func teardown() {
        guard !tornDown else { return }
        tornDown = true
        fabric.stop()
        network.teardown()
        network.launcher = nil
        _ = try? EC2Lab.labOperation(host: host, port: proxyPort, ["op": "close", "vpc": vpcID, "proxy_port": frontPort])
    }

    /// Runs an instance at `address` (in the subnet that holds it) and makes it a lab node
    /// named `name`. AWS's default is a source/destination check on; the article's load
    /// balancers and web servers need it off.
    @discardableResult
    public func launch(_ name: String, address: String, sourceDestCheck: Bool = true, groups: [String]? = nil) throws -> Instance {
        guard let ip = IPv4Address(address),
              let index = subnets.firstIndex(where: { IPv4Network($0.cidr)?.contains(ip) ?? false }) else {
            throw ChildProcessError("\(address) is in none of the lab's subnets")
        }
        let answer = try operation(["op": "launch", "subnet": subnetIDs[index], "ip": address, "groups": groups ?? [defaultGroup],
                                    "source_dest_check": sourceDestCheck])
        let node = try Self.attach(name, eni: answer, address: address, subnet: subnets[index], network: network, fabric: fabric)
        let instance = Instance(node: node, id: answer["instance"] as? String ?? "", eni: answer["eni"] as? String ?? "",
                                mac: answer["mac"] as? String ?? "", address: address)
        instances.append(instance)
        try fabric.sync()
        return instance
    }

    /// A lab node wearing ENI `answer` (vpc_lab.py's), its port given to the fabric.
    private static func attach(_ name: String, eni answer: [String: Any], address: String, subnet: Subnet, network lab: NetworkLab,
                               fabric: VPCFabric) throws -> NetworkLab.Node {
        guard let eni = answer["eni"] as? String, let mac = answer["mac"] as? String,
              let network = IPv4Network(subnet.cidr), let router = network.address(at: 1) else {
            throw ChildProcessError("the EC2 lab answered \(answer) for \(name)")
        }
        let node = try lab.addNode(name, address: "\(address)/\(network.prefixLength)", mac: mac, gateway: "\(router)")
        if let port = lab.port(of: node) { fabric.attach(eni: eni, port: port) }
        return node
    }

    /// The instance a lab node wears.
    public func instance(of node: NetworkLab.Node) -> Instance? { instances.first { $0.node == node } }

    /// One of vpc_lab.py's operations on this lab's VPC (moto changes, the fabric follows).
    @discardableResult
    public func operation(_ command: [String: Any]) throws -> [String: Any] {
        try EC2Lab.labOperation(host: host, port: proxyPort, command)
    }

    /// Turns the source/destination check of `instance` on or off (instance and ENI, as AWS).
    public func setSourceDestCheck(_ instance: Instance, _ on: Bool) throws {
        try operation(["op": "source_dest_check", "instance": instance.id, "eni": instance.eni, "value": on])
        try fabric.sync()
    }

    /// A new security group in this VPC, with no inbound rule (AWS's outbound default: all).
    public func createGroup(_ name: String) throws -> String {
        guard let group = try operation(["op": "create_group", "vpc": vpcID, "name": name])["group"] as? String else {
            throw ChildProcessError("create_group \(name) answered nothing")
        }
        return group
    }

    /// Allows inbound `ipProtocol` (`-1`, `tcp`, `udp`, `112`, `47`...) to `group` from a
    /// CIDR or from the members of another group.
    public func allow(_ group: String, _ ipProtocol: String, ports: ClosedRange<Int>? = nil, from cidr: String? = nil,
                      fromGroup: String? = nil) throws {
        var command: [String: Any] = ["op": "authorize", "group": group, "protocol": ipProtocol]
        if let ports { (command["from"], command["to"]) = (ports.lowerBound, ports.upperBound) }
        if let cidr { command["cidr"] = cidr }
        if let fromGroup { command["source_group"] = fromGroup }
        try operation(command)
        try fabric.sync()
    }

    /// What `destination` in the lab's table `table` points at now, read from moto.
    public func routeTarget(_ destination: String, table: Int = 0) throws -> String? {
        try ec2.routeTarget(table: routeTables[table], destination: destination)
    }

    /// Points `destination` at `instance` in the lab's table (as a user with the console would).
    public func setRoute(_ destination: String, to instance: Instance, table: Int = 0) throws {
        try operation(["op": "set_route", "table": routeTables[table], "destination": destination, "instance": instance.id])
        try fabric.sync()
    }
}
