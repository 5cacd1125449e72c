import Config

/// Which addresses move: a virtual router must exist on more than one node to fail
/// over, and must move the same addresses whichever node is MASTER.
extension ClusterChecker {
    /// A VRID on some nodes only: on the others nothing takes over its addresses. Legal
    /// (a node-local address), so a warning; the split-brain form of it, the same address
    /// under another VRID elsewhere, is `checkSameAddressInDifferentRouters`.
    mutating func checkPresence(_ router: RouterContext) {
        let present = Set(router.entries.map(\.file))
        let missing = nodes.map(\.file).filter { !present.contains($0) }
        guard !missing.isEmpty else { return }
        let names = Set(router.entries.map(\.instance.name)).sorted().joined(separator: ", ")
        let message = "vrrp_instance \(names) is on \(present.sorted().joined(separator: ", ")) only, not on "
            + "\(missing.joined(separator: ", ")): no other node takes over its addresses"
        findings.warning(.instanceOnSomeNodesOnly, router.group, message, at: router.entries.map { $0.at("virtual_router_id") })
    }

    /// The same VIP under two virtual routers (usually a VRID typed differently on one
    /// node): the routers never hear each other, so each is MASTER of its own VRID and
    /// both nodes hold the address. One finding per set of routers, naming every address.
    mutating func checkSameAddressInDifferentRouters(_ groups: [VirtualRouterGroup]) {
        var routersByAddress: [String: [(label: String, file: String, location: SourceLocation)]] = [:]
        for group in groups {
            for member in group.members {
                for vip in member.instance.virtualIPAddresses {
                    routersByAddress[vip.address.description, default: []].append((group.label, member.file, vip.location))
                }
            }
        }
        var addressesByRouters: [[String]: [String]] = [:]
        for (address, uses) in routersByAddress {
            let labels = Set(uses.map(\.label)).sorted()
            if labels.count > 1 { addressesByRouters[labels, default: []].append(address) }
        }
        for (labels, addresses) in addressesByRouters.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let uses = addresses.flatMap { routersByAddress[$0] ?? [] }
            let placement = labels.map { label in
                "\(label) on " + Set(uses.filter { $0.label == label }.map(\.file)).sorted().joined(separator: ", ")
            }.joined(separator: " but ")
            let message = "\(addresses.sorted().joined(separator: ", ")) in \(placement): different virtual routers never hear "
                + "each other, so each elects its own MASTER and both hold the address"
            findings.error(.sameAddressDifferentRouter, nil, message, at: uses.map(\.location).sorted())
        }
    }

    /// Different `virtual_ipaddress` sets: after a takeover the new MASTER serves other
    /// addresses than the old one, and stock keepalived (without
    /// `vrrp_skip_check_adv_addr`) drops advertisements whose address list is not its
    /// own, so with a keepalived peer both become MASTER.
    mutating func checkAddresses(_ router: RouterContext) {
        let sets = router.entries.map { Set($0.instance.virtualIPAddresses.map(\.address)) }
        let common = sets.dropFirst().reduce(sets.first ?? []) { $0.intersection($1) }
        if router.differ({ Set($0.instance.virtualIPAddresses.map(\.address)) }) {
            let listed = router.each { entry in
                let addresses = entry.instance.virtualIPAddresses.map(\.address.description)
                return addresses.isEmpty ? "none" : addresses.joined(separator: " ")
            }
            let locations = router.entries.flatMap { entry -> [SourceLocation] in
                let extra = entry.instance.virtualIPAddresses.filter { !common.contains($0.address) }.map(\.location)
                return extra.isEmpty ? [entry.at("virtual_ipaddress")] : extra
            }
            findings.error(.virtualAddressesDiffer, router.group,
                           "virtual_ipaddress differs (\(listed)): a takeover moves other addresses than the MASTER holds, "
                           + "and keepalived drops advertisements whose address list is not its own", at: locations)
        }
        for address in common.sorted() {
            let vips = router.entries.compactMap { entry in
                entry.instance.virtualIPAddresses.first { $0.address == address }.map { (entry.file, $0) }
            }
            guard Set(vips.map(\.1.prefixLength)).count > 1 else { continue }
            let listed = vips.map { "\($0.0) /\($0.1.prefixLength)" }.joined(separator: ", ")
            findings.warning(.virtualAddressPrefixDiffers, router.group,
                             "\(address) has different prefix lengths (\(listed)): the subnet route it brings depends on "
                             + "which node is MASTER", at: vips.map(\.1.location))
        }
    }
}
