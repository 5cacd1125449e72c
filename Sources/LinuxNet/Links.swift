import CNetlink

/// A network interface as the kernel reports it.
public struct LinkInfo: Sendable, Hashable {
    public var index: Int32
    public var name: String
    public var mtu: UInt32
    public var isUp: Bool
}

extension NetlinkSocket {
    /// Lists the links of this socket's network namespace (RTM_GETLINK dump).
    public func links() throws(NetlinkError) -> [LinkInfo] {
        var cache: OpaquePointer?
        let rc = rtnl_link_alloc_cache(handle, 0 /* AF_UNSPEC */, &cache)
        guard rc == 0, let cache else { throw NetlinkError(code: rc, operation: "reading the link table") }
        defer { nl_cache_free(cache) }
        var result: [LinkInfo] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            let link = current  // struct rtnl_link * and struct nl_object * are both opaque here
            let name = rtnl_link_get_name(link).map { String(cString: $0) } ?? ""
            let up = rtnl_link_get_flags(link) & 1 /* IFF_UP */ != 0
            result.append(LinkInfo(index: rtnl_link_get_ifindex(link), name: name,
                                   mtu: rtnl_link_get_mtu(link), isUp: up))
            object = nl_cache_get_next(current)
        }
        return result
    }
}
