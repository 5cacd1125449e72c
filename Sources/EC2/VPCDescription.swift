/// What DescribeVpcs, DescribeSubnets, DescribeNetworkInterfaces and DescribeSecurityGroups
/// say about a VPC: the facts that decide whether VRRP, the VIP and DR work there (which
/// addresses each ENI owns, its source/destination check, its security groups, the
/// subnets' zones). The lab's VPC fabric enforces them; `overcast doctor` checks them.

public struct EC2VPC: Sendable, Hashable {
    public var id: String
    /// Every associated IPv4 CIDR block (the primary first).
    public var cidrBlocks: [String]

    public init(id: String, cidrBlocks: [String]) {
        self.id = id
        self.cidrBlocks = cidrBlocks
    }
}

public struct EC2Subnet: Sendable, Hashable {
    public var id: String
    public var vpcID: String
    public var cidrBlock: String
    public var availabilityZone: String

    public init(id: String, vpcID: String, cidrBlock: String, availabilityZone: String) {
        self.id = id
        self.vpcID = vpcID
        self.cidrBlock = cidrBlock
        self.availabilityZone = availabilityZone
    }
}

public struct EC2NetworkInterface: Sendable, Hashable {
    public var id: String
    public var subnetID: String
    public var vpcID: String
    public var macAddress: String
    /// Every private IPv4 address, the primary first.
    public var privateAddresses: [String]
    public var sourceDestCheck: Bool
    public var securityGroups: [String]
    /// The instance it is attached to, and at which device index (0: the primary ENI).
    public var instanceID: String?
    public var deviceIndex: Int?

    public init(id: String, subnetID: String, vpcID: String, macAddress: String, privateAddresses: [String], sourceDestCheck: Bool,
                securityGroups: [String], instanceID: String? = nil, deviceIndex: Int? = nil) {
        self.id = id
        self.subnetID = subnetID
        self.vpcID = vpcID
        self.macAddress = macAddress
        self.privateAddresses = privateAddresses
        self.sourceDestCheck = sourceDestCheck
        self.securityGroups = securityGroups
        self.instanceID = instanceID
        self.deviceIndex = deviceIndex
    }
}

/// One rule of a security group: a protocol (`-1` all, `tcp`, `udp`, `icmp` or a number
/// such as `112` for VRRP, `47` for GRE), a port range for TCP/UDP, and where from (or to,
/// for egress): CIDR blocks and other groups.
public struct EC2Permission: Sendable, Hashable {
    public var ipProtocol: String
    public var fromPort: Int?
    public var toPort: Int?
    public var cidrBlocks: [String]
    public var groups: [String]

    public init(ipProtocol: String, fromPort: Int? = nil, toPort: Int? = nil, cidrBlocks: [String] = [], groups: [String] = []) {
        self.ipProtocol = ipProtocol
        self.fromPort = fromPort
        self.toPort = toPort
        self.cidrBlocks = cidrBlocks
        self.groups = groups
    }

    /// The IANA protocol number this rule matches, nil for all (`-1`). EC2 names TCP, UDP
    /// and ICMP and numbers the rest.
    public var protocolNumber: Int? {
        switch ipProtocol.lowercased() {
        case "-1", "all": nil
        case "tcp": 6
        case "udp": 17
        case "icmp": 1
        case "icmpv6": 58
        default: Int(ipProtocol)
        }
    }

    /// Whether the rule lets protocol `number` through (to `port`, for TCP and UDP).
    public func allows(protocol number: Int, port: Int? = nil) -> Bool {
        guard let own = protocolNumber else { return true }
        guard own == number else { return false }
        guard number == 6 || number == 17, let port, let fromPort, let toPort, fromPort >= 0 else { return true }
        return (fromPort...max(fromPort, toPort)).contains(port)
    }
}

public struct EC2SecurityGroup: Sendable, Hashable {
    public var id: String
    public var name: String
    public var vpcID: String?
    public var ingress: [EC2Permission]
    public var egress: [EC2Permission]

    public init(id: String, name: String, vpcID: String?, ingress: [EC2Permission], egress: [EC2Permission]) {
        self.id = id
        self.name = name
        self.vpcID = vpcID
        self.ingress = ingress
        self.egress = egress
    }
}

/// Which subnets a route table serves (or the VPC's main table).
public struct EC2RouteTableAssociation: Sendable, Hashable {
    public var subnetID: String?
    public var main: Bool

    public init(subnetID: String?, main: Bool) {
        self.subnetID = subnetID
        self.main = main
    }
}

extension EC2Response {
    public static func vpcs(_ tree: XMLTree) throws(EC2Failure) -> [EC2VPC] {
        try set(tree, "vpcSet", action: "DescribeVpcs").map { (item) throws(EC2Failure) -> EC2VPC in
            let id = try required(item, "vpcId", action: "DescribeVpcs")
            let associated = item.items("cidrBlockAssociationSet").filter {
                ($0.child("cidrBlockState")?.value("state") ?? "associated") == "associated"
            }.compactMap { $0.value("cidrBlock") }
            let primary = item.value("cidrBlock").map { [$0] } ?? []
            return EC2VPC(id: id, cidrBlocks: primary + associated.filter { !primary.contains($0) })
        }
    }

    public static func subnets(_ tree: XMLTree) throws(EC2Failure) -> [EC2Subnet] {
        try set(tree, "subnetSet", action: "DescribeSubnets").map { (item) throws(EC2Failure) -> EC2Subnet in
            EC2Subnet(id: try required(item, "subnetId", action: "DescribeSubnets"),
                      vpcID: try required(item, "vpcId", action: "DescribeSubnets"),
                      cidrBlock: try required(item, "cidrBlock", action: "DescribeSubnets"),
                      availabilityZone: item.value("availabilityZone") ?? "")
        }
    }

    public static func networkInterfaces(_ tree: XMLTree) throws(EC2Failure) -> [EC2NetworkInterface] {
        let action = "DescribeNetworkInterfaces"
        return try set(tree, "networkInterfaceSet", action: action).map { (item) throws(EC2Failure) -> EC2NetworkInterface in
            let id = try required(item, "networkInterfaceId", action: action)
            var addresses = item.items("privateIpAddressesSet").sorted { ($0.value("primary") == "true") && !($1.value("primary") == "true") }
                .compactMap { $0.value("privateIpAddress") }
            if let primary = item.value("privateIpAddress"), !addresses.contains(primary) { addresses.insert(primary, at: 0) }
            let attachment = item.child("attachment")
            return EC2NetworkInterface(
                id: id, subnetID: try required(item, "subnetId", action: action), vpcID: try required(item, "vpcId", action: action),
                macAddress: try required(item, "macAddress", action: action).lowercased(), privateAddresses: addresses,
                sourceDestCheck: try boolean(item, "sourceDestCheck", action: action, default: true),
                securityGroups: item.items("groupSet").compactMap { $0.value("groupId") },
                instanceID: attachment?.value("instanceId"), deviceIndex: attachment?.value("deviceIndex").flatMap { Int($0) })
        }
    }

    public static func securityGroups(_ tree: XMLTree) throws(EC2Failure) -> [EC2SecurityGroup] {
        let action = "DescribeSecurityGroups"
        return try set(tree, "securityGroupInfo", action: action).map { (item) throws(EC2Failure) -> EC2SecurityGroup in
            func permissions(_ name: String) throws(EC2Failure) -> [EC2Permission] {
                try item.items(name).map { (rule) throws(EC2Failure) -> EC2Permission in
                    EC2Permission(ipProtocol: try required(rule, "ipProtocol", action: action),
                                  fromPort: rule.value("fromPort").flatMap { Int($0) }, toPort: rule.value("toPort").flatMap { Int($0) },
                                  cidrBlocks: rule.items("ipRanges").compactMap { $0.value("cidrIp") },
                                  groups: rule.items("groups").compactMap { $0.value("groupId") })
                }
            }
            return EC2SecurityGroup(id: try required(item, "groupId", action: action), name: item.value("groupName") ?? "",
                                    vpcID: item.value("vpcId"), ingress: try permissions("ipPermissions"),
                                    egress: try permissions("ipPermissionsEgress"))
        }
    }

    /// The `item`s of the list `name`, which the answer must have (it may be empty).
    static func set(_ tree: XMLTree, _ name: String, action: String) throws(EC2Failure) -> [XMLTree] {
        guard tree.child(name) != nil else { throw .malformed(action: action, detail: "no <\(name)> in <\(tree.name)>") }
        return tree.items(name)
    }

    static func required(_ item: XMLTree, _ name: String, action: String) throws(EC2Failure) -> String {
        guard let value = item.value(name) else { throw .malformed(action: action, detail: "an item without <\(name)>") }
        return value
    }

    static func boolean(_ item: XMLTree, _ name: String, action: String, default fallback: Bool) throws(EC2Failure) -> Bool {
        switch item.value(name) {
        case nil: return fallback
        case "true": return true
        case "false": return false
        case let other?: throw .malformed(action: action, detail: "<\(name)> is '\(other)', not true or false")
        }
    }
}
