import CNetlink
import NetworkTypes
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 address on an interface, as `ip addr` shows it.
public struct InterfaceAddress: Sendable, Hashable, CustomStringConvertible {
    public var address: IPv4Address
    public var prefixLength: Int
    public var interfaceIndex: Int32
    public var label: String?
    /// RT_SCOPE_*: 0 global, 200 site, 253 link, 254 host.
    public var scope: UInt8
    public var broadcast: IPv4Address?

    public init(address: IPv4Address, prefixLength: Int, interfaceIndex: Int32, label: String? = nil,
                scope: UInt8 = 0, broadcast: IPv4Address? = nil) {
        self.address = address
        self.prefixLength = prefixLength
        self.interfaceIndex = interfaceIndex
        self.label = label
        self.scope = scope
        self.broadcast = broadcast
    }

    public var description: String { "\(address)/\(prefixLength) if \(interfaceIndex)" + (label.map { " label \($0)" } ?? "") }

    /// keepalived's scope words; numbers pass through.
    public static func scope(named name: String) -> UInt8? {
        switch name {
        case "global": 0
        case "site": 200
        case "link": 253
        case "host": 254
        case "nowhere": 255
        default: UInt8(name)
        }
    }
}

extension NetlinkSocket {
    /// Adds an address (RTM_NEWADDR). An address that is already there is not an error:
    /// the daemon may restart over its own VIP, and a reload re-asserts.
    public func addAddress(_ a: InterfaceAddress) throws(NetlinkError) {
        let rc = withAddressObject(a) { handle, object in rtnl_addr_add(handle, object, 0) }
        if rc < 0 && rc != -Int32(NLE_EXIST) { throw NetlinkError(code: rc, operation: "adding \(a)") }
    }

    /// Removes an address (RTM_DELADDR); one that is already gone is not an error.
    public func removeAddress(_ a: InterfaceAddress) throws(NetlinkError) {
        let rc = withAddressObject(a) { handle, object in rtnl_addr_delete(handle, object, 0) }
        if rc < 0 && rc != -Int32(NLE_NOADDR) && rc != -Int32(NLE_OBJ_NOTFOUND) {
            throw NetlinkError(code: rc, operation: "removing \(a)")
        }
    }

    /// The IPv4 addresses of the namespace, optionally of one interface.
    public func addresses(interfaceIndex: Int32? = nil) throws(NetlinkError) -> [InterfaceAddress] {
        var cache: OpaquePointer?
        let rc = rtnl_addr_alloc_cache(handle, &cache)
        guard rc == 0, let cache else { throw NetlinkError(code: rc, operation: "reading addresses") }
        defer { nl_cache_free(cache) }
        var result: [InterfaceAddress] = []
        var object = nl_cache_get_first(cache)
        while let current = object {
            object = nl_cache_get_next(current)
            guard rtnl_addr_get_family(current) == AF_INET, let local = rtnl_addr_get_local(current),
                  nl_addr_get_len(local) == 4, let bytes = nl_addr_get_binary_addr(local) else { continue }
            let octets = bytes.assumingMemoryBound(to: UInt8.self)
            let address = IPv4Address(octets[0], octets[1], octets[2], octets[3])
            let index = rtnl_addr_get_ifindex(current)
            if let wanted = interfaceIndex, wanted != index { continue }
            let label = rtnl_addr_get_label(current).map { String(cString: $0) }
            result.append(InterfaceAddress(address: address, prefixLength: Int(rtnl_addr_get_prefixlen(current)),
                                           interfaceIndex: index, label: label,
                                           scope: UInt8(truncatingIfNeeded: rtnl_addr_get_scope(current))))
        }
        return result
    }

    private func withAddressObject(_ a: InterfaceAddress, _ body: (OpaquePointer, OpaquePointer) -> Int32) -> Int32 {
        guard let object = rtnl_addr_alloc() else { return -Int32(NLE_NOMEM) }
        defer { rtnl_addr_put(object) }
        rtnl_addr_set_ifindex(object, a.interfaceIndex)
        rtnl_addr_set_family(object, AF_INET)
        var octets = a.address.octets
        guard let local = nl_addr_build(AF_INET, &octets, 4) else { return -Int32(NLE_NOMEM) }
        defer { nl_addr_put(local) }
        nl_addr_set_prefixlen(local, Int32(a.prefixLength))
        var rc = rtnl_addr_set_local(object, local)
        if rc < 0 { return rc }
        rtnl_addr_set_prefixlen(object, Int32(a.prefixLength))
        rtnl_addr_set_scope(object, Int32(a.scope))
        if let label = a.label {
            rc = rtnl_addr_set_label(object, label)
            if rc < 0 { return rc }
        }
        if let broadcast = a.broadcast {
            var b = broadcast.octets
            guard let brd = nl_addr_build(AF_INET, &b, 4) else { return -Int32(NLE_NOMEM) }
            defer { nl_addr_put(brd) }
            rc = rtnl_addr_set_broadcast(object, brd)
            if rc < 0 { return rc }
        }
        return body(handle, object)
    }
}
