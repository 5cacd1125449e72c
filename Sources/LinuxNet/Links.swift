import CNetlink

/// A network interface as the kernel reports it.
public struct LinkInfo: Sendable, Hashable {
    public var index: Int32
    public var name: String
    public var mtu: UInt32
    /// IFF_UP: administratively up.
    public var isUp: Bool
    /// IFF_RUNNING and IFF_LOWER_UP: the link has carrier. `track_interface` watches this.
    public var hasCarrier: Bool
    /// The hardware address (6 bytes for Ethernet), empty when the link has none.
    public var hardwareAddress: [UInt8]
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
            let flags = rtnl_link_get_flags(link)
            let up = flags & 0x1 /* IFF_UP */ != 0
            let carrier = flags & 0x40 /* IFF_RUNNING */ != 0 && flags & 0x10000 /* IFF_LOWER_UP */ != 0
            var mac: [UInt8] = []
            if let address = rtnl_link_get_addr(link), let bytes = nl_addr_get_binary_addr(address) {
                mac = Array(UnsafeBufferPointer(start: bytes.assumingMemoryBound(to: UInt8.self),
                                                count: Int(nl_addr_get_len(address))))
            }
            result.append(LinkInfo(index: rtnl_link_get_ifindex(link), name: name, mtu: rtnl_link_get_mtu(link),
                                   isUp: up, hasCarrier: up && carrier, hardwareAddress: mac))
            object = nl_cache_get_next(current)
        }
        return result
    }
}

extension NetlinkSocket {
    /// The link called `name`, or nil when this namespace has none.
    public func link(named name: String) throws(NetlinkError) -> LinkInfo? {
        try links().first { $0.name == name }
    }
}
