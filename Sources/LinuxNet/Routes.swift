import CNetlink
import NetworkTypes
#if canImport(Glibc)
import Glibc
#endif

extension NetlinkSocket {
    /// Points `destination`/`prefixLength` at `gateway` in the main table, replacing any
    /// route there (RTM_NEWROUTE with NLM_F_REPLACE: atomic, no moment without a route).
    /// Test beds use it to mirror a cloud route table into a namespace.
    public func replaceRoute(to destination: IPv4Address, prefixLength: Int = 32, via gateway: IPv4Address) throws(NetlinkError) {
        guard let route = rtnl_route_alloc() else { throw NetlinkError(code: -Int32(NLE_NOMEM), operation: "allocating a route") }
        defer { rtnl_route_put(route) }
        var dstBytes = destination.octets
        var gwBytes = gateway.octets
        guard let dst = nl_addr_build(AF_INET, &dstBytes, 4), let gw = nl_addr_build(AF_INET, &gwBytes, 4) else {
            throw NetlinkError(code: -Int32(NLE_NOMEM), operation: "building route addresses")
        }
        defer { nl_addr_put(dst); nl_addr_put(gw) }
        nl_addr_set_prefixlen(dst, Int32(prefixLength))
        rtnl_route_set_family(route, UInt8(AF_INET))
        rtnl_route_set_table(route, UInt32(RT_TABLE_MAIN.rawValue))
        rtnl_route_set_protocol(route, UInt8(RTPROT_STATIC))
        rtnl_route_set_scope(route, UInt8(RT_SCOPE_UNIVERSE.rawValue))
        _ = rtnl_route_set_dst(route, dst)
        guard let hop = rtnl_route_nh_alloc() else { throw NetlinkError(code: -Int32(NLE_NOMEM), operation: "allocating a next hop") }
        rtnl_route_nh_set_gateway(hop, gw)
        rtnl_route_add_nexthop(route, hop)  // the route owns the hop from here
        let rc = rtnl_route_add(handle, route, Int32(NLM_F_REPLACE))
        if rc < 0 { throw NetlinkError(code: rc, operation: "replacing the route to \(destination)/\(prefixLength) via \(gateway)") }
    }
}
