import Config

/// Whether the members can hear each other at all: the same VRRP version, the same
/// advertisement interval (VRRPv2 drops any other), the same transport.
extension ClusterChecker {
    mutating func checkProtocol(_ router: RouterContext) {
        if router.differ(\.version) {
            findings.error(.versionDiffers, router.group,
                           "VRRP version differs (\(router.each { "v\($0.version)" })): each node drops the other "
                           + "version's advertisements, so both become MASTER", at: router.entries.map(\.versionLocation))
        } else if router.differ(\.instance.advertInt) {
            let intervals = router.each { $0.instance.advertInt.seconds }
            let locations = router.entries.map { $0.at("advert_int") }
            if router.entries.first?.version == 3 {
                findings.warning(.advertIntervalDiffers, router.group,
                                 "advert_int differs (\(intervals)): a VRRPv3 BACKUP learns the MASTER's interval, but "
                                 + "until it hears one, and so the takeover time, it counts with its own", at: locations)
            } else {
                findings.error(.advertIntervalDiffers, router.group,
                               "advert_int differs (\(intervals)): VRRPv2 drops an advertisement whose interval is not "
                               + "its own, so both become MASTER", at: locations)
            }
        }
        checkTransport(router)
    }

    /// unicast sends to the peers' addresses; multicast and replicate send to 224.0.0.18
    /// (replicate also copies to the peers); gre sends inside the overlay. Only multicast
    /// and replicate can meet, and only where the network carries multicast.
    private mutating func checkTransport(_ router: RouterContext) {
        guard router.differ(\.transport) else { return }
        let kinds = Set(router.entries.map(\.transport))
        let listed = router.each { $0.transport.rawValue }
        let locations = router.entries.map(\.transportLocation)
        if kinds == [.multicast, .replicate] {
            findings.warning(.transportDiffers, router.group,
                             "transports differ (\(listed)): the replicating node's copies reach the multicast node, but "
                             + "the multicast node's own advertisements reach the others only where the network carries "
                             + "multicast (a VPC does not)", at: locations)
        } else {
            findings.error(.transportDiffers, router.group,
                           "transports differ (\(listed)): the nodes send where the others do not listen, so both "
                           + "become MASTER", at: locations)
        }
    }
}
