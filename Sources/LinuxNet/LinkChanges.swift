import CNetlink
import NetworkTypes
#if canImport(Glibc)
import Glibc
#endif

/// The GRE parameters of a gretap link.
public struct GRETunnel: Sendable, Hashable {
    public var local: IPv4Address
    public var remote: IPv4Address
    public var key: UInt32?
    public init(local: IPv4Address, remote: IPv4Address, key: UInt32?) {
        self.local = local
        self.remote = remote
        self.key = key
    }
}

/// Creating, changing and deleting links: what `overcast overlay` builds (a bridge and
/// gretap ports). Each call is one netlink request; errors name the link and, when the
/// kernel lacks the link type, the module to load.
extension NetlinkSocket {
    public func createBridge(_ name: String, mtu: UInt32?) throws(NetlinkError) {
        try withNewLink(name, mtu: mtu, operation: "creating bridge \(name)", module: "bridge") { link in
            rtnl_link_set_type(link, "bridge")
        }
    }

    /// A gretap (Ethernet over GRE) port from `tunnel.local` to `tunnel.remote`, with
    /// the key in both directions when given.
    public func createGretap(_ name: String, _ tunnel: GRETunnel, mtu: UInt32?) throws(NetlinkError) {
        guard let link = rtnl_link_ipgretap_alloc() else {
            throw NetlinkError(code: -Int32(NLE_NOMEM), operation: "creating gretap \(name)")
        }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        if let mtu { rtnl_link_set_mtu(link, mtu) }
        rtnl_link_ipgre_set_local(link, tunnel.local.value.bigEndian)
        rtnl_link_ipgre_set_remote(link, tunnel.remote.value.bigEndian)
        rtnl_link_ipgre_set_ttl(link, 64)
        if let key = tunnel.key {
            let keyFlag = UInt16(0x2000).bigEndian   // GRE_KEY
            rtnl_link_ipgre_set_iflags(link, keyFlag)
            rtnl_link_ipgre_set_oflags(link, keyFlag)
            rtnl_link_ipgre_set_ikey(link, key.bigEndian)
            rtnl_link_ipgre_set_okey(link, key.bigEndian)
        }
        let rc = rtnl_link_add(handle, link, NLM_F_CREATE | NLM_F_EXCL)
        if rc < 0 { throw Self.linkError(rc, "creating gretap \(name) to \(tunnel.remote)", module: "ip_gre") }
    }

    public func deleteLink(_ name: String) throws(NetlinkError) {
        guard let link = rtnl_link_alloc() else { throw NetlinkError(code: -Int32(NLE_NOMEM), operation: "deleting \(name)") }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        let rc = rtnl_link_delete(handle, link)
        if rc < 0 && rc != -Int32(NLE_OBJ_NOTFOUND) && rc != -Int32(NLE_NODEV) {
            throw NetlinkError(code: rc, operation: "deleting link \(name)")
        }
    }

    /// Sets a link up (and its MTU when given), enslaving it to `master` when given.
    public func configureLink(index: Int32, up: Bool, mtu: UInt32? = nil, master: Int32? = nil) throws(NetlinkError) {
        guard let change = rtnl_link_alloc() else { throw NetlinkError(code: -Int32(NLE_NOMEM), operation: "changing link \(index)") }
        defer { rtnl_link_put(change) }
        if up { rtnl_link_set_flags(change, UInt32(IFF_UP.rawValue)) } else { rtnl_link_unset_flags(change, UInt32(IFF_UP.rawValue)) }
        if let mtu { rtnl_link_set_mtu(change, mtu) }
        if let master { rtnl_link_set_master(change, master) }
        guard let original = rtnl_link_alloc() else { throw NetlinkError(code: -Int32(NLE_NOMEM), operation: "changing link \(index)") }
        defer { rtnl_link_put(original) }
        rtnl_link_set_ifindex(original, index)
        let rc = rtnl_link_change(handle, original, change, 0)
        if rc < 0 { throw NetlinkError(code: rc, operation: "changing link \(index)") }
    }

    /// Bridge port isolation (IFLA_BRPORT_ISOLATED): isolated ports do not forward to
    /// each other, which is the split horizon that keeps a full mesh of tunnels free of
    /// loops and duplicate frames. libnl 3.7 has no setter, so the request is built here.
    public func setBridgePortIsolated(index: Int32, _ isolated: Bool) throws(NetlinkError) {
        guard let message = nlmsg_alloc_simple(Int32(RTM_SETLINK), 0) else {
            throw NetlinkError(code: -Int32(NLE_NOMEM), operation: "isolating port \(index)")
        }
        var info = ifinfomsg()
        info.ifi_family = UInt8(AF_BRIDGE)
        info.ifi_index = index
        var rc = nlmsg_append(message, &info, MemoryLayout<ifinfomsg>.size, Int32(NLMSG_ALIGNTO))
        if rc == 0, let nest = nla_nest_start(message, Int32(IFLA_PROTINFO) | Int32(NLA_F_NESTED)) {
            rc = nla_put_u8(message, Int32(IFLA_BRPORT_ISOLATED), isolated ? 1 : 0)
            if rc == 0 { rc = nla_nest_end(message, nest) }
        } else if rc == 0 {
            rc = -Int32(NLE_NOMEM)
        }
        guard rc == 0 else {
            nlmsg_free(message)
            throw NetlinkError(code: rc, operation: "building the isolation request for port \(index)")
        }
        rc = nl_send_sync(handle, message)   // sends, waits for the ACK, frees the message
        if rc < 0 { throw NetlinkError(code: rc, operation: "isolating bridge port \(index)") }
    }

    private func withNewLink(_ name: String, mtu: UInt32?, operation: String, module: String,
                             _ configure: (OpaquePointer) -> Int32) throws(NetlinkError) {
        guard let link = rtnl_link_alloc() else { throw NetlinkError(code: -Int32(NLE_NOMEM), operation: operation) }
        defer { rtnl_link_put(link) }
        rtnl_link_set_name(link, name)
        if let mtu { rtnl_link_set_mtu(link, mtu) }
        var rc = configure(link)
        if rc >= 0 { rc = rtnl_link_add(handle, link, NLM_F_CREATE | NLM_F_EXCL) }
        if rc < 0 { throw Self.linkError(rc, operation, module: module) }
    }

    /// A link type the kernel does not have comes back as "not supported": say which
    /// module provides it (this development machine's kernel has no GRE at all).
    static func linkError(_ rc: Int32, _ operation: String, module: String) -> NetlinkError {
        var error = NetlinkError(code: rc, operation: operation)
        if rc == -Int32(NLE_OPNOTSUPP) || rc == -Int32(NLE_NOATTR) || rc == -Int32(NLE_AF_NOSUPPORT) {
            let feature = module == "ip_gre" ? "GRE (gretap)" : module
            error.operation = "\(operation): \(feature) is not available in this kernel (modprobe \(module))"
        }
        return error
    }
}
