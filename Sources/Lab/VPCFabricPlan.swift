import EC2
import NetworkTypes
import VRRP

/// One VPC as moto describes it: everything the fabric enforces comes from here.
public struct VPCState: Sendable, Hashable {
    public var vpc: EC2VPC
    public var subnets: [EC2Subnet]
    public var interfaces: [EC2NetworkInterface]
    public var groups: [EC2SecurityGroup]
    public var routeTables: [EC2RouteTable]

    public init(vpc: EC2VPC, subnets: [EC2Subnet], interfaces: [EC2NetworkInterface], groups: [EC2SecurityGroup],
                routeTables: [EC2RouteTable]) {
        self.vpc = vpc
        self.subnets = subnets
        self.interfaces = interfaces
        self.groups = groups
        self.routeTables = routeTables
    }

    /// The route table that serves `subnet`: its own association, else the VPC's main table.
    public func routeTable(forSubnet subnet: String) -> EC2RouteTable? {
        routeTables.first { $0.associations.contains { $0.subnetID == subnet } }
            ?? routeTables.first { $0.associations.contains { $0.main } }
    }

    /// The ENI a route's target names: the interface itself, or the instance's primary one.
    public func interface(for route: EC2Route) -> EC2NetworkInterface? {
        if let id = route.networkInterfaceID { return interfaces.first { $0.id == id } }
        guard let instance = route.instanceID else { return nil }
        return interfaces.filter { $0.instanceID == instance }.min { ($0.deviceIndex ?? 99) < ($1.deviceIndex ?? 99) }
    }
}

/// The one behaviour of a VPC that AWS does not document and this lab must choose:
/// is a frame addressed to an ENI's MAC delivered when its IP destination is multicast
/// (what `transport replicate` in `l2` mode sends)? Default: no, unicast only.
public struct FabricOptions: Sendable, Hashable {
    public var deliversMulticastToENIMAC = false
    /// The VPC router's MAC: ARP for a subnet's router address (its first + 1) answers this.
    public var routerMAC = "02:0f:0f:00:00:01"

    /// One-way latency between availability zones, in milliseconds, where the kernel has
    /// netem (the VM; not this host): frames between ports of subnets in different zones
    /// wait this long in the receiving port's queue.
    public var zoneLatencyMilliseconds = 0.5
    /// Whether the switch has the queues for it (`VPCFabric` finds out; plans say).
    public var delaysBetweenZones = false

    public init(deliversMulticastToENIMAC: Bool = false, zoneLatencyMilliseconds: Double = 0.5) {
        self.deliversMulticastToENIMAC = deliversMulticastToENIMAC
        self.zoneLatencyMilliseconds = zoneLatencyMilliseconds
    }

    /// The skb priority that sends a frame to a port's delayed band (`tc` prio 1:, band 3).
    public static let delayedBand = "1:3"
}

/// Why the fabric dropped a frame. Each reason is one nftables counter in the lab's
/// switch, so a test asserts that a packet died for the reason a VPC would kill it.
public enum FabricDrop: Hashable, Sendable {
    /// An IP destination that is multicast or broadcast: a VPC carries unicast only.
    case multicast
    /// An ARP frame the VPC did not answer for the sender: gratuitous ARP, ARP for an
    /// address no ENI owns, replies. No ARP frame reaches another node.
    case arp
    /// IPv6 (the fabric has no IPv6 yet: every IPv6 frame is dropped and counted).
    case ipv6
    /// Neither IPv4, IPv6 nor ARP.
    case otherProtocol
    /// A frame addressed to a MAC no attached ENI has (a VPC never floods).
    case unknownDestination
    /// A frame for the VPC router whose destination the route table has no active route for.
    case noRoute(table: String)
    /// Source/destination check: sent from (outbound) or addressed to (inbound) an
    /// address the ENI does not own.
    case sourceDestCheck(eni: String, outbound: Bool)
    /// Security groups: nothing of the ENI's groups lets this new flow in (or out).
    case securityGroup(eni: String, outbound: Bool)

    /// The nftables counter's name (`drop_` first: `arp` alone is an nftables keyword).
    public var counter: String { "drop_" + reason }

    var reason: String {
        switch self {
        case .multicast: "multicast"
        case .arp: "arp"
        case .ipv6: "ipv6"
        case .otherProtocol: "other_protocol"
        case .unknownDestination: "unknown_destination"
        case .noRoute(let table): "no_route_" + FabricPlanner.identifier(table)
        case .sourceDestCheck(let eni, let outbound): "srcdst_\(outbound ? "out" : "in")_" + FabricPlanner.identifier(eni)
        case .securityGroup(let eni, let outbound): "sg_\(outbound ? "out" : "in")_" + FabricPlanner.identifier(eni)
        }
    }
}

/// An ARP request for `address` that the fabric answers with `mac` (ebtables arpreply).
public struct ARPReply: Sendable, Hashable {
    public var address: String
    public var mac: String

    public init(address: String, mac: String) {
        self.address = address
        self.mac = mac
    }
}

/// What the switch must hold for one state of the VPC: ARP replies and two nftables
/// tables (the bridge family sees ports; the inet one has conntrack for stateful groups).
public struct FabricPlan: Sendable, Hashable {
    public var arpReplies: [ARPReply]
    /// nftables input that replaces both tables in one transaction.
    public var nftables: String
    /// Every counter and what it counts.
    public var counters: [String: String]
    /// What in moto the fabric cannot carry, one line each (an ENI attached to no node...).
    public var notes: [String]

    /// ebtables-restore input for the `nat` table: the VPC answering ARP.
    public var ebtables: String {
        var lines = ["*nat", ":PREROUTING ACCEPT", ":OUTPUT ACCEPT", ":POSTROUTING ACCEPT"]
        lines += arpReplies.map { "-A PREROUTING -p ARP --arp-op Request --arp-ip-dst \($0.address) -j arpreply --arpreply-mac \($0.mac)" }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// Turns a VPC's state into the switch's rules. Pure: tests read the plan, the fabric
/// applies it.
public enum FabricPlanner {
    public static let bridgeTable = "overcast_vpc"
    public static let filterTable = "overcast_sg"

    /// `eni-0a1b` -> `eni_0a1b`: nftables names of chains and counters.
    public static func identifier(_ text: String) -> String {
        String(text.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// `ports` maps an ENI id to the switch port of the lab node wearing it.
    public static func plan(_ state: VPCState, ports: [String: String], options: FabricOptions = FabricOptions()) -> FabricPlan {
        var counters: [String: String] = [
            FabricDrop.multicast.counter: "multicast or broadcast IP destination (a VPC carries unicast only)",
            FabricDrop.arp.counter: "ARP the VPC did not answer (gratuitous ARP, unknown address, replies)",
            FabricDrop.ipv6.counter: "IPv6 (not in this fabric yet)",
            FabricDrop.otherProtocol.counter: "neither IPv4 nor ARP",
            FabricDrop.unknownDestination.counter: "a MAC no attached ENI has (never flooded)",
        ]
        var notes: [String] = []
        let attached = state.interfaces.filter { ports[$0.id] != nil }
        for eni in state.interfaces where ports[eni.id] == nil {
            notes.append("\(eni.id) (\(eni.privateAddresses.joined(separator: ", "))) is attached to no lab node")
        }

        // ARP: the VPC answers for every ENI's addresses and each subnet's router.
        var arp: [ARPReply] = []
        for eni in state.interfaces { arp += eni.privateAddresses.map { ARPReply(address: $0, mac: eni.macAddress) } }
        for subnet in state.subnets {
            if let router = IPv4Network(subnet.cidrBlock)?.address(at: 1) { arp.append(ARPReply(address: "\(router)", mac: options.routerMAC)) }
        }

        var bridge: [String] = []
        for name in counters.keys.sorted() { bridge.append("  counter \(name) {}") }
        var broadcast = ["224.0.0.0/4", "255.255.255.255"]
        broadcast += state.subnets.compactMap { IPv4Network($0.cidrBlock).map { "\($0.lastAddress)" } }
        let macs = attached.map(\.macAddress)
        var pre = ["    type filter hook prerouting priority -200; policy accept;",
                   "    ether type arp counter name \(FabricDrop.arp.counter) drop",
                   "    ether type ip6 counter name \(FabricDrop.ipv6.counter) drop",
                   "    ether type != ip counter name \(FabricDrop.otherProtocol.counter) drop"]
        let delivered = options.deliversMulticastToENIMAC && !macs.isEmpty ? " ether daddr != \(set(macs))" : ""
        pre.append("    ip daddr \(set(broadcast))\(delivered) counter name \(FabricDrop.multicast.counter) drop")

        // Routing: a frame for the router goes where its source subnet's table says.
        var routeChains: [String] = []
        var byPort: [String] = []
        for table in state.routeTables {
            let drop = FabricDrop.noRoute(table: table.id)
            counters[drop.counter] = "addressed to the VPC router, no active route in \(table.id)"
            bridge.append("  counter \(drop.counter) {}")
            var rules: [String] = []
            for route in table.routes.sorted(by: { prefix($0) > prefix($1) }) where route.state ?? "active" == "active" {
                guard let destination = route.destination, let network = IPv4Network(destination) else { continue }
                if route.gatewayID == "local" {
                    for eni in attached {
                        for address in eni.privateAddresses where IPv4Address(address).map(network.contains) ?? false {
                            rules.append("    ip daddr \(address) ether daddr set \(eni.macAddress) accept")
                        }
                    }
                    rules.append("    ip daddr \(network) counter name \(drop.counter) drop")
                } else if let eni = state.interface(for: route), ports[eni.id] != nil {
                    rules.append("    ip daddr \(network) ether daddr set \(eni.macAddress) accept")
                } else {
                    // An internet or NAT gateway, a peering: nothing lies beyond this lab's VPC.
                    rules.append("    ip daddr \(network) counter name \(drop.counter) drop")
                }
            }
            rules.append("    counter name \(drop.counter) drop")
            routeChains.append("  chain route_\(identifier(table.id)) {\n" + rules.joined(separator: "\n") + "\n  }")
        }
        for eni in attached {
            guard let port = ports[eni.id], let table = state.routeTable(forSubnet: eni.subnetID) else { continue }
            byPort.append("\"\(port)\" : jump route_\(identifier(table.id))")
        }
        if !byPort.isEmpty {
            pre.append("    ether daddr \(options.routerMAC) iifname vmap { \(byPort.joined(separator: ", ")) }")
        }
        pre.append("    ether daddr \(options.routerMAC) counter name \(FabricDrop.unknownDestination.counter) drop")
        pre.append(macs.isEmpty ? "    counter name \(FabricDrop.unknownDestination.counter) drop"
                                : "    ether daddr != \(set(macs)) counter name \(FabricDrop.unknownDestination.counter) drop")

        // Source/destination check, by switch port.
        var forward = ["    type filter hook forward priority -200; policy accept;"]
        for eni in attached where eni.sourceDestCheck {
            guard let port = ports[eni.id], !eni.privateAddresses.isEmpty else { continue }
            for outbound in [true, false] {
                let drop = FabricDrop.sourceDestCheck(eni: eni.id, outbound: outbound)
                counters[drop.counter] = "source/destination check of \(eni.id): \(outbound ? "sent from" : "sent to") an address it does not own"
                bridge.append("  counter \(drop.counter) {}")
                forward.append("    \(outbound ? "iifname" : "oifname") \"\(port)\" ip \(outbound ? "saddr" : "daddr") != "
                               + "\(set(eni.privateAddresses)) counter name \(drop.counter) drop")
            }
        }

        // Availability zones: frames between zones go to the receiving port's delayed band.
        if options.delaysBetweenZones {
            var zones: [String: [String]] = [:]
            for eni in attached {
                guard let port = ports[eni.id], let zone = state.subnets.first(where: { $0.id == eni.subnetID })?.availabilityZone else { continue }
                zones[zone, default: []].append("\"\(port)\"")
            }
            for (zone, members) in zones.sorted(by: { $0.key < $1.key }) {
                let others = zones.filter { $0.key != zone }.flatMap(\.value).sorted()
                guard !others.isEmpty else { continue }
                forward.append("    iifname \(set(members.sorted())) oifname \(set(others)) meta priority set \(FabricOptions.delayedBand)")
            }
        }

        // Security groups: stateful, by the ENI's MAC (conntrack lives in the inet family).
        var filter: [String] = []
        var filterChains: [String] = []
        var inbound: [String] = []
        var outbound: [String] = []
        for eni in attached {
            let groups = eni.securityGroups.compactMap { id in state.groups.first { $0.id == id } }
            let names = groups.map { "\($0.id) (\($0.name))" }.joined(separator: ", ")
            for isOutbound in [false, true] {
                let permissions = groups.flatMap { isOutbound ? $0.egress : $0.ingress }
                if isOutbound && permissions.contains(where: allowsEverything) { continue }
                let drop = FabricDrop.securityGroup(eni: eni.id, outbound: isOutbound)
                counters[drop.counter] = "security groups \(names.isEmpty ? "(none)" : names) of \(eni.id) let nothing of this \(isOutbound ? "out" : "in")"
                filter.append("  counter \(drop.counter) {}")
                let chain = "\(isOutbound ? "out" : "in")_\(identifier(eni.id))"
                let verdict = isOutbound ? "return" : "accept"
                var rules = permissions.flatMap { rule(for: $0, outbound: isOutbound, state: state).map { "    \($0) \(verdict)" } }
                rules.append("    counter name \(drop.counter) drop")
                filterChains.append("  chain \(chain) {\n" + rules.joined(separator: "\n") + "\n  }")
                if isOutbound { outbound.append("\(eni.macAddress) : jump \(chain)") } else { inbound.append("\(eni.macAddress) : jump \(chain)") }
            }
        }
        var filterForward = ["    type filter hook forward priority 0; policy accept;", "    ct state established,related accept"]
        if !outbound.isEmpty { filterForward.append("    ether saddr vmap { \(outbound.joined(separator: ", ")) }") }
        if !inbound.isEmpty { filterForward.append("    ether daddr vmap { \(inbound.joined(separator: ", ")) }") }

        let b = bridgeTable, f = filterTable
        var text = ["table bridge \(b) {}", "flush table bridge \(b)", "table inet \(f) {}", "flush table inet \(f)", "table bridge \(b) {"]
        text += bridge
        text += ["  chain prerouting_ {"] + pre + ["  }"] + routeChains + ["  chain forward_ {"] + forward + ["  }", "}"]
        text += ["table inet \(f) {"] + filter + ["  chain forward_ {"] + filterForward + ["  }"] + filterChains + ["}"]
        return FabricPlan(arpReplies: arp, nftables: text.joined(separator: "\n") + "\n", counters: counters, notes: notes)
    }

    static func prefix(_ route: EC2Route) -> Int { route.destination.flatMap { IPv4Network($0) }?.prefixLength ?? -1 }

    static func set(_ items: [String]) -> String { items.count == 1 ? items[0] : "{ " + items.joined(separator: ", ") + " }" }

    static func allowsEverything(_ permission: EC2Permission) -> Bool {
        permission.protocolNumber == nil && permission.cidrBlocks.contains("0.0.0.0/0")
    }

    /// The nftables matches of one rule (one per source), without the verdict; none when
    /// the rule names only groups with no member attached.
    static func rule(for permission: EC2Permission, outbound: Bool, state: VPCState) -> [String] {
        var match: [String] = []
        switch permission.protocolNumber {
        case nil: break
        case let number? where number == 6 || number == 17:
            match.append("meta l4proto \(number == 6 ? "tcp" : "udp")")
            if let from = permission.fromPort, let to = permission.toPort, from >= 0, !(from == 0 && to == 65535) {
                match.append(from == to ? "th dport \(from)" : "th dport \(from)-\(max(from, to))")
            }
        case let number?: match.append("meta l4proto \(number)")
        }
        let field = outbound ? "ip daddr" : "ip saddr"
        var peers: [String] = permission.cidrBlocks.map { $0 == "0.0.0.0/0" ? "" : "\(field) \($0)" }
        for group in permission.groups {
            let members = state.interfaces.filter { $0.securityGroups.contains(group) }.flatMap(\.privateAddresses)
            if !members.isEmpty { peers.append("\(field) \(set(members))") }
        }
        let base = match.joined(separator: " ")
        return peers.map { [base, $0].filter { !$0.isEmpty }.joined(separator: " ") }.map { $0.isEmpty ? "meta nfproto ipv4" : $0 }
    }
}
