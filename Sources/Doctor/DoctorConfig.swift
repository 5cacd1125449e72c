import Config
import NetworkTypes

/// What the checks need from a configuration, taken from the same parsed and validated
/// model `overcast check-config` and the daemon read: which nodes talk to which over
/// which IP protocol, which VIPs and route tables, which services and forwarding kinds.
public struct DoctorConfig: Sendable, Hashable {
    public struct Instance: Sendable, Hashable {
        public var name: String
        public var interface: String?
        /// The VIPs' addresses (without prefix).
        public var vips: [String]
        /// The interface each VIP lives on (its `dev`, else the instance's interface).
        public var vipInterfaces: [String]
        /// `unicast_src_ip`; nil means this node's primary address.
        public var sourceIP: String?
        public var peers: [String]
        public var transport: TransportKind
        public var routeFailover: EC2RouteFailover?
        /// With `transport replicate`: l2 keeps 224.0.0.18 as the copies' destination.
        public var replicateMode: ReplicateMode = .l2
    }

    /// An `overlay` block: the GRE mesh between `local` and `peers` (IP protocol 47).
    public struct Overlay: Sendable, Hashable {
        public var name: String
        public var local: String?
        public var peers: [String]
    }

    /// A virtual_server port that clients must reach on the VIP.
    public struct Service: Sendable, Hashable {
        /// As the configuration names it ("192.168.20.11 80", "fwmark 1", "group web").
        public var name: String
        public var port: Int
        /// 6 (TCP) or 17 (UDP).
        public var ipProtocol: Int
        /// NAT, DR or TUN: the virtual server's, or a real server's own.
        public var forwarding: Set<String>
    }

    public var instances: [Instance]
    public var overlays: [Overlay]
    public var services: [Service]
    /// Virtual servers without a port to check (fwmark services): their count, for the report.
    public var portlessServices: Int

    public init(instances: [Instance] = [], overlays: [Overlay] = [], services: [Service] = [], portlessServices: Int = 0) {
        self.instances = instances
        self.overlays = overlays
        self.services = services
        self.portlessServices = portlessServices
    }

    public init(_ configuration: OvercastConfiguration) {
        instances = configuration.instances.map { i in
            Instance(name: i.name, interface: i.interface, vips: i.virtualIPAddresses.map(\.address.description),
                     vipInterfaces: i.virtualIPAddresses.compactMap { $0.device ?? i.interface },
                     sourceIP: i.unicastSrcIP?.description, peers: i.unicastPeers.map(\.description),
                     transport: i.effectiveTransport, routeFailover: i.ec2RouteFailover,
                     replicateMode: i.replicateMode)
        }
        overlays = configuration.overlays.map { Overlay(name: $0.name, local: $0.local?.description, peers: $0.peers.map(\.description)) }
        var services: [Service] = []
        var portless = 0
        for server in configuration.virtualServers {
            let ipProtocol = server.protocolName.uppercased() == "UDP" ? 17 : 6
            let forwarding = Set([server.forwardingMethod.uppercased()] + server.realServers.compactMap { $0.forwardingMethod?.uppercased() })
            switch server.key {
            case .address(let address, let port):
                services.append(Service(name: "\(address) \(port)", port: port, ipProtocol: ipProtocol, forwarding: forwarding))
            case .fwmark:
                portless += 1
            case .group(let name):
                let members = configuration.virtualServerGroups.first { $0.name == name }?.members ?? []
                let ports = members.compactMap(\.port)
                if ports.isEmpty { portless += 1 }
                for port in Set(ports).sorted() {
                    services.append(Service(name: "group \(name) port \(port)", port: port, ipProtocol: ipProtocol, forwarding: forwarding))
                }
            }
        }
        self.services = services
        portlessServices = portless
    }

    /// The EC2 settings the daemon uses: the first `ec2_route_failover` block (endpoint,
    /// IMDS endpoint, region, timeout, target, instance id).
    public var ec2: EC2RouteFailover? { instances.lazy.compactMap(\.routeFailover).first }

    /// Every route table named, in order, once.
    public var routeTables: [String] {
        var seen: Set<String> = []
        return instances.flatMap { $0.routeFailover?.routeTables ?? [] }.filter { seen.insert($0).inserted }
    }

    /// Every peer address named by an instance or an overlay, in order, once.
    public var peerAddresses: [String] {
        var seen: Set<String> = []
        return (instances.flatMap(\.peers) + overlays.flatMap(\.peers)).filter { seen.insert($0).inserted }
    }

    /// Whether a GRE overlay is in use (an `overlay` block or `transport gre`).
    public var usesGRE: Bool { !overlays.isEmpty || instances.contains { $0.transport == .gre } }

    /// Whether IPVS is in use.
    public var usesIPVS: Bool { !services.isEmpty || portlessServices > 0 }
}
