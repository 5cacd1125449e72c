import CNetlink
import NetworkTypes
#if canImport(Glibc)
import Glibc
#endif

extension NetlinkSocket {
    /// The IPv4 neighbour (ARP) table: address -> MAC, for entries that have a usable
    /// link-layer address (reachable, stale, delay, probe or permanent).
    public func neighbours(interfaceIndex: Int32) throws(NetlinkError) -> [IPv4Address: [UInt8]] {
        var cache: OpaquePointer?
        let rc = rtnl_neigh_alloc_cache(handle, &cache)
        guard rc == 0, let cache else { throw NetlinkError(code: rc, operation: "reading the neighbour table") }
        defer { nl_cache_free(cache) }
        var table: [IPv4Address: [UInt8]] = [:]
        var object = nl_cache_get_first(cache)
        while let current = object {
            object = nl_cache_get_next(current)
            guard rtnl_neigh_get_ifindex(current) == interfaceIndex, rtnl_neigh_get_family(current) == AF_INET else { continue }
            let state = rtnl_neigh_get_state(current)
            // NUD_INCOMPLETE (0x01) and NUD_FAILED (0x20) carry no usable address.
            guard state & 0x01 == 0 && state & 0x20 == 0,
                  let destination = rtnl_neigh_get_dst(current), nl_addr_get_len(destination) == 4,
                  let lladdr = rtnl_neigh_get_lladdr(current), nl_addr_get_len(lladdr) == 6,
                  let ip = nl_addr_get_binary_addr(destination), let mac = nl_addr_get_binary_addr(lladdr) else { continue }
            let o = ip.assumingMemoryBound(to: UInt8.self)
            table[IPv4Address(o[0], o[1], o[2], o[3])] = Array(UnsafeBufferPointer(start: mac.assumingMemoryBound(to: UInt8.self), count: 6))
        }
        return table
    }
}
