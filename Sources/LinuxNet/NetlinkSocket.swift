import CNetlink

/// A libnl error: the negative code libnl returned and its own text for it, plus what
/// Overcast was doing, so a log line says both.
public struct NetlinkError: Error, CustomStringConvertible, Sendable {
    public var code: Int32
    public var operation: String
    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }
    public var message: String { String(cString: nl_geterror(code)) }
    public var description: String { "\(operation): \(message) (libnl error \(-code))" }
}

/// The netlink protocol families Overcast talks to.
public enum NetlinkProtocol: Sendable {
    /// NETLINK_ROUTE: links, addresses, neighbours.
    case route
    /// NETLINK_GENERIC: IPVS and other generic families.
    case generic

    var number: Int32 {
        switch self {
        case .route: 0   // NETLINK_ROUTE
        case .generic: 16 // NETLINK_GENERIC
        }
    }
}

/// One connected libnl socket. The handle is freed in `deinit`; no libnl type leaves
/// this module.
public final class NetlinkSocket {
    let handle: OpaquePointer

    public static var libraryVersion: String { String(cString: overcast_libnl_version()) }

    /// A socket for requests; with `groups`, one that receives those multicast groups'
    /// notifications instead (no sequence checks, non-blocking).
    public init(_ proto: NetlinkProtocol, subscribing groups: [UInt32] = []) throws(NetlinkError) {
        guard let socket = nl_socket_alloc() else {
            throw NetlinkError(code: -Int32(NLE_NOMEM), operation: "nl_socket_alloc")
        }
        if !groups.isEmpty { nl_socket_disable_seq_check(socket) }
        var rc = nl_connect(socket, proto.number)
        for group in groups where rc == 0 { rc = nl_socket_add_membership(socket, Int32(group)) }
        if rc == 0 && !groups.isEmpty { rc = nl_socket_set_nonblocking(socket) }
        guard rc == 0 else {
            nl_socket_free(socket)
            throw NetlinkError(code: rc, operation: groups.isEmpty ? "connecting a netlink socket" : "subscribing to netlink groups \(groups)")
        }
        handle = socket
    }

    deinit { nl_socket_free(handle) }

    /// The port id the kernel gave this socket; non-zero once connected.
    public var localPort: UInt32 { nl_socket_get_local_port(handle) }
}
