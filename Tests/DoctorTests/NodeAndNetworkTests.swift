@testable import Doctor
@testable import EC2
import Testing

/// This instance, its peers, source/dest check and security groups on hand-built facts.
@Suite struct NodeAndNetworkTests {
    @Test func aHealthySetupPassesEveryCheck() throws {
        let findings = Fixture.run(try Fixture.config())
        #expect(findings.with(.fail).isEmpty && findings.with(.warn).isEmpty, "\(findings.dump)")
        #expect(findings.exitStatus == 0)
        for check in ["region", "imds", "credentials", "clock", "instance", "peer", "source-dest-check", "security-group",
                      "route-table", "vip", "iam"] {
            #expect(!findings.with(.pass, check).isEmpty, "no PASS for \(check):\n\(findings.dump)")
        }
        #expect(findings.with(.pass, "route-table").first?.detail.contains("192.168.20.11/32 -> i-1 (this node") == true, "\(findings.dump)")
    }

    @Test func theSourceDestCheckOnAnyVIPHolderFailsWithTheCommandThatTurnsItOff() throws {
        var account = Fixture.account()
        account.node = .value(Fixture.eni("eni-1", Fixture.this, instance: "i-1", sourceDestCheck: true))
        account.peers = .value([Fixture.eni("eni-2", Fixture.peer, instance: "i-2", sourceDestCheck: true)])
        let failed = Fixture.run(try Fixture.config(), account).with(.fail, "source-dest-check")
        #expect(failed.count == 2)
        #expect(failed.contains { $0.detail.contains("i-1") && $0.fix == "aws ec2 modify-instance-attribute --instance-id i-1 --no-source-dest-check" })
        #expect(failed.contains { $0.detail.contains("i-2") && $0.fix == "aws ec2 modify-instance-attribute --instance-id i-2 --no-source-dest-check" })
        #expect(Fixture.run(try Fixture.config(), account).exitStatus == 1)

        // A secondary ENI (device 1) is fixed on the interface, not the instance.
        var secondary = Fixture.eni("eni-9", Fixture.this, instance: "i-1", sourceDestCheck: true)
        secondary.deviceIndex = 1
        #expect(Fix.sourceDestCheck(secondary) == "aws ec2 modify-network-interface-attribute --network-interface-id eni-9 --no-source-dest-check")
    }

    @Test func aPeerAddressThatNoENIHasFailsNamingTheAddress() throws {
        let findings = Fixture.run(try Fixture.config(peers: [Fixture.peer, "172.31.18.99"]))
        let failed = findings.with(.fail, "peer")
        #expect(failed.count == 1 && failed[0].detail.contains("172.31.18.99"), "\(findings.dump)")
        #expect(failed[0].fix?.contains("describe-network-interfaces --filters Name=vpc-id,Values=vpc-1") == true)
        #expect(findings.with(.pass, "peer").first?.detail.contains("eni-2") == true)
    }

    @Test func aSourceAddressThatIsNotThisNodesFails() throws {
        var account = Fixture.account()
        account.node = .value(Fixture.eni("eni-1", "172.31.18.170", instance: "i-1"))
        let failed = Fixture.run(try Fixture.config(), account).with(.fail, "instance")
        #expect(failed.count == 1 && failed[0].detail.contains("unicast_src_ip 172.31.18.163"))
    }

    @Test func aGroupWithoutVRRPFailsBothWaysWithTheRuleToAdd() throws {
        var account = Fixture.account()
        account.node = .value(Fixture.eni("eni-1", Fixture.this, instance: "i-1", groups: ["sg-a"]))
        account.peers = .value([Fixture.eni("eni-2", Fixture.peer, instance: "i-2", groups: ["sg-b"])])
        let ssh = EC2Permission(ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["172.31.0.0/16"])
        account.securityGroups = .value([Fixture.group("sg-a", ingress: [ssh]), Fixture.group("sg-b", ingress: [ssh])])
        let findings = Fixture.run(try Fixture.config(), account)
        let failed = findings.with(.fail, "security-group")
        #expect(failed.count == 2, "\(findings.dump)")
        #expect(failed.contains { $0.detail.contains("172.31.18.163 -> 172.31.18.164") && $0.detail.contains("sg-b")
            && $0.fix == "aws ec2 authorize-security-group-ingress --group-id sg-b --ip-permissions 'IpProtocol=112,UserIdGroupPairs=[{GroupId=sg-a}]'" })
        #expect(failed.contains { $0.detail.contains("172.31.18.164 -> 172.31.18.163")
            && $0.fix == "aws ec2 authorize-security-group-ingress --group-id sg-a --ip-permissions 'IpProtocol=112,UserIdGroupPairs=[{GroupId=sg-b}]'" })
        #expect(findings.with(.pass, "security-group").isEmpty)
    }

    @Test func rulesMatchByProtocolAndByCIDROrGroup() throws {
        let config = try Fixture.config()
        for rule in [EC2Permission(ipProtocol: "112", cidrBlocks: ["172.31.16.0/20"]), EC2Permission(ipProtocol: "-1", cidrBlocks: ["0.0.0.0/0"]),
                     EC2Permission(ipProtocol: "112", groups: ["sg-lb"])] {
            var account = Fixture.account()
            account.securityGroups = .value([Fixture.group("sg-lb", ingress: [rule])])
            #expect(Fixture.run(config, account).with(.fail).isEmpty, "\(rule)")
        }
        for rule in [EC2Permission(ipProtocol: "47", groups: ["sg-lb"]), EC2Permission(ipProtocol: "112", cidrBlocks: ["10.0.0.0/8"]),
                     EC2Permission(ipProtocol: "112", groups: ["sg-other"])] {
            var account = Fixture.account()
            account.securityGroups = .value([Fixture.group("sg-lb", ingress: [rule])])
            #expect(Fixture.run(config, account).with(.fail, "security-group").count == 2, "\(rule)")
        }
    }

    @Test func aRestrictedOutboundRuleFails() throws {
        var account = Fixture.account()
        account.securityGroups = .value([Fixture.group("sg-lb", ingress: [Fixture.allFromLB],
                                                       egress: [EC2Permission(ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"])])])
        let failed = Fixture.run(try Fixture.config(), account).with(.fail, "security-group")
        #expect(failed.count == 2 && failed.allSatisfy { $0.detail.contains("outbound") && $0.fix?.contains("authorize-security-group-egress") == true })
    }

    @Test func theOverlayNeedsGRE() throws {
        let overlay = """
            overlay ovc0 {
              local 172.31.18.163
              address 10.200.0.1/24
              peers {
                172.31.18.164
              }
            }
            """
        let config = try Fixture.config(extra: overlay)
        #expect(config.usesGRE)
        var account = Fixture.account()
        account.securityGroups = .value([Fixture.group("sg-lb", ingress: [EC2Permission(ipProtocol: "112", groups: ["sg-lb"])])])
        let failed = Fixture.run(config, account).with(.fail, "security-group")
        #expect(failed.count == 2 && failed.allSatisfy { $0.detail.contains("GRE (IP protocol 47)") && $0.fix?.contains("IpProtocol=47,") == true })
        account.securityGroups = .value([Fixture.group("sg-lb", ingress: [EC2Permission(ipProtocol: "112", groups: ["sg-lb"]),
                                                                          EC2Permission(ipProtocol: "47", groups: ["sg-lb"])])])
        #expect(Fixture.run(config, account).with(.fail, "security-group").isEmpty)
    }

    @Test func multicastVRRPFailsInAVPC() throws {
        let config = try Fixture.config(peers: [])
        let failed = Fixture.run(config).with(.fail, "transport")
        #expect(failed.count == 1 && failed[0].detail.contains("224.0.0.18"))
    }

    @Test func replicateInL2ModeWarnsAndL3DoesNot() throws {
        let l2 = Fixture.run(try Fixture.config(instanceExtra: "transport replicate")).with(.warn, "transport")
        #expect(l2.count == 1 && l2[0].detail.contains("224.0.0.18") && l2[0].fix?.contains("replicate_mode l3") == true)
        #expect(Fixture.run(try Fixture.config(instanceExtra: "transport replicate\n  replicate_mode l3")).with(.warn, "transport").isEmpty)
        #expect(Fixture.run(try Fixture.config()).with(.warn, "transport").isEmpty)
    }

    @Test func aVirtualServerPortThatNoRuleAllowsWarns() throws {
        let server = """
            virtual_server 192.168.20.11 80 {
              lb_kind DR
              protocol TCP
              real_server 172.31.8.1 80 {
              }
            }
            """
        let config = try Fixture.config(extra: server)
        #expect(config.services.map(\.port) == [80])
        let vrrp = EC2Permission(ipProtocol: "112", groups: ["sg-lb"])
        var closed = Fixture.account()
        closed.securityGroups = .value([Fixture.group("sg-lb", ingress: [vrrp])])
        let warned = Fixture.run(config, closed).with(.warn, "service-port")
        #expect(warned.count == 1 && warned[0].fix == "aws ec2 authorize-security-group-ingress --group-id sg-lb --ip-permissions "
            + "'IpProtocol=tcp,FromPort=80,ToPort=80,IpRanges=[{CidrIp=172.31.0.0/16}]'", "\(warned)")
        var account = Fixture.account()
        account.securityGroups = .value([Fixture.group("sg-lb", ingress: [vrrp,
            EC2Permission(ipProtocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"])])])
        #expect(Fixture.run(config, account).with(.pass, "service-port").count == 1)
    }

    @Test func thisNodesENIIsChosenByMACThenAddressThenDeviceIndex() throws {
        let config = try Fixture.config()
        var primary = Fixture.eni("eni-p", "172.31.18.10", instance: "i-1", mac: "02:00:00:00:00:0a")
        primary.deviceIndex = 0
        var second = Fixture.eni("eni-s", Fixture.this, instance: "i-1", mac: "02:00:00:00:00:0b")
        second.deviceIndex = 1
        var host = HostFacts()
        host.macAddresses = ["eth0": "02:00:00:00:00:0b"]
        #expect(AccountGatherer.choose([primary, second], id: nil, config: config, host: host)?.id == "eni-s")
        #expect(AccountGatherer.choose([primary, second], id: nil, config: config, host: HostFacts())?.id == "eni-s")
        #expect(AccountGatherer.choose([primary], id: nil, config: config, host: HostFacts())?.id == "eni-p")
        #expect(AccountGatherer.choose([primary, second], id: "eni-p", config: config, host: host)?.id == "eni-p")
        #expect(AccountGatherer.choose([], id: nil, config: config, host: host) == nil)
    }
}
