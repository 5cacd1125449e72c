import NetworkTypes
import VRRP

extension SimulatedCluster {
    /// A cluster of routers named lvs1, lvs2, ... at 172.31.18.(10+n), all in one
    /// virtual router with the article's VIP, either by multicast or by unicast to every
    /// other router (keepalived's `unicast_peer` list). Priorities are given in order.
    public static func make(priorities: [UInt8], version: VRRPVersion = .v3,
                            interval: Centiseconds = .seconds(1), unicast: Bool = true,
                            preempt: Bool = true, dropsMulticast: Bool = false,
                            latency: Duration = .milliseconds(1), tracked: [TrackedItem] = []) -> SimulatedCluster {
        let cluster = SimulatedCluster(latency: latency, dropsMulticast: dropsMulticast)
        let addresses = priorities.indices.map { IPv4Address(172, 31, 18, UInt8(10 + $0)) }
        for (n, priority) in priorities.enumerated() {
            let machine = VRRPStateMachine.Configuration(version: version, priority: priority,
                                                         advertisementInterval: interval,
                                                         primaryAddress: addresses[n], preempt: preempt)
            let config = VirtualRouter.Configuration(
                virtualRouterID: 51, stateMachine: machine, virtualAddresses: [IPv4Address(192, 168, 20, 11)],
                authType: version == .v2 ? .simplePassword : .none, authPassword: version == .v2 ? "1111" : nil,
                unicastPeers: unicast ? addresses.filter { $0 != addresses[n] } : nil)
            cluster.addRouter("lvs\(n + 1)", config, tracked: tracked)
        }
        return cluster
    }
}
