import EC2
import NetworkTypes
import VRRP

/// The route tables that carry each VIP to the MASTER, and the VIPs themselves. A VPC
/// has no ARP for a floating address: only a `VIP/32` route targeting the MASTER's
/// instance or ENI brings traffic, and such a route cannot target an address inside the
/// VPC's own CIDR (the article's rule), so the VIP must lie outside every block.
extension Checkup {
    mutating func checkRoutes() {
        for instance in config.instances where !instance.vips.isEmpty && instance.routeFailover == nil {
            add(.warn("route-table", "vrrp_instance \(instance.name) has no ec2_route_failover: in a VPC its VIPs "
                      + "(\(instance.vips.joined(separator: ", "))) reach the MASTER only through a route table entry that follows it",
                      fix: "add ec2_route_failover { route_table rtb-... } to vrrp_instance \(instance.name)"))
        }
        checkVIPPlacement()
        guard !config.routeTables.isEmpty, let this = account.node.value, let tables = need(account.routeTables) else { return }
        for id in config.routeTables {
            guard let table = tables.first(where: { $0.id == id }) else {
                add(.fail("route-table", "route table \(id) does not exist (or these credentials cannot see it)",
                          fix: Fix.listRouteTables(vpc: this.vpcID)))
                continue
            }
            guard table.vpcID == nil || table.vpcID == this.vpcID else {
                add(.fail("route-table", "route table \(id) is in \(table.vpcID ?? "?"), this instance in \(this.vpcID): "
                          + "its routes never carry this VPC's traffic", fix: Fix.listRouteTables(vpc: this.vpcID)))
                continue
            }
            if table.associations.isEmpty {
                add(.warn("route-table", "route table \(id) serves no subnet (no association, not the main table): "
                          + "no client uses its VIP routes",
                          fix: "aws ec2 associate-route-table --route-table-id \(id) --subnet-id SUBNET_OF_THE_CLIENTS"))
            }
            for instance in config.instances where instance.routeFailover?.routeTables.contains(id) == true {
                for vip in instance.vips { checkRoute(table, destination: "\(vip)/32", instance: instance) }
            }
        }
    }

    private mutating func checkRoute(_ table: EC2RouteTable, destination: String, instance: DoctorConfig.Instance) {
        guard let route = table.route(to: destination) else {
            add(.warn("route-table", "\(table.id): no route for \(destination) yet; the MASTER will create it"))
            return
        }
        let target = route.targetDescription
        let holder = nodes(this: nil, peers: instance.peers).first {
            (route.instanceID != nil && $0.eni.instanceID == route.instanceID) || $0.eni.id == route.networkInterfaceID
        }
        if route.state == "blackhole" {
            add(.warn("route-table", "\(table.id): \(destination) -> \(target) is a blackhole (its target is gone); "
                      + "the MASTER will replace it"))
        } else if let holder {
            add(.pass("route-table", "\(table.id): \(destination) -> \(target) (\(holder.label))"))
        } else {
            add(.warn("route-table", "\(table.id): \(destination) -> \(target), which is not a node of vrrp_instance \(instance.name); "
                      + "the MASTER will replace it"))
        }
    }

    private mutating func checkVIPPlacement() {
        guard config.instances.contains(where: { !$0.vips.isEmpty }), let vpc = need(account.vpc) else { return }
        let subnets = account.subnets.value ?? []
        for instance in config.instances {
            for vip in instance.vips {
                guard let address = IPv4Address(vip) else { continue }
                let blocks = vpc.cidrBlocks.filter { IPv4Network($0)?.contains(address) ?? false }
                let inSubnets = subnets.filter { IPv4Network($0.cidrBlock)?.contains(address) ?? false }
                if blocks.isEmpty && inSubnets.isEmpty {
                    add(.pass("vip", "VIP \(vip) (vrrp_instance \(instance.name)) lies outside \(vpc.id)'s CIDR blocks "
                              + "(\(vpc.cidrBlocks.joined(separator: ", ")))"))
                } else {
                    let subnet = inSubnets.map { " and subnet \($0.id) (\($0.cidrBlock))" }.joined()
                    add(.fail("vip", "VIP \(vip) (vrrp_instance \(instance.name)) lies inside \(vpc.id)'s "
                              + "\((blocks.isEmpty ? vpc.cidrBlocks : blocks).joined(separator: ", "))\(subnet): a VPC route cannot "
                              + "send an address of the VPC's own CIDR to an instance",
                              fix: "choose a VIP outside \(vpc.cidrBlocks.joined(separator: ", ")) (the article uses 192.168.20.11) in virtual_ipaddress"))
                }
            }
        }
    }
}
