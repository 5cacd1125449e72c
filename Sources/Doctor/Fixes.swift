import EC2

/// The commands a WARN or FAIL line tells the user to run, written out in full with the
/// ids the checks found, so they can be pasted as they are. Arguments that hold shell
/// metacharacters (`[`, `{`, `"`) are single-quoted.
enum Fix {
    static func sourceDestCheck(_ eni: EC2NetworkInterface) -> String {
        if let instance = eni.instanceID, (eni.deviceIndex ?? 0) == 0 {
            return "aws ec2 modify-instance-attribute --instance-id \(instance) --no-source-dest-check"
        }
        return "aws ec2 modify-network-interface-attribute --network-interface-id \(eni.id) --no-source-dest-check"
    }

    /// An `--ip-permissions` value: protocol (with ports for TCP/UDP) from a group or a CIDR.
    static func permission(_ ipProtocol: Int, port: Int? = nil, group: String? = nil, cidr: String? = nil) -> String {
        var text = "IpProtocol=\(protocolName(ipProtocol))"
        if let port { text += ",FromPort=\(port),ToPort=\(port)" }
        if let group { text += ",UserIdGroupPairs=[{GroupId=\(group)}]" } else if let cidr { text += ",IpRanges=[{CidrIp=\(cidr)}]" }
        return "'\(text)'"
    }

    static func authorizeIngress(group: String, _ ipProtocol: Int, port: Int? = nil, fromGroup: String? = nil, cidr: String? = nil) -> String {
        "aws ec2 authorize-security-group-ingress --group-id \(group) --ip-permissions "
            + permission(ipProtocol, port: port, group: fromGroup, cidr: cidr)
    }

    static func authorizeEgress(group: String, _ ipProtocol: Int, toGroup: String? = nil, cidr: String? = nil) -> String {
        "aws ec2 authorize-security-group-egress --group-id \(group) --ip-permissions " + permission(ipProtocol, group: toGroup, cidr: cidr)
    }

    static func protocolName(_ number: Int) -> String {
        switch number {
        case 6: "tcp"
        case 17: "udp"
        default: "\(number)"
        }
    }

    /// The IAM statement that allows `actions`, as an inline role policy named `name`
    /// (distinct per fix: put-role-policy replaces a policy of the same name, so two fixes
    /// must not overwrite each other). The role's name comes from the credentials when they
    /// are an instance role's; otherwise it is left for the user.
    static func iamPolicy(_ name: String, actions: [String], resources: [String], credentials: String?) -> String {
        let role = credentials.flatMap(roleName) ?? "ROLE_OF_THIS_INSTANCE"
        let list = actions.map { "\"ec2:\($0)\"" }.joined(separator: ",")
        let resource = resources.count == 1 ? "\"\(resources[0])\"" : "[" + resources.map { "\"\($0)\"" }.joined(separator: ",") + "]"
        return "aws iam put-role-policy --role-name \(role) --policy-name \(name) --policy-document "
            + "'{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":[\(list)],\"Resource\":\(resource)}]}'"
    }

    /// The role in a credentials description ("credentials ****ABCD from instance role NAME ...").
    static func roleName(_ credentials: String) -> String? {
        guard let range = credentials.range(of: "instance role ") else { return nil }
        return credentials[range.upperBound...].split(separator: " ").first.map(String.init)
    }

    /// A route table's ARN (any account: the policy is attached in the account itself).
    static func routeTableARN(_ table: String, region: String?) -> String {
        "arn:aws:ec2:\(region ?? "*"):*:route-table/\(table)"
    }

    static func metadataOptions(instance: String?) -> String {
        "aws ec2 modify-instance-metadata-options --instance-id \(instance ?? "INSTANCE_ID") --http-endpoint enabled "
            + "--http-put-response-hop-limit 2 --http-tokens required"
    }

    static func listAddresses(vpc: String) -> String {
        "aws ec2 describe-network-interfaces --filters Name=vpc-id,Values=\(vpc) "
            + "--query 'NetworkInterfaces[].[NetworkInterfaceId,PrivateIpAddress,Attachment.InstanceId]' --output text"
    }

    static func listRouteTables(vpc: String?) -> String {
        "aws ec2 describe-route-tables" + (vpc.map { " --filters Name=vpc-id,Values=\($0)" } ?? "")
            + " --query 'RouteTables[].[RouteTableId,VpcId]' --output text"
    }
}
