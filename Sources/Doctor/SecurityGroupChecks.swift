import EC2
import NetworkTypes
import VRRP

/// Whether the security groups let each transport's packets between every pair of nodes,
/// both ways, and clients to each virtual server. A VPC checks the sender's outbound
/// rules and the receiver's inbound rules; VRRP advertisements are never replies, so
/// both nodes of a pair need both.
extension Checkup {
    mutating func checkTransport() {
        for instance in config.instances where instance.transport == .multicast {
            add(.fail("transport", "vrrp_instance \(instance.name) sends VRRP by multicast to 224.0.0.18, which a VPC drops: "
                      + "every node becomes MASTER", fix: "add unicast_src_ip and unicast_peer { ... } to vrrp_instance \(instance.name), or an overlay"))
        }
        for instance in config.instances where instance.transport == .replicate && instance.replicateMode == .l2 {
            add(.warn("transport", "vrrp_instance \(instance.name) replicates in l2 mode: its copies keep 224.0.0.18 as their destination, "
                      + "and a VPC that delivers by IP drops them (AWS does not document that it delivers them by MAC)",
                      fix: "add replicate_mode l3 to vrrp_instance \(instance.name) (every node)"))
        }
        guard let this = account.node.value, let groups = need(account.securityGroups) else { return }
        for instance in config.instances where instance.transport == .unicast || instance.transport == .replicate {
            checkPairs(nodes(this: sourceAddress(instance, this), peers: instance.peers), protocol: 112,
                       name: "VRRP (IP protocol 112)", owner: "vrrp_instance \(instance.name)", groups: groups)
        }
        for overlay in config.overlays {
            checkPairs(nodes(this: overlay.local, peers: overlay.peers), protocol: 47, name: "GRE (IP protocol 47)",
                       owner: "overlay \(overlay.name)", groups: groups)
        }
        if config.overlays.isEmpty {
            for instance in config.instances where instance.transport == .gre {
                checkPairs(nodes(this: sourceAddress(instance, this), peers: instance.peers), protocol: 47, name: "GRE (IP protocol 47)",
                           owner: "vrrp_instance \(instance.name)", groups: groups)
            }
        }
        checkServicePorts(groups)
    }

    /// The group of `groups` whose `rules` let `ipProtocol` (to `port`) from or to `peer`.
    static func allowing(_ groups: [EC2SecurityGroup], egress: Bool, _ ipProtocol: Int, port: Int? = nil,
                         peer address: String, peerGroups: [String]) -> String? {
        let ip = IPv4Address(address)
        return groups.first { group in
            (egress ? group.egress : group.ingress).contains { rule in
                rule.allows(protocol: ipProtocol, port: port)
                    && (rule.cidrBlocks.contains { cidr in ip.map { IPv4Network(cidr)?.contains($0) ?? false } ?? false }
                        || rule.groups.contains(where: peerGroups.contains))
            }
        }?.id
    }

    private func groups(of eni: EC2NetworkInterface, in all: [EC2SecurityGroup]) -> [EC2SecurityGroup] {
        eni.securityGroups.compactMap { id in all.first { $0.id == id } }
    }

    private mutating func checkPairs(_ nodes: [Node], protocol ipProtocol: Int, name: String, owner: String, groups all: [EC2SecurityGroup]) {
        guard nodes.count > 1 else { return }
        var blocked = false
        for sender in nodes {
            for receiver in nodes where receiver != sender {
                let into = groups(of: receiver.eni, in: all), out = groups(of: sender.eni, in: all)
                let direction = "\(name) \(sender.address) -> \(receiver.address) (\(owner))"
                if Self.allowing(out, egress: true, ipProtocol, peer: receiver.address, peerGroups: receiver.eni.securityGroups) == nil {
                    blocked = true
                    add(.fail("security-group", "\(direction): no outbound rule of \(sender.eni.securityGroups.joined(separator: ", ")) "
                              + "on \(sender.eni.id) allows it", fix: Fix.authorizeEgress(
                                group: sender.eni.securityGroups.first ?? "SG", ipProtocol, toGroup: receiver.eni.securityGroups.first,
                                cidr: "\(receiver.address)/32")))
                }
                if Self.allowing(into, egress: false, ipProtocol, peer: sender.address, peerGroups: sender.eni.securityGroups) == nil {
                    blocked = true
                    add(.fail("security-group", "\(direction): no inbound rule of \(receiver.eni.securityGroups.joined(separator: ", ")) "
                              + "on \(receiver.eni.id) allows it", fix: Fix.authorizeIngress(
                                group: receiver.eni.securityGroups.first ?? "SG", ipProtocol, fromGroup: sender.eni.securityGroups.first,
                                cidr: "\(sender.address)/32")))
                }
            }
        }
        if !blocked {
            add(.pass("security-group", "\(name) allowed both ways between \(nodes.map(\.address).joined(separator: ", ")) (\(owner))"))
        }
    }

    /// A virtual server's port must be open to someone on every node that may hold the VIP.
    private mutating func checkServicePorts(_ all: [EC2SecurityGroup]) {
        guard !config.services.isEmpty, let this = account.node.value else { return }
        var holders: [Node] = []
        for instance in config.instances where !instance.vips.isEmpty {
            for node in nodes(this: sourceAddress(instance, this), peers: instance.peers) where !holders.contains(where: { $0.eni.id == node.eni.id }) {
                holders.append(node)
            }
        }
        if holders.isEmpty { holders = nodes(this: nil, peers: []) }
        let cidr = account.vpc.value?.cidrBlocks.first ?? "0.0.0.0/0"
        for service in config.services {
            let closed = holders.filter { node in
                !groups(of: node.eni, in: all).contains { $0.ingress.contains { $0.allows(protocol: service.ipProtocol, port: service.port) } }
            }
            let what = "virtual_server \(service.name): \(Fix.protocolName(service.ipProtocol)) port \(service.port)"
            if let first = closed.first {
                add(.warn("service-port", "\(what): no inbound rule allows it on \(closed.map(\.label).joined(separator: ", ")) "
                          + "(groups \(first.eni.securityGroups.joined(separator: ", ")))",
                          fix: Fix.authorizeIngress(group: first.eni.securityGroups.first ?? "SG", service.ipProtocol, port: service.port, cidr: cidr)))
            } else {
                add(.pass("service-port", "\(what) allowed inbound on \(holders.map(\.address).joined(separator: ", "))"))
            }
        }
    }
}
