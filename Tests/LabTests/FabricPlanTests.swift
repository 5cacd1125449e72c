import EC2
import Lab
import NetworkTypes
import Testing
import VRRP

/// The VPC fabric's planner, pure: what moto's state becomes in the switch.
@Suite struct FabricPlanTests {
    static let vpc = EC2VPC(id: "vpc-1", cidrBlocks: ["172.31.0.0/16"])
    static let subnets = [EC2Subnet(id: "subnet-a", vpcID: "vpc-1", cidrBlock: "172.31.16.0/20", availabilityZone: "eu-west-1a"),
                          EC2Subnet(id: "subnet-b", vpcID: "vpc-1", cidrBlock: "172.31.0.0/20", availabilityZone: "eu-west-1b")]

    static func eni(_ id: String, _ address: String, mac: String, subnet: String = "subnet-a", check: Bool = true,
                    groups: [String] = ["sg-lb"], instance: String? = nil) -> EC2NetworkInterface {
        EC2NetworkInterface(id: id, subnetID: subnet, vpcID: "vpc-1", macAddress: mac, privateAddresses: [address], sourceDestCheck: check,
                            securityGroups: groups, instanceID: instance, deviceIndex: instance == nil ? nil : 0)
    }

    static func state(interfaces: [EC2NetworkInterface], groups: [EC2SecurityGroup], routes: [EC2Route] = []) -> VPCState {
        let local = EC2Route(destination: "172.31.0.0/16", gatewayID: "local", state: "active")
        let table = EC2RouteTable(id: "rtb-1", routes: [local] + routes, vpcID: "vpc-1",
                                  associations: [EC2RouteTableAssociation(subnetID: "subnet-a", main: false),
                                                 EC2RouteTableAssociation(subnetID: "subnet-b", main: false)])
        let main = EC2RouteTable(id: "rtb-main", routes: [local], vpcID: "vpc-1", associations: [EC2RouteTableAssociation(subnetID: nil, main: true)])
        return VPCState(vpc: vpc, subnets: subnets, interfaces: interfaces, groups: groups, routeTables: [main, table])
    }

    static let allFromVPC = EC2SecurityGroup(id: "sg-lb", name: "lb", vpcID: "vpc-1",
                                             ingress: [EC2Permission(ipProtocol: "-1", cidrBlocks: ["172.31.0.0/16"])],
                                             egress: [EC2Permission(ipProtocol: "-1", cidrBlocks: ["0.0.0.0/0"])])

    /// The body of chain `name` in the plan's nftables text.
    static func chain(_ name: String, in plan: FabricPlan) -> String {
        let parts = plan.nftables.components(separatedBy: "  chain \(name) {\n")
        return parts.count > 1 ? parts[1].components(separatedBy: "\n  }")[0] : ""
    }

    @Test func arpIsAnsweredForEveryENIAddressAndEachSubnetsRouter() {
        let plan = FabricPlanner.plan(Self.state(interfaces: [Self.eni("eni-1", "172.31.18.163", mac: "02:00:00:00:00:01")],
                                                 groups: [Self.allFromVPC]), ports: ["eni-1": "p0"])
        #expect(plan.arpReplies.contains(ARPReply(address: "172.31.18.163", mac: "02:00:00:00:00:01")))
        #expect(plan.arpReplies.contains(ARPReply(address: "172.31.16.1", mac: FabricOptions().routerMAC)))
        #expect(plan.arpReplies.contains(ARPReply(address: "172.31.0.1", mac: FabricOptions().routerMAC)))
        #expect(plan.ebtables.contains("--arp-ip-dst 172.31.18.163 -j arpreply --arpreply-mac 02:00:00:00:00:01"))
        #expect(plan.nftables.contains("ether type arp counter name drop_arp drop"))
    }

    @Test func multicastAndBroadcastAreDroppedUnlessTheSwitchDeliversByMAC() {
        let state = Self.state(interfaces: [Self.eni("eni-1", "172.31.18.163", mac: "02:00:00:00:00:01")], groups: [Self.allFromVPC])
        let byIP = FabricPlanner.plan(state, ports: ["eni-1": "p0"])
        #expect(byIP.nftables.contains("ip daddr { 224.0.0.0/4, 255.255.255.255, 172.31.31.255, 172.31.15.255 } counter name drop_multicast drop"))
        let byMAC = FabricPlanner.plan(state, ports: ["eni-1": "p0"], options: FabricOptions(deliversMulticastToENIMAC: true))
        #expect(byMAC.nftables.contains("ether daddr != 02:00:00:00:00:01 counter name drop_multicast drop"))
    }

    @Test func theRouterFollowsTheSubnetsTableLongestPrefixFirst() throws {
        let lb = Self.eni("eni-1", "172.31.18.163", mac: "02:00:00:00:00:01", check: false, instance: "i-lb")
        let routes = [EC2Route(destination: "192.168.20.0/24", networkInterfaceID: "eni-2", state: "active"),
                      EC2Route(destination: "192.168.20.11/32", instanceID: "i-lb", state: "active"),
                      EC2Route(destination: "0.0.0.0/0", gatewayID: "igw-1", state: "active"),
                      EC2Route(destination: "10.0.0.0/8", instanceID: "i-gone", state: "blackhole")]
        let plan = FabricPlanner.plan(Self.state(interfaces: [lb, Self.eni("eni-2", "172.31.18.164", mac: "02:00:00:00:00:02")],
                                                 groups: [Self.allFromVPC], routes: routes), ports: ["eni-1": "p0", "eni-2": "p1"])
        let chain = Self.chain("route_rtb_1", in: plan)
        let lines = chain.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(lines.first == "ip daddr 192.168.20.11/32 ether daddr set 02:00:00:00:00:01 accept")
        let wider = try #require(lines.firstIndex(of: "ip daddr 192.168.20.0/24 ether daddr set 02:00:00:00:00:02 accept"))
        let local = try #require(lines.firstIndex(of: "ip daddr 172.31.18.163 ether daddr set 02:00:00:00:00:01 accept"))
        #expect(wider < local, "a /24 before the VPC's /16")
        #expect(lines.contains("ip daddr 0.0.0.0/0 counter name drop_no_route_rtb_1 drop"))
        #expect(!chain.contains("10.0.0.0/8"), "a blackhole route carries nothing")
        #expect(lines.last == "counter name drop_no_route_rtb_1 drop")
        #expect(plan.nftables.contains("iifname vmap { \"p0\" : jump route_rtb_1, \"p1\" : jump route_rtb_1 }"))
    }

    @Test func theSourceDestCheckIsEnforcedOnlyWhereItIsOn() {
        let plan = FabricPlanner.plan(Self.state(interfaces: [Self.eni("eni-1", "172.31.18.163", mac: "02:00:00:00:00:01", check: true),
                                                              Self.eni("eni-2", "172.31.18.164", mac: "02:00:00:00:00:02", check: false)],
                                                 groups: [Self.allFromVPC]), ports: ["eni-1": "p0", "eni-2": "p1"])
        #expect(plan.nftables.contains("iifname \"p0\" ip saddr != 172.31.18.163 counter name drop_srcdst_out_eni_1 drop"))
        #expect(plan.nftables.contains("oifname \"p0\" ip daddr != 172.31.18.163 counter name drop_srcdst_in_eni_1 drop"))
        #expect(!plan.nftables.contains("srcdst_in_eni_2"))
        #expect(plan.counters[FabricDrop.sourceDestCheck(eni: "eni-1", outbound: false).counter] != nil)
    }

    @Test func securityGroupRulesBecomeStatefulMatchesBySourceCIDROrGroupMembers() {
        let group = EC2SecurityGroup(id: "sg-lb", name: "lb", vpcID: "vpc-1", ingress: [
            EC2Permission(ipProtocol: "112", fromPort: -1, toPort: -1, groups: ["sg-lb"]),
            EC2Permission(ipProtocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"]),
            EC2Permission(ipProtocol: "tcp", fromPort: 8000, toPort: 8100, cidrBlocks: ["10.0.0.0/8"]),
            EC2Permission(ipProtocol: "47", fromPort: -1, toPort: -1, groups: ["sg-empty"]),
        ], egress: [EC2Permission(ipProtocol: "-1", cidrBlocks: ["0.0.0.0/0"])])
        let plan = FabricPlanner.plan(Self.state(interfaces: [Self.eni("eni-1", "172.31.18.163", mac: "02:00:00:00:00:01"),
                                                              Self.eni("eni-2", "172.31.18.164", mac: "02:00:00:00:00:02")],
                                                 groups: [group]), ports: ["eni-1": "p0", "eni-2": "p1"])
        let chain = Self.chain("in_eni_1", in: plan)
        #expect(chain.contains("meta l4proto 112 ip saddr { 172.31.18.163, 172.31.18.164 } accept"))
        #expect(chain.contains("meta l4proto tcp th dport 80 accept"))
        #expect(chain.contains("meta l4proto tcp th dport 8000-8100 ip saddr 10.0.0.0/8 accept"))
        #expect(!chain.contains("l4proto 47"), "a rule whose source group has no member allows nothing")
        #expect(chain.contains("counter name drop_sg_in_eni_1 drop"))
        #expect(plan.nftables.contains("ct state established,related accept"))
        // All outbound allowed: no outbound chain at all.
        #expect(!plan.nftables.contains("chain out_eni_1"))
        #expect(plan.counters[FabricDrop.securityGroup(eni: "eni-1", outbound: false).counter]?.contains("sg-lb (lb)") == true)
    }

    @Test func zonesAreApartOnlyWhereTheSwitchCanDelay() {
        let interfaces = [Self.eni("eni-1", "172.31.18.163", mac: "02:00:00:00:00:01"),
                          Self.eni("eni-2", "172.31.0.164", mac: "02:00:00:00:00:02", subnet: "subnet-b")]
        let ports = ["eni-1": "p0", "eni-2": "p1"]
        #expect(!FabricPlanner.plan(Self.state(interfaces: interfaces, groups: [Self.allFromVPC]), ports: ports).nftables.contains("meta priority"))
        var options = FabricOptions()
        options.delaysBetweenZones = true
        let plan = FabricPlanner.plan(Self.state(interfaces: interfaces, groups: [Self.allFromVPC]), ports: ports, options: options)
        #expect(plan.nftables.contains("iifname \"p0\" oifname \"p1\" meta priority set 1:3"))
        #expect(plan.nftables.contains("iifname \"p1\" oifname \"p0\" meta priority set 1:3"))
    }

    @Test func anENIWithoutANodeIsNotedAndCarriesNothing() {
        let plan = FabricPlanner.plan(Self.state(interfaces: [Self.eni("eni-1", "172.31.18.163", mac: "02:00:00:00:00:01"),
                                                              Self.eni("eni-9", "172.31.18.200", mac: "02:00:00:00:00:09")],
                                                 groups: [Self.allFromVPC]), ports: ["eni-1": "p0"])
        #expect(plan.notes == ["eni-9 (172.31.18.200) is attached to no lab node"])
        #expect(!plan.nftables.contains("02:00:00:00:00:09"))
    }

    @Test func networksParseContainAndOverlap() throws {
        let vpc = try #require(IPv4Network("172.31.0.0/16"))
        #expect(vpc.contains(try #require(IPv4Address("172.31.255.200"))))
        #expect(!vpc.contains(try #require(IPv4Address("192.168.20.11"))))
        #expect(IPv4Network("172.31.18.7/20")?.description == "172.31.16.0/20")
        #expect(IPv4Network("172.31.16.0/20")?.lastAddress.description == "172.31.31.255")
        #expect(IPv4Network("172.31.16.0/20")?.address(at: 1)?.description == "172.31.16.1")
        #expect(vpc.overlaps(try #require(IPv4Network("172.31.16.0/20"))))
        #expect(!vpc.overlaps(try #require(IPv4Network("192.168.20.11/32"))))
        for bad in ["172.31.0.0/33", "172.31.0.0/", "172.31.0/16", "a/16", "172.31.0.0/16/2", "172.31.0.0/-1"] {
            #expect(IPv4Network(bad) == nil, "\(bad)")
        }
        #expect(IPv4Network("255.255.255.255/32")?.address(at: 1) == nil)
    }
}
