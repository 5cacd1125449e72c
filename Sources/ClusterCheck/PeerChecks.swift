import Config

/// Unicast VRRP (and the GRE overlay under multicast VRRP) reaches only the addresses a
/// node lists, and Overcast drops an advertisement from an address it does not list.
/// So the lists must agree both ways: if A lists B but B does not list A, A never hears
/// B and becomes MASTER beside it.
extension ClusterChecker {
    mutating func checkUnicastPeers(_ router: RouterContext) {
        let unicast = router.entries.filter { $0.transport == .unicast || $0.transport == .replicate }
        guard unicast.count > 1 else { return }
        for entry in unicast where entry.sourceAddress == nil {
            findings.warning(.unicastSourceMissing, router.group,
                             "\(entry.file) has no unicast_src_ip: it sends from its interface's primary address, which "
                             + "only that host knows, so the other nodes' unicast_peer lists cannot be checked against it",
                             at: [entry.at("unicast_peer")])
        }
        let speakers = unicast.map { entry in
            Speaker(file: entry.file, address: entry.sourceAddress, peers: entry.instance.unicastPeers.map(\.description),
                    listLocation: entry.at("unicast_peer"),
                    addressLocation: entry.at(entry.instance.unicastSrcIP != nil ? "unicast_src_ip" : "mcast_src_ip"),
                    peerLocation: { entry.node.location(entry.instance, path: ["unicast_peer", $0]) })
        }
        checkMutual(speakers, router.group, notMutual: .unicastPeerNotMutual, unknown: .unicastPeerUnknown,
                    list: "unicast_peer", address: "unicast_src_ip")
    }

    /// The overlays under each gre virtual router, each set once (several VRIDs often
    /// share one overlay): their `local`/`peers` must agree as unicast peers must, and
    /// their GRE keys must be equal, or the tunnels drop each other's packets.
    mutating func checkOverlays(_ groups: [VirtualRouterGroup]) {
        var checked = Set<[String]>()
        for group in groups {
            let overlays = group.members.compactMap { member -> (node: ClusterNode, overlay: Overlay)? in
                guard member.instance.transport == .gre, nodes.indices.contains(member.nodeIndex) else { return nil }
                let node = nodes[member.nodeIndex]
                return node.configuration.overlays.first { $0.name == member.instance.interface }.map { (node, $0) }
            }
            guard overlays.count > 1, checked.insert(overlays.map { "\($0.node.file) \($0.overlay.name)" }).inserted else { continue }
            let speakers = overlays.map { node, overlay in
                Speaker(file: node.file, address: overlay.local?.description, peers: overlay.peers.map(\.description),
                        listLocation: node.locations.overlay(overlay.name, "peers") ?? overlay.location,
                        addressLocation: node.locations.overlay(overlay.name, "local") ?? overlay.location,
                        peerLocation: { node.locations.overlay(overlay.name, "peers", $0)
                                        ?? node.locations.overlay(overlay.name, "peers") ?? overlay.location })
            }
            checkMutual(speakers, nil, notMutual: .overlayPeerNotMutual, unknown: nil, list: "overlay peers", address: "local")
            if Set(overlays.map(\.overlay.key)).count > 1 {
                let keys = overlays.map { "\($0.node.file) \($0.overlay.key.map(String.init) ?? "none")" }.joined(separator: ", ")
                findings.error(.overlayKeyDiffers, nil,
                               "overlay GRE keys differ (\(keys)): each tunnel drops the other's packets, so the VRRP "
                               + "inside never arrives and every node becomes MASTER",
                               at: overlays.map { $0.node.locations.overlay($0.overlay.name, "key") ?? $0.overlay.location })
            }
        }
    }

    /// Checks every pair of speakers whose addresses are known, then (when all are
    /// known) every listed address that is no speaker's.
    private mutating func checkMutual(_ speakers: [Speaker], _ group: VirtualRouterGroup?, notMutual: ClusterFinding.Kind,
                                      unknown: ClusterFinding.Kind?, list: String, address: String) {
        for (index, a) in speakers.enumerated() {
            for b in speakers.dropFirst(index + 1) {
                guard let aAddress = a.address, let bAddress = b.address else { continue }
                guard aAddress != bAddress else {
                    findings.error(.sharedSourceAddress, group,
                                   "\(a.file) and \(b.file) both send from \(aAddress) (\(address)): each takes the other's "
                                   + "advertisements for its own and drops them, so both become MASTER",
                                   at: [a.addressLocation, b.addressLocation])
                    continue
                }
                switch (a.peers.contains(bAddress), b.peers.contains(aAddress)) {
                case (true, true):
                    continue
                case (false, false):
                    findings.error(notMutual, group,
                                   "\(a.file) (\(aAddress)) and \(b.file) (\(bAddress)) do not list each other in \(list): "
                                   + "neither hears the other, so both become MASTER", at: [a.listLocation, b.listLocation])
                case (true, false):
                    findings.error(notMutual, group, oneWay(a, aAddress, b, bAddress, list: list),
                                   at: [a.peerLocation(bAddress), b.listLocation])
                case (false, true):
                    findings.error(notMutual, group, oneWay(b, bAddress, a, aAddress, list: list),
                                   at: [b.peerLocation(aAddress), a.listLocation])
                }
            }
        }
        guard let unknown, !speakers.contains(where: { $0.address == nil }) else { return }
        let known = Set(speakers.compactMap(\.address))
        for speaker in speakers {
            for peer in speaker.peers where !known.contains(peer) {
                findings.warning(unknown, group,
                                 "\(speaker.file) lists \(peer) in \(list), which is no given node's \(address): a node "
                                 + "not given to simulate, or a stale address", at: [speaker.peerLocation(peer)])
            }
        }
    }

    private func oneWay(_ sender: Speaker, _ senderAddress: String, _ silent: Speaker, _ silentAddress: String,
                        list: String) -> String {
        "\(sender.file) lists \(silent.file)'s \(silentAddress) but \(silent.file) does not list \(sender.file)'s "
            + "\(senderAddress) in \(list): \(silent.file) never sends to \(sender.file), which becomes MASTER beside it"
    }
}

/// One node's side of a unicast exchange: its address and whom it sends to.
private struct Speaker {
    var file: String
    var address: String?
    var peers: [String]
    var listLocation: SourceLocation
    var addressLocation: SourceLocation
    var peerLocation: (String) -> SourceLocation
}
