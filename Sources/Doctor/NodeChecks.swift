import EC2
import VRRP

/// A node of a virtual router as the VPC knows it: this instance or a peer, by address.
struct Node: Hashable {
    var address: String
    var eni: EC2NetworkInterface
    var isThis: Bool

    var label: String { "\(isThis ? "this node" : "peer") \(address) (\(eni.instanceID ?? "no instance"), \(eni.id))" }
}

/// This instance, its peers, and the source/destination check of each node that may hold a VIP.
extension Checkup {
    /// This node's address in `instance`: its unicast_src_ip, else its ENI's primary address.
    func sourceAddress(_ instance: DoctorConfig.Instance, _ eni: EC2NetworkInterface) -> String {
        instance.sourceIP ?? eni.privateAddresses.first ?? ""
    }

    /// The ENI that owns `address` among the peers found.
    func peerENI(_ address: String) -> EC2NetworkInterface? {
        account.peers.value?.first { $0.privateAddresses.contains(address) }
    }

    /// This node and the peers of `peers` that the VPC has, for pairwise checks.
    func nodes(this address: String?, peers: [String]) -> [Node] {
        var nodes: [Node] = []
        if let eni = account.node.value { nodes.append(Node(address: address ?? eni.privateAddresses.first ?? "", eni: eni, isThis: true)) }
        for peer in peers { if let eni = peerENI(peer) { nodes.append(Node(address: peer, eni: eni, isThis: false)) } }
        return nodes
    }

    mutating func checkNodes() {
        guard let id = need(account.instanceID) else { return }
        guard let eni = need(account.node) else { return }
        add(.pass("instance", "this instance: \(id), \(eni.id) (\(eni.privateAddresses.joined(separator: ", "))) in \(eni.subnetID), \(eni.vpcID)"))
        for instance in config.instances {
            if let source = instance.sourceIP, !eni.privateAddresses.contains(source) {
                add(.fail("instance", "vrrp_instance \(instance.name): unicast_src_ip \(source) is not an address of this node's \(eni.id) "
                          + "(\(eni.privateAddresses.joined(separator: ", "))): the peers will not recognise its advertisements",
                          fix: "aws ec2 assign-private-ip-addresses --network-interface-id \(eni.id) --private-ip-addresses \(source)"))
            }
        }
        checkPeers()
        checkSourceDestCheck()
    }

    private mutating func checkPeers() {
        let addresses = config.peerAddresses
        guard !addresses.isEmpty, let found = need(account.peers) else { return }
        for address in addresses {
            let users = (config.instances.filter { $0.peers.contains(address) }.map { "vrrp_instance \($0.name)" }
                         + config.overlays.filter { $0.peers.contains(address) }.map { "overlay \($0.name)" }).joined(separator: ", ")
            if let eni = found.first(where: { $0.privateAddresses.contains(address) }) {
                add(.pass("peer", "peer \(address) (\(users)): \(eni.instanceID ?? "no instance"), \(eni.id) in \(eni.subnetID)"))
            } else {
                add(.fail("peer", "peer \(address) (\(users)): no network interface in \(vpcID ?? "this VPC") has this address; "
                          + "advertisements sent there are lost", fix: vpcID.map(Fix.listAddresses)))
            }
        }
    }

    /// EC2 drops a packet whose destination (inbound) or source (outbound) is not one of
    /// the ENI's own addresses unless the check is off: the VIP is never an ENI's own.
    private mutating func checkSourceDestCheck() {
        var seen: Set<String> = []
        for instance in config.instances where !instance.vips.isEmpty {
            guard let eni = account.node.value else { return }
            for node in nodes(this: sourceAddress(instance, eni), peers: instance.peers) where seen.insert(node.eni.id).inserted {
                if node.eni.sourceDestCheck {
                    add(.fail("source-dest-check", "\(node.label) has the source/destination check on: the VPC drops VIP traffic "
                              + "routed to it (\(instance.vips.joined(separator: ", ")))", fix: Fix.sourceDestCheck(node.eni)))
                } else {
                    add(.pass("source-dest-check", "\(node.label): source/destination check off"))
                }
            }
        }
    }
}
