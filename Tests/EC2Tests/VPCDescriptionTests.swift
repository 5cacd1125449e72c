import Testing
@testable import EC2

/// Reading a VPC's description: moto's answers as captured from the lab (moto 5.2.1), and
/// the ways an answer can be wrong.
@Suite struct VPCDescriptionTests {
    static func tree(_ text: String) throws -> XMLTree { try XMLTree.parse(Array(text.utf8)) }

    /// What `body` threw, as `action: detail` for a malformed answer.
    static func failure<T>(_ body: () throws -> T) -> String? {
        do { _ = try body() } catch let error as EC2Failure {
            if case .malformed(let action, let detail) = error { return "\(action): \(detail)" }
            return "\(error)"
        } catch { return "\(error)" }
        return nil
    }

    static let interfaces = """
<?xml version="1.0" encoding="utf-8"?>
<DescribeNetworkInterfacesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><networkInterfaceSet><item><attachment><attachTime>2026-12-06T20:37:29.000Z</attachTime><attachmentId>eni-attach-c73c6222a849d9797</attachmentId><deleteOnTermination>false</deleteOnTermination><deviceIndex>0</deviceIndex><networkCardIndex>0</networkCardIndex><instanceId>i-c18cfbf7a59d7eb5e</instanceId><instanceOwnerId>123456789012</instanceOwnerId><status>attached</status></attachment><availabilityZone>eu-west-1a</availabilityZone><description>Primary network interface</description><groupSet><item><groupId>sg-abc55541f3a5af8db</groupId><groupName>lab-nodes</groupName></item></groupSet><interfaceType>interface</interfaceType><ipv6AddressesSet/><macAddress>02:00:00:f6:14:0a</macAddress><networkInterfaceId>eni-b4b8c6f200a439e2f</networkInterfaceId><ownerId>123456789012</ownerId><privateIpAddress>172.31.18.163</privateIpAddress><privateIpAddressesSet><item><primary>true</primary><privateIpAddress>172.31.18.163</privateIpAddress></item></privateIpAddressesSet><requesterId>AIDAIT2UOQQY3AUEMOTO</requesterId><requesterManaged>false</requesterManaged><sourceDestCheck>false</sourceDestCheck><status>in-use</status><subnetId>subnet-04b309554003b72e9</subnetId><tagSet/><vpcId>vpc-50da4fafc422e7d54</vpcId></item><item><attachment><attachTime>2026-12-06T20:37:29.000Z</attachTime><attachmentId>eni-attach-fba186539f5c73c24</attachmentId><deleteOnTermination>false</deleteOnTermination><deviceIndex>0</deviceIndex><networkCardIndex>0</networkCardIndex><instanceId>i-025e34323c241d47b</instanceId><instanceOwnerId>123456789012</instanceOwnerId><status>attached</status></attachment><availabilityZone>eu-west-1a</availabilityZone><description>Primary network interface</description><groupSet><item><groupId>sg-abc55541f3a5af8db</groupId><groupName>lab-nodes</groupName></item></groupSet><interfaceType>interface</interfaceType><ipv6AddressesSet/><macAddress>02:00:00:d4:a0:b5</macAddress><networkInterfaceId>eni-9b8c4246a048969b0</networkInterfaceId><ownerId>123456789012</ownerId><privateIpAddress>172.31.18.164</privateIpAddress><privateIpAddressesSet><item><primary>true</primary><privateIpAddress>172.31.18.164</privateIpAddress></item></privateIpAddressesSet><requesterId>AIDAIT2UOQQY3AUEMOTO</requesterId><requesterManaged>false</requesterManaged><sourceDestCheck>false</sourceDestCheck><status>in-use</status><subnetId>subnet-04b309554003b72e9</subnetId><tagSet/><vpcId>vpc-50da4fafc422e7d54</vpcId></item><item><attachment><attachTime>2026-12-06T20:37:29.000Z</attachTime><attachmentId>eni-attach-3b1062c9d69196b85</attachmentId><deleteOnTermination>false</deleteOnTermination><deviceIndex>0</deviceIndex><networkCardIndex>0</networkCardIndex><instanceId>i-8b2ef31932bb9633b</instanceId><instanceOwnerId>123456789012</instanceOwnerId><status>attached</status></attachment><availabilityZone>eu-west-1a</availabilityZone><description>Primary network interface</description><groupSet><item><groupId>sg-abc55541f3a5af8db</groupId><groupName>lab-nodes</groupName></item></groupSet><interfaceType>interface</interfaceType><ipv6AddressesSet/><macAddress>02:00:00:dd:f7:01</macAddress><networkInterfaceId>eni-2e3416c72fd13bf22</networkInterfaceId><ownerId>123456789012</ownerId><privateIpAddress>172.31.18.165</privateIpAddress><privateIpAddressesSet><item><primary>true</primary><privateIpAddress>172.31.18.165</privateIpAddress></item></privateIpAddressesSet><requesterId>AIDAIT2UOQQY3AUEMOTO</requesterId><requesterManaged>false</requesterManaged><sourceDestCheck>true</sourceDestCheck><status>in-use</status><subnetId>subnet-04b309554003b72e9</subnetId><tagSet/><vpcId>vpc-50da4fafc422e7d54</vpcId></item></networkInterfaceSet><requestId>request-id</requestId></DescribeNetworkInterfacesResponse>
"""

    static let groups = """
<?xml version="1.0" encoding="utf-8"?>
<DescribeSecurityGroupsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><securityGroupInfo><item><groupId>sg-3cf71fc600b39822c</groupId><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissionsEgress><tagSet/><vpcId>vpc-50da4fafc422e7d54</vpcId><securityGroupArn>arn:aws:ec2:eu-west-1:123456789012:security-group/sg-3cf71fc600b39822c</securityGroupArn><ownerId>123456789012</ownerId><groupName>default</groupName><groupDescription>default VPC security group</groupDescription><ipPermissions/></item><item><groupId>sg-abc55541f3a5af8db</groupId><ipPermissionsEgress><item><ipProtocol>-1</ipProtocol><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissionsEgress><tagSet/><vpcId>vpc-50da4fafc422e7d54</vpcId><securityGroupArn>arn:aws:ec2:eu-west-1:123456789012:security-group/sg-abc55541f3a5af8db</securityGroupArn><ownerId>123456789012</ownerId><groupName>lab-nodes</groupName><groupDescription>the lab's nodes: everything from each other</groupDescription><ipPermissions><item><ipProtocol>-1</ipProtocol><groups><item><userId>123456789012</userId><groupId>sg-abc55541f3a5af8db</groupId></item></groups><ipRanges/><ipv6Ranges/><prefixListIds/></item><item><ipProtocol>112</ipProtocol><fromPort>-1</fromPort><toPort>-1</toPort><groups/><ipRanges><item><cidrIp>172.31.0.0/16</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item><item><ipProtocol>tcp</ipProtocol><fromPort>80</fromPort><toPort>80</toPort><groups/><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><prefixListIds/></item></ipPermissions></item></securityGroupInfo><requestId>request-id</requestId></DescribeSecurityGroupsResponse>
"""

    static let subnets = """
<?xml version="1.0" encoding="utf-8"?>
<DescribeSubnetsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><subnetSet><item><availabilityZoneId>euw1-az3</availabilityZoneId><ownerId>123456789012</ownerId><assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation><ipv6CidrBlockAssociationSet/><tagSet/><subnetArn>arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-04b309554003b72e9</subnetArn><ipv6Native>false</ipv6Native><privateDnsNameOptionsOnLaunch><hostnameType>ip-name</hostnameType><enableResourceNameDnsARecord>false</enableResourceNameDnsARecord><enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord></privateDnsNameOptionsOnLaunch><subnetId>subnet-04b309554003b72e9</subnetId><state>available</state><vpcId>vpc-50da4fafc422e7d54</vpcId><cidrBlock>172.31.16.0/20</cidrBlock><availableIpAddressCount>4088</availableIpAddressCount><availabilityZone>eu-west-1a</availabilityZone><defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>false</mapPublicIpOnLaunch></item><item><availabilityZoneId>euw1-az1</availabilityZoneId><ownerId>123456789012</ownerId><assignIpv6AddressOnCreation>false</assignIpv6AddressOnCreation><ipv6CidrBlockAssociationSet/><tagSet/><subnetArn>arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-c9da98d66a5b55c7e</subnetArn><ipv6Native>false</ipv6Native><privateDnsNameOptionsOnLaunch><hostnameType>ip-name</hostnameType><enableResourceNameDnsARecord>false</enableResourceNameDnsARecord><enableResourceNameDnsAAAARecord>false</enableResourceNameDnsAAAARecord></privateDnsNameOptionsOnLaunch><subnetId>subnet-c9da98d66a5b55c7e</subnetId><state>available</state><vpcId>vpc-50da4fafc422e7d54</vpcId><cidrBlock>172.31.0.0/20</cidrBlock><availableIpAddressCount>4091</availableIpAddressCount><availabilityZone>eu-west-1b</availabilityZone><defaultForAz>false</defaultForAz><mapPublicIpOnLaunch>false</mapPublicIpOnLaunch></item></subnetSet><requestId>request-id</requestId></DescribeSubnetsResponse>
"""

    static let vpcs = """
<?xml version="1.0" encoding="utf-8"?>
<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><vpcSet><item><ownerId>123456789012</ownerId><instanceTenancy>default</instanceTenancy><ipv6CidrBlockAssociationSet/><cidrBlockAssociationSet><item><associationId>vpc-cidr-assoc-1fcad023caedbbcc4</associationId><cidrBlock>172.31.0.0/16</cidrBlock><cidrBlockState><state>associated</state></cidrBlockState></item></cidrBlockAssociationSet><isDefault>false</isDefault><tagSet/><vpcId>vpc-50da4fafc422e7d54</vpcId><state>available</state><cidrBlock>172.31.0.0/16</cidrBlock><dhcpOptionsId>default</dhcpOptionsId></item></vpcSet><requestId>request-id</requestId></DescribeVpcsResponse>
"""

    static let routeTables = """
<?xml version="1.0" encoding="utf-8"?>
<DescribeRouteTablesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15"><routeTableSet><item><associationSet><item><main>true</main><routeTableAssociationId>rtbassoc-f271ca0142f5b7d0d</routeTableAssociationId><routeTableId>rtb-8e3a22e5f5e5cbf4a</routeTableId><associationState><state>associated</state></associationState></item></associationSet><routeTableId>rtb-8e3a22e5f5e5cbf4a</routeTableId><routeSet><item><destinationCidrBlock>172.31.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><origin>CreateRouteTable</origin><state>active</state></item></routeSet><tagSet/><vpcId>vpc-50da4fafc422e7d54</vpcId><ownerId>123456789012</ownerId></item><item><associationSet><item><main>false</main><routeTableAssociationId>rtbassoc-98a42fbc800a4f68b</routeTableAssociationId><routeTableId>rtb-a0e37500e856fc268</routeTableId><subnetId>subnet-04b309554003b72e9</subnetId><associationState><state>associated</state></associationState></item><item><main>false</main><routeTableAssociationId>rtbassoc-da94b9220595370b3</routeTableAssociationId><routeTableId>rtb-a0e37500e856fc268</routeTableId><subnetId>subnet-c9da98d66a5b55c7e</subnetId><associationState><state>associated</state></associationState></item></associationSet><routeTableId>rtb-a0e37500e856fc268</routeTableId><routeSet><item><destinationCidrBlock>172.31.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><origin>CreateRouteTable</origin><state>active</state></item><item><destinationCidrBlock>192.168.20.11/32</destinationCidrBlock><instanceId>i-8b2ef31932bb9633b</instanceId><origin>CreateRoute</origin><state>active</state></item></routeSet><tagSet/><vpcId>vpc-50da4fafc422e7d54</vpcId><ownerId>123456789012</ownerId></item><item><associationSet/><routeTableId>rtb-300953d468a934fd2</routeTableId><routeSet><item><destinationCidrBlock>172.31.0.0/16</destinationCidrBlock><gatewayId>local</gatewayId><origin>CreateRouteTable</origin><state>active</state></item></routeSet><tagSet/><vpcId>vpc-50da4fafc422e7d54</vpcId><ownerId>123456789012</ownerId></item></routeTableSet><requestId>request-id</requestId></DescribeRouteTablesResponse>
"""

    @Test func networkInterfacesAsMotoAnswers() throws {
        let enis = try EC2Response.networkInterfaces(try Self.tree(Self.interfaces))
        #expect(enis.count == 3)
        let lb = try #require(enis.first { $0.privateAddresses == ["172.31.18.163"] })
        #expect(lb.macAddress.count == 17 && lb.macAddress == lb.macAddress.lowercased())
        #expect(lb.sourceDestCheck == false, "launched with the check off (instance and ENI, as vpc_lab.py sets both)")
        #expect(lb.instanceID?.hasPrefix("i-") == true && lb.deviceIndex == 0)
        #expect(lb.securityGroups.count == 1 && lb.subnetID.hasPrefix("subnet-") && lb.vpcID.hasPrefix("vpc-"))
        #expect(enis.contains { $0.sourceDestCheck })
    }

    @Test func securityGroupsWithProtocolsPortsCIDRsAndGroups() throws {
        let groups = try EC2Response.securityGroups(try Self.tree(Self.groups))
        let lab = try #require(groups.first { $0.name == "lab-nodes" })
        #expect(lab.ingress.count == 3)
        #expect(lab.ingress[0].ipProtocol == "-1" && lab.ingress[0].groups == [lab.id] && lab.ingress[0].protocolNumber == nil)
        #expect(lab.ingress[1].protocolNumber == 112 && lab.ingress[1].cidrBlocks == ["172.31.0.0/16"])
        #expect(lab.ingress[2].protocolNumber == 6 && lab.ingress[2].fromPort == 80 && lab.ingress[2].toPort == 80)
        #expect(lab.egress == [EC2Permission(ipProtocol: "-1", cidrBlocks: ["0.0.0.0/0"])])
        #expect(lab.ingress[2].allows(protocol: 6, port: 80) && !lab.ingress[2].allows(protocol: 6, port: 81))
        #expect(!lab.ingress[1].allows(protocol: 47) && lab.ingress[0].allows(protocol: 47))
        #expect(groups.first { $0.name == "default" }?.ingress.isEmpty == true)
    }

    @Test func subnetsVPCsAndRouteTableAssociations() throws {
        let subnets = try EC2Response.subnets(try Self.tree(Self.subnets))
        #expect(subnets.map(\.cidrBlock) == ["172.31.16.0/20", "172.31.0.0/20"])
        #expect(subnets.map(\.availabilityZone) == ["eu-west-1a", "eu-west-1b"])
        let vpcs = try EC2Response.vpcs(try Self.tree(Self.vpcs))
        #expect(vpcs.count == 1 && vpcs[0].cidrBlocks == ["172.31.0.0/16"])
        let tables = try EC2Response.routeTables(try Self.tree(Self.routeTables))
        #expect(tables.count == 3)
        #expect(tables[0].associations == [EC2RouteTableAssociation(subnetID: nil, main: true)])
        #expect(tables[1].associations.count == 2 && tables[1].associations.allSatisfy { $0.subnetID != nil && !$0.main })
        #expect(tables[1].route(to: "192.168.20.11/32")?.instanceID?.hasPrefix("i-") == true)
        #expect(tables.allSatisfy { $0.vpcID == vpcs[0].id })
    }

    @Test func whatAnAnswerLacksIsNamed() throws {
        #expect(Self.failure {
            try EC2Response.networkInterfaces(try Self.tree("<Foo/>"))
        } == "DescribeNetworkInterfaces: no <networkInterfaceSet> in <Foo>")
        let noMAC = "<R><networkInterfaceSet><item><networkInterfaceId>eni-1</networkInterfaceId><subnetId>s</subnetId><vpcId>v</vpcId></item></networkInterfaceSet></R>"
        #expect(Self.failure {
            try EC2Response.networkInterfaces(try Self.tree(noMAC))
        } == "DescribeNetworkInterfaces: an item without <macAddress>")
        let badCheck = "<R><networkInterfaceSet><item><networkInterfaceId>eni-1</networkInterfaceId><subnetId>s</subnetId><vpcId>v</vpcId><macAddress>02:00:00:00:00:01</macAddress><sourceDestCheck>maybe</sourceDestCheck></item></networkInterfaceSet></R>"
        #expect(Self.failure {
            try EC2Response.networkInterfaces(try Self.tree(badCheck))
        } == "DescribeNetworkInterfaces: <sourceDestCheck> is 'maybe', not true or false")
        #expect(Self.failure {
            try EC2Response.securityGroups(try Self.tree("<R><securityGroupInfo><item><groupId>sg-1</groupId><ipPermissions><item/></ipPermissions></item></securityGroupInfo></R>"))
        } == "DescribeSecurityGroups: an item without <ipProtocol>")
        #expect(try EC2Response.subnets(try Self.tree("<R><subnetSet/></R>")).isEmpty)
    }

    @Test func filtersAreNumberedAsTheQueryAPIWantsThem() {
        let request = EC2Request.describe("DescribeNetworkInterfaces", filters: [(name: "vpc-id", values: ["vpc-1"]),
                                                                                (name: "addresses.private-ip-address", values: ["a", "b"])])
        #expect(request.formBody == "Action=DescribeNetworkInterfaces&Version=2016-11-15&Filter.1.Name=vpc-id&Filter.1.Value.1=vpc-1"
                + "&Filter.2.Name=addresses.private-ip-address&Filter.2.Value.1=a&Filter.2.Value.2=b")
    }
}
