import Config

/// EC2 route-table failover: on becoming MASTER a node points the VIP's /32 route in
/// each of its route tables at itself. A table that only some nodes name keeps pointing
/// at the old MASTER after a takeover by a node that does not name it, so the traffic
/// of that table's subnets goes to a BACKUP: an error, even though VRRP converged.
extension ClusterChecker {
    mutating func checkRouteFailover(_ router: RouterContext) {
        let withRoutes = router.entries.filter { $0.instance.ec2RouteFailover != nil }
        guard !withRoutes.isEmpty else { return }
        let without = router.entries.filter { $0.instance.ec2RouteFailover == nil }
        if !without.isEmpty {
            findings.error(.routeFailoverMissing, router.group,
                           "ec2_route_failover on \(withRoutes.map(\.file).joined(separator: ", ")) but not on "
                           + "\(without.map(\.file).joined(separator: ", ")): when one of those is MASTER the route still "
                           + "points at the node before it", at: withRoutes.map { $0.at("ec2_route_failover") } + without.map(\.instance.location))
        }
        let tables = withRoutes.map { Set($0.instance.ec2RouteFailover?.routeTables ?? []) }
        let common = tables.dropFirst().reduce(tables.first ?? []) { $0.intersection($1) }
        if Set(tables).count > 1 {
            let listed = withRoutes.map { entry in
                "\(entry.file) \((entry.instance.ec2RouteFailover?.routeTables ?? []).joined(separator: " "))"
            }.joined(separator: ", ")
            let unshared = Set(tables.flatMap { $0 }).subtracting(common).sorted()
            findings.error(.routeTablesDiffer, router.group,
                           "route tables differ (\(listed)): \(unshared.joined(separator: ", ")) "
                           + "\(unshared.count == 1 ? "is" : "are") not moved by every node, so after some takeovers "
                           + "\(unshared.count == 1 ? "it points" : "they point") at a BACKUP",
                           at: withRoutes.map { $0.at("ec2_route_failover", "route_table") })
        }
        checkRouteSettings(withRoutes, router)
    }

    /// Region and target: a different region names other tables under the same ids (or
    /// none); a different target is legal but makes the route table read differently
    /// depending on who is MASTER.
    private mutating func checkRouteSettings(_ entries: [RouterEntry], _ router: RouterContext) {
        // A region left out comes from IMDS, which is the node's own: only two written ones can disagree.
        let written = entries.compactMap { entry in entry.instance.ec2RouteFailover?.region.map { (entry, $0) } }
        if Set(written.map(\.1)).count > 1 {
            let listed = written.map { "\($0.0.file) \($0.1)" }.joined(separator: ", ")
            findings.warning(.routeSettingsDiffer, router.group,
                             "ec2_route_failover region differs (\(listed)): a route table belongs to one region, so "
                             + "the nodes cannot all be moving the same tables",
                             at: written.map { $0.0.at("ec2_route_failover", "region") })
        }
        let targets = entries.map { $0.instance.ec2RouteFailover?.target.rawValue ?? "instance" }
        if Set(targets).count > 1 {
            let listed = zip(entries, targets).map { "\($0.file) \($1)" }.joined(separator: ", ")
            findings.warning(.routeSettingsDiffer, router.group,
                             "ec2_route_failover target differs (\(listed)): the route names an instance or an ENI "
                             + "depending on which node is MASTER", at: entries.map { $0.at("ec2_route_failover", "target") })
        }
    }
}
