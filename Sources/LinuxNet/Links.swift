import CNetlink
import NetworkTypes

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
    /// The link kind (`bridge`, `gretap`, `veth`...), nil for plain devices.
    public var kind: String?
    /// The bridge this link is a port of, 0 for none.
    public var masterIndex: Int32
    /// For gretap links: the tunnel's endpoints and key.
    public var tunnel: GRETunnel?
    public var receivedPackets: UInt64
    public var sentPackets: UInt64

    public init(index: Int32, name: String, mtu: UInt32, isUp: Bool, hasCarrier: Bool, hardwareAddress: [UInt8],
                kind: String? = nil, masterIndex: Int32 = 0, tunnel: GRETunnel? = nil,
                receivedPackets: UInt64 = 0, sentPackets: UInt64 = 0) {
        self.index = index
        self.name = name
        self.mtu = mtu
        self.isUp = isUp
        self.hasCarrier = hasCarrier
        self.hardwareAddress = hardwareAddress
        self.kind = kind
        self.masterIndex = masterIndex
        self.tunnel = tunnel
        self.receivedPackets = receivedPackets
        self.sentPackets = sentPackets
    }
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
            let kind = rtnl_link_get_type(link).map { String(cString: $0) }
            var tunnel: GRETunnel?
            if kind == "gretap" {
                let keyed = rtnl_link_ipgre_get_iflags(link) & UInt16(0x2000).bigEndian != 0
                tunnel = GRETunnel(local: IPv4Address(UInt32(bigEndian: rtnl_link_ipgre_get_local(link))),
                                   remote: IPv4Address(UInt32(bigEndian: rtnl_link_ipgre_get_remote(link))),
                                   key: keyed ? UInt32(bigEndian: rtnl_link_ipgre_get_ikey(link)) : nil)
            }
            result.append(LinkInfo(index: rtnl_link_get_ifindex(link), name: name, mtu: rtnl_link_get_mtu(link),
                                   isUp: up, hasCarrier: up && carrier, hardwareAddress: mac, kind: kind,
                                   masterIndex: Int32(rtnl_link_get_master(link)), tunnel: tunnel,
                                   receivedPackets: rtnl_link_get_stat(link, RTNL_LINK_RX_PACKETS),
                                   sentPackets: rtnl_link_get_stat(link, RTNL_LINK_TX_PACKETS)))
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
