import CLinux
import CNetlink
#if canImport(Glibc)
import Glibc
#endif

/// A route netlink socket subscribed to link changes (RTNLGRP_LINK): readable whenever
/// an interface goes up or down, gains or loses its carrier. Link tracking waits on it
/// instead of polling the link table, so an idle daemon does no work and a link going
/// down is seen at once. The messages are only a wake-up: the reader drains them and
/// reads the table, which also covers notifications lost to a full socket buffer.
public final class LinkEvents: @unchecked Sendable {
    private let socket: NetlinkSocket

    public init() throws(NetlinkError) {
        socket = try NetlinkSocket(.route, subscribing: [RTNLGRP_LINK.rawValue])
    }

    /// Subscribed to other route netlink groups (RTNLGRP_*), the same wake-up.
    public init(groups: [rtnetlink_groups]) throws(NetlinkError) {
        socket = try NetlinkSocket(.route, subscribing: groups.map(\.rawValue))
    }

    /// Links and IPv4 addresses: `track_src_ip` needs to see an address go as well.
    public static func linksAndAddresses() throws(NetlinkError) -> LinkEvents {
        try LinkEvents(groups: [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR])
    }

    /// IPv4 and IPv6 addresses: `ha_suspend` waits for a virtual server's address to be
    /// local (read with `localAddressBytes`).
    public static func addresses() throws(NetlinkError) -> LinkEvents {
        try LinkEvents(groups: [RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR])
    }

    /// IPv4 addresses, routes and rules: what a MASTER or the static state put in and
    /// someone may delete (`KernelWatch`).
    public static func ipv4Tables() throws(NetlinkError) -> LinkEvents {
        try LinkEvents(groups: [RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV4_RULE])
    }

    /// For poll: readable when notifications wait.
    public var descriptor: Int32 { nl_socket_get_fd(socket.handle) }

    /// Discards every waiting notification; true when there was any (or the buffer
    /// overflowed, which means some were lost: read the table either way).
    @discardableResult
    public func drain() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16384)
        var any = false
        let fd = descriptor
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 { any = true; continue }
            if count < 0 && errno == ENOBUFS { any = true; continue }
            if count < 0 && errno == EINTR { continue }
            return any
        }
    }
}
