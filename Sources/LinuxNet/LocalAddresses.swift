import CLinux
import CNetlink
#if canImport(Glibc)
import Glibc
#endif

extension NetlinkSocket {
    /// Every IPv4 and IPv6 address on the namespace's interfaces, in network byte order
    /// (4 or 16 octets): what "is address A local" asks. One dump of the address table.
    public func localAddressBytes() throws(NetlinkError) -> Set<[UInt8]> {
        var cache: OpaquePointer?
        let rc = rtnl_addr_alloc_cache(handle, &cache)
        guard rc == 0, let cache else { throw NetlinkError(code: rc, operation: "reading addresses") }
        defer { nl_cache_free(cache) }
        var result: Set<[UInt8]> = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            object = nl_cache_get_next(current)
            let family = rtnl_addr_get_family(current)
            guard family == AF_INET || family == AF_INET6, let local = rtnl_addr_get_local(current),
                  let bytes = nl_addr_get_binary_addr(local) else { continue }
            let length = Int(nl_addr_get_len(local))
            guard length == (family == AF_INET ? 4 : 16) else { continue }
            result.insert(Array(UnsafeRawBufferPointer(start: bytes, count: length)))
        }
        return result
    }
}
