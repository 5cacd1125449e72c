import Config
@testable import Doctor
@testable import EC2
import Testing

/// A healthy two-node setup (the article's: VIP 192.168.20.11 outside 172.31.0.0/16,
/// route table rtb-1, nodes 172.31.18.163 and .164 in sg-lb, which allows everything from
/// itself), and ways to spoil it one fact at a time.
enum Fixture {
    static let this = "172.31.18.163"
    static let peer = "172.31.18.164"

    static func config(peers: [String] = [peer], vip: String = "192.168.20.11", extra: String = "",
                       failover: String? = "route_table rtb-1\n    region eu-west-1", instanceExtra: String = "") throws -> DoctorConfig {
        let text = """
            \(extra)
            vrrp_instance VI_1 {
              state BACKUP
              interface eth0
              virtual_router_id 51
              priority 150
              advert_int 1
              unicast_src_ip \(this)
              unicast_peer {
                \(peers.joined(separator: "\n    "))
              }
              virtual_ipaddress {
                \(vip)/32 dev eth0
              }
              \(failover.map { "ec2_route_failover {\n    \($0)\n  }" } ?? "")
              \(instanceExtra)
            }
            """
        let report = ConfigurationLoader.load(text: text)
        try #require(report.isValid, "\(report.diagnostics)")
        return DoctorConfig(report.configuration)
    }

    static let allFromLB = EC2Permission(ipProtocol: "-1", groups: ["sg-lb"])

    static func eni(_ id: String, _ address: String, instance: String?, groups: [String] = ["sg-lb"], sourceDestCheck: Bool = false,
                    mac: String = "02:00:00:00:00:01", vpc: String = "vpc-1") -> EC2NetworkInterface {
        EC2NetworkInterface(id: id, subnetID: "subnet-a", vpcID: vpc, macAddress: mac, privateAddresses: [address],
                            sourceDestCheck: sourceDestCheck, securityGroups: groups, instanceID: instance, deviceIndex: 0)
    }

    static func group(_ id: String, ingress: [EC2Permission], egress: [EC2Permission] = [EC2Permission(ipProtocol: "-1", cidrBlocks: ["0.0.0.0/0"])]) -> EC2SecurityGroup {
        EC2SecurityGroup(id: id, name: id, vpcID: "vpc-1", ingress: ingress, egress: egress)
    }

    static func table(_ id: String = "rtb-1", vpc: String = "vpc-1", routes: [EC2Route]? = nil, associated: Bool = true) -> EC2RouteTable {
        EC2RouteTable(id: id, routes: routes ?? [EC2Route(destination: "172.31.0.0/16", gatewayID: "local", state: "active"),
                                                 EC2Route(destination: "192.168.20.11/32", instanceID: "i-1", state: "active")],
                      vpcID: vpc, associations: associated ? [EC2RouteTableAssociation(subnetID: "subnet-a", main: false)] : [])
    }

    static func account() -> AccountFacts {
        var facts = AccountFacts()
        facts.endpoint = "https://ec2.eu-west-1.amazonaws.com/"
        facts.region = .value("eu-west-1")
        facts.credentials = .value("credentials ****0001 from instance role overcast-role")
        facts.metadata = MetadataProbe(endpoint: "http://169.254.169.254", instanceID: .value("i-1"), neededFor: ["the instance id"])
        facts.clockSkew = .value(0.3)
        facts.instanceID = .value("i-1")
        facts.node = .value(eni("eni-1", this, instance: "i-1"))
        facts.vpc = .value(EC2VPC(id: "vpc-1", cidrBlocks: ["172.31.0.0/16"]))
        facts.subnets = .value([EC2Subnet(id: "subnet-a", vpcID: "vpc-1", cidrBlock: "172.31.16.0/20", availabilityZone: "eu-west-1a")])
        facts.peers = .value([eni("eni-2", peer, instance: "i-2", mac: "02:00:00:00:00:02")])
        facts.securityGroups = .value([group("sg-lb", ingress: [allFromLB])])
        facts.routeTables = .value([table()])
        facts.dryRuns = ["ReplaceRoute", "CreateRoute"].map {
            DryRunProbe(action: $0, table: "rtb-1", destination: "192.168.20.11/32", outcome: .allowed)
        }
        return facts
    }

    static func run(_ config: DoctorConfig, _ account: AccountFacts = account(), host: HostFacts = HostFacts()) -> [DoctorFinding] {
        Doctor.check(config, account: account, host: host)
    }
}

extension Array where Element == DoctorFinding {
    func with(_ status: DoctorFinding.Status, _ check: String? = nil) -> [DoctorFinding] {
        filter { $0.status == status && (check == nil || $0.check == check) }
    }

    var dump: String { map(\.description).joined(separator: "\n") }
}
