import Config
import LinuxNet
import NetworkTypes

/// The configuration's addresses, routes and rules resolved against this host's
/// interfaces. An address without `dev` goes to `defaultDevice`, as keepalived does: the
/// instance's interface for a MASTER's, `default_interface` for a static one. A route
/// without `dev` gets none, as keepalived does (the kernel picks it from the gateway).
extension KernelState {
    struct ResolutionError: Error, CustomStringConvertible {
        var description: String
    }

    init(addresses: [VirtualAddress], routes: [VirtualRoute], rules: [VirtualRule], defaultDevice: String,
         links: [LinkInfo], what: String) throws(ResolutionError) {
        func index(_ device: String, _ location: SourceLocation, _ text: String) throws(ResolutionError) -> LinkInfo {
            guard let link = links.first(where: { $0.name == device }) else {
                throw ResolutionError(description: "\(location): \(what) \(text): dev \(device) does not exist")
            }
            return link
        }
        for address in addresses {
            let text = "\(address.address)/\(address.prefixLength)"
            let link = try index(address.device ?? defaultDevice, address.location, text)
            self.addresses.append(Entry(value: InterfaceAddress(address, interfaceIndex: link.index), text: text))
        }
        for route in routes {
            var kernel = KernelRoute(type: route.type, destination: route.destination, source: route.source,
                                     gateway: route.gateway, scope: route.scope, table: route.table, metric: route.metric,
                                     tos: route.tos,
                                     protocolNumber: route.protocolNumber, onLink: route.onLink)
            if let device = route.device { kernel.interfaceIndex = try index(device, route.location, route.text).index }
            for hop in route.nextHops {
                var resolved = KernelRoute.NextHop(gateway: hop.gateway, weight: hop.weight, onLink: hop.onLink)
                if let device = hop.device ?? route.device { resolved.interfaceIndex = try index(device, route.location, route.text).index }
                kernel.nextHops.append(resolved)
            }
            if !kernel.nextHops.isEmpty { kernel.interfaceIndex = nil }
            self.routes.append(Entry(value: kernel, text: route.text))
        }
        self.rules = rules.map { Entry(value: $0.rule, text: $0.text) }
    }
}

extension InterfaceAddress {
    /// A configured address on the interface it resolved to.
    init(_ vip: VirtualAddress, interfaceIndex: Int32) {
        self.init(address: vip.address, prefixLength: vip.prefixLength, interfaceIndex: interfaceIndex, label: vip.label,
                  scope: vip.scope.flatMap(InterfaceAddress.scope(named:)) ?? 0, broadcast: vip.broadcast)
    }
}
