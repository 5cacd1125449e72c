import Config
import Foundation

/// keepalived's health-check lines for the notify FIFOs (its notify_fifo_vs and
/// notify_fifo_rs), so a reader written for keepalived's `lvs_notify_fifo` reads ours:
///
///     VS [10.0.0.1]:tcp:80 UP
///     VS FWM 3 DOWN
///     RS [10.0.0.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN
enum CheckerFIFOLines {
    /// A virtual server gained (UP) or lost (DOWN) its quorum.
    static func virtualServer(_ vs: VirtualServer, up: Bool) -> String {
        "VS \(label(vs)) \(up ? "UP" : "DOWN")"
    }

    /// A real server of `vs` went up or down.
    static func realServer(address: String, port: Int, of vs: VirtualServer, up: Bool) -> String {
        "RS \(trio(address, vs.protocolName, port)) \(label(vs)) \(up ? "UP" : "DOWN")"
    }

    /// keepalived's format_vs: the address trio, `FWM N`, or `[GROUP]:0` for a
    /// virtual_server_group (whose own address has no port).
    static func label(_ vs: VirtualServer) -> String {
        switch vs.key {
        case .address(let address, let port): trio(address, vs.protocolName, port)
        case .fwmark(let mark): "FWM \(mark)"
        case .group(let name): "[\(name)]:0"
        }
    }

    /// keepalived's inet_sockaddrtotrio: `[ADDRESS]:proto:PORT`.
    static func trio(_ address: String, _ protocolName: String, _ port: Int) -> String {
        let proto = ["TCP": "tcp", "UDP": "udp", "SCTP": "sctp"][protocolName.uppercased()] ?? "?"
        return "[\(address)]:\(proto):\(port)"
    }
}

/// The virtual servers of the configuration in effect, for the FIFO lines: a health
/// change names its virtual server by index, read on the checkers' threads while a
/// reload may replace the list.
final class VirtualServerTable: @unchecked Sendable {
    private let lock = NSLock()
    private var servers: [VirtualServer] = []

    func set(_ servers: [VirtualServer]) { lock.withLock { self.servers = servers } }

    func value(at index: Int) -> VirtualServer? {
        lock.withLock { servers.indices.contains(index) ? servers[index] : nil }
    }
}
