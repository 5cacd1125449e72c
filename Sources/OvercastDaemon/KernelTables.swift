import LinuxNet
import NetworkTypes

/// The IPv4 addresses, routes and rules in the kernel at one reading, and whether an
/// entry Overcast put in is among them. An entry is matched by what identifies it in
/// the kernel (an address on its interface; a route's table, type, destination, TOS and
/// metric; a rule's selectors, priority and action), not by every attribute: the kernel
/// fills in some (a route's scope, a rule's protocol) that the configuration left out.
struct KernelTables: Sendable {
    var addresses: [InterfaceAddress]
    var routes: [KernelRoute]
    var rules: [PolicyRule]

    static func read(through netlink: NetlinkSocket) throws(NetlinkError) -> KernelTables {
        KernelTables(addresses: try netlink.addresses(), routes: try netlink.routes(), rules: try netlink.rules())
    }

    func contains(_ address: InterfaceAddress) -> Bool {
        addresses.contains {
            $0.address == address.address && $0.prefixLength == address.prefixLength && $0.interfaceIndex == address.interfaceIndex
        }
    }

    func contains(_ route: KernelRoute) -> Bool {
        routes.contains {
            $0.table == route.table && $0.type == route.type && $0.destination == route.destination && $0.tos == route.tos
                && ($0.metric ?? 0) == (route.metric ?? 0)
        }
    }

    func contains(_ rule: PolicyRule) -> Bool {
        rules.contains {
            $0.action == rule.action && $0.from == rule.from && $0.to == rule.to && $0.inputInterface == rule.inputInterface
                && $0.outputInterface == rule.outputInterface && $0.fwmark == rule.fwmark && $0.tos == rule.tos
                && (rule.priority == nil || $0.priority == rule.priority)
        }
    }

    /// The tracked entries of `state` that are not in the kernel (`no_track` ones never).
    func missing(from state: KernelState) -> KernelState {
        KernelState(addresses: state.addresses.filter { $0.track && !contains($0.value) },
                    routes: state.routes.filter { $0.track && !contains($0.value) },
                    rules: state.rules.filter { $0.track && !contains($0.value) })
    }

    /// Whether `address` is on any interface (`track_src_ip`).
    func hasAddress(_ address: IPv4Address) -> Bool { addresses.contains { $0.address == address } }
}

extension KernelState {
    /// The configuration's words for the first entry, for a log line or event.
    var firstText: String? { addresses.first?.text ?? routes.first?.text ?? rules.first?.text }
}
