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

/// An IPv4 route as the kernel holds it: `virtual_routes` and `static_routes` resolved
/// against this host (the device is an index here). Equal routes are the same kernel
/// route for add and delete; `scope` nil lets libnl pick the kernel's default (link for a
/// direct route, host for a local one, else global), as `ip route add` does.
public struct KernelRoute: Sendable, Hashable, CustomStringConvertible {
    /// One path of a multipath route (RTA_MULTIPATH).
    public struct NextHop: Sendable, Hashable {
        public var gateway: IPv4Address?
        public var interfaceIndex: Int32?
        /// 1-256, as `ip route`'s `weight` (the kernel stores one less).
        public var weight: Int
        public var onLink: Bool
        public init(gateway: IPv4Address? = nil, interfaceIndex: Int32? = nil, weight: Int = 1, onLink: Bool = false) {
            self.gateway = gateway
            self.interfaceIndex = interfaceIndex
            self.weight = weight
            self.onLink = onLink
        }
    }

    public var type: RouteType
    public var destination: IPv4Network
    /// The preferred source address (`src`, RTA_PREFSRC).
    public var source: IPv4Address?
    public var gateway: IPv4Address?
    public var interfaceIndex: Int32?
    public var scope: UInt8?
    public var table: UInt32
    public var metric: UInt32?
    /// The TOS byte the route matches (nil: any).
    public var tos: UInt8?
    public var protocolNumber: UInt8
    public var onLink: Bool
    /// A multipath route's paths (two or more); `gateway`, `interfaceIndex` and `onLink`
    /// are then unused.
    public var nextHops: [NextHop] = []

    public init(type: RouteType = .unicast, destination: IPv4Network, source: IPv4Address? = nil, gateway: IPv4Address? = nil,
                interfaceIndex: Int32? = nil, scope: UInt8? = nil, table: UInt32 = 254, metric: UInt32? = nil,
                tos: UInt8? = nil, protocolNumber: UInt8 = RoutingNames.keepalivedProtocol, onLink: Bool = false) {
        self.type = type
        self.tos = tos
        self.destination = destination
        self.source = source
        self.gateway = gateway
        self.interfaceIndex = interfaceIndex
        self.scope = scope
        self.table = table
        self.metric = metric
        self.protocolNumber = protocolNumber
        self.onLink = onLink
    }

    public var description: String {
        let words = RouteWords(type: type, destination: destination, gateway: gateway, device: interfaceIndex.map { "#\($0)" },
                               source: source, scope: scope, table: table, metric: metric, tos: tos, protocolNumber: protocolNumber,
                               onLink: onLink, nextHops: nextHops.map { .init(gateway: $0.gateway, device: $0.interfaceIndex.map { "#\($0)" },
                                                                              weight: $0.weight, onLink: $0.onLink) }).words
        return words.joined(separator: " ")
    }
}

extension NetlinkSocket {
    /// Adds a route (RTM_NEWROUTE, NLM_F_CREATE|NLM_F_EXCL). One already there is not an
    /// error: a restarted daemon or a reload re-asserts what it owns.
    public func addRoute(_ route: KernelRoute) throws(NetlinkError) {
        let rc = withRouteObject(route) { handle, object in rtnl_route_add(handle, object, Int32(NLM_F_EXCL)) }
        if rc < 0 && rc != -Int32(NLE_EXIST) { throw NetlinkError(code: rc, operation: "adding the route \(route)") }
    }

    /// Removes a route (RTM_DELROUTE); one already gone is not an error.
    public func removeRoute(_ route: KernelRoute) throws(NetlinkError) {
        let rc = withRouteObject(route) { handle, object in rtnl_route_delete(handle, object, 0) }
        if rc < 0 && rc != -Int32(NLE_OBJ_NOTFOUND) && rc != -Int32(NLE_NOADDR) {
            throw NetlinkError(code: rc, operation: "removing the route \(route)")
        }
    }

    /// Every IPv4 route of every table.
    public func routes() throws(NetlinkError) -> [KernelRoute] {
        var cache: OpaquePointer?
        let rc = rtnl_route_alloc_cache(handle, AF_INET, 0, &cache)
        guard rc == 0, let cache else { throw NetlinkError(code: rc, operation: "reading routes") }
        defer { nl_cache_free(cache) }
        var result: [KernelRoute] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            object = nl_cache_get_next(current)
            guard rtnl_route_get_family(current) == AF_INET, let type = RouteType(kernelValue: rtnl_route_get_type(current)) else { continue }
            let destination = rtnl_route_get_dst(current).flatMap(Self.network) ?? IPv4Network(IPv4Address(0), prefixLength: 0)
            guard let destination else { continue }
            var route = KernelRoute(type: type, destination: destination,
                                    source: rtnl_route_get_pref_src(current).flatMap(Self.network)?.address,
                                    scope: rtnl_route_get_scope(current), table: rtnl_route_get_table(current),
                                    metric: rtnl_route_get_priority(current), protocolNumber: rtnl_route_get_protocol(current))
            let hops = (0..<max(0, rtnl_route_get_nnexthops(current))).compactMap { rtnl_route_nexthop_n(current, $0) }.map { hop in
                let index = rtnl_route_nh_get_ifindex(hop)
                return KernelRoute.NextHop(gateway: rtnl_route_nh_get_gateway(hop).flatMap(Self.network)?.address,
                               interfaceIndex: index > 0 ? index : nil, weight: Int(rtnl_route_nh_get_weight(hop)) + 1,
                               onLink: rtnl_route_nh_get_flags(hop) & UInt32(RTNH_F_ONLINK) != 0)
            }
            let tos = rtnl_route_get_tos(current)
            route.tos = tos == 0 ? nil : tos
            if hops.count == 1, let hop = hops.first {
                route.gateway = hop.gateway
                route.interfaceIndex = hop.interfaceIndex
                route.onLink = hop.onLink
            } else {
                route.nextHops = hops
            }
            result.append(route)
        }
        return result
    }

    /// An nl_addr of family AF_INET as a network (an address is its /32).
    static func network(_ address: OpaquePointer) -> IPv4Network? {
        guard nl_addr_get_family(address) == AF_INET, nl_addr_get_len(address) == 4,
              let bytes = nl_addr_get_binary_addr(address) else { return nil }
        let octets = bytes.assumingMemoryBound(to: UInt8.self)
        return IPv4Network(IPv4Address(octets[0], octets[1], octets[2], octets[3]),
                           prefixLength: Int(nl_addr_get_prefixlen(address)))
    }

    /// An nl_addr for `network` (the caller puts it).
    static func nlAddress(_ network: IPv4Network) -> OpaquePointer? {
        var octets = network.address.octets
        guard let address = nl_addr_build(AF_INET, &octets, 4) else { return nil }
        nl_addr_set_prefixlen(address, Int32(network.prefixLength))
        return address
    }

    private func withRouteObject(_ route: KernelRoute, _ body: (OpaquePointer, OpaquePointer) -> Int32) -> Int32 {
        guard let object = rtnl_route_alloc() else { return -Int32(NLE_NOMEM) }
        defer { rtnl_route_put(object) }
        rtnl_route_set_family(object, UInt8(AF_INET))
        rtnl_route_set_table(object, route.table)
        rtnl_route_set_protocol(object, route.protocolNumber)
        var rc = rtnl_route_set_type(object, route.type.kernelValue)
        if rc < 0 { return rc }
        if let scope = route.scope { rtnl_route_set_scope(object, scope) }
        if let metric = route.metric { rtnl_route_set_priority(object, metric) }
        if let tos = route.tos { rtnl_route_set_tos(object, tos) }
        guard let dst = Self.nlAddress(route.destination) else { return -Int32(NLE_NOMEM) }
        defer { nl_addr_put(dst) }
        rc = rtnl_route_set_dst(object, dst)
        if rc < 0 { return rc }
        if let source = route.source {
            guard let src = Self.nlAddress(IPv4Network(host: source)) else { return -Int32(NLE_NOMEM) }
            defer { nl_addr_put(src) }
            rc = rtnl_route_set_pref_src(object, src)
            if rc < 0 { return rc }
        }
        let single = route.gateway != nil || route.interfaceIndex != nil
            ? [KernelRoute.NextHop(gateway: route.gateway, interfaceIndex: route.interfaceIndex, onLink: route.onLink)] : []
        for hop in route.nextHops.isEmpty ? single : route.nextHops {
            guard let nh = rtnl_route_nh_alloc() else { return -Int32(NLE_NOMEM) }
            if let index = hop.interfaceIndex { rtnl_route_nh_set_ifindex(nh, index) }
            if hop.onLink { rtnl_route_nh_set_flags(nh, UInt32(RTNH_F_ONLINK)) }
            if !route.nextHops.isEmpty { rtnl_route_nh_set_weight(nh, UInt8(clamping: hop.weight - 1)) }
            if let gateway = hop.gateway {
                guard let gw = Self.nlAddress(IPv4Network(host: gateway)) else {
                    rtnl_route_nh_free(nh)
                    return -Int32(NLE_NOMEM)
                }
                rtnl_route_nh_set_gateway(nh, gw)
                nl_addr_put(gw)
            }
            rtnl_route_add_nexthop(object, nh)  // the route owns the hop from here
        }
        return body(handle, object)
    }
}
