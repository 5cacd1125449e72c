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
            self.addresses.append(Entry(value: InterfaceAddress(address, interfaceIndex: link.index), text: text,
                                        track: !address.noTrack))
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
            self.routes.append(Entry(value: kernel, text: route.text, track: !route.noTrack))
        }
        self.rules = rules.map { Entry(value: $0.rule, text: $0.text, track: !$0.noTrack) }
    }
}

extension KernelState {
    /// The static state: entries whose interface this host lacks are left out and named
    /// (keepalived logs them and goes on), so one missing interface never stops the
    /// daemon from starting or a reload from taking effect.
    static func available(addresses: [VirtualAddress], routes: [VirtualRoute], rules: [VirtualRule], defaultDevice: String,
                          links: [LinkInfo], what: String) -> (state: KernelState, skipped: [String]) {
        let names = Set(links.map(\.name))
        var skipped: [String] = []
        let usable = addresses.filter { address in
            let device = address.device ?? defaultDevice
            if names.contains(device) { return true }
            skipped.append("\(address.location): \(what) \(address.address)/\(address.prefixLength): dev \(device) does not exist")
            return false
        }
        let routable = routes.filter { route in
            let devices = ([route.device] + route.nextHops.map { $0.device ?? route.device }).compactMap { $0 }
            guard let missing = devices.first(where: { !names.contains($0) }) else { return true }
            skipped.append("\(route.location): \(what) \(route.text): dev \(missing) does not exist")
            return false
        }
        // Every device left names a link, so resolving cannot fail.
        let state = (try? KernelState(addresses: usable, routes: routable, rules: rules, defaultDevice: defaultDevice,
                                      links: links, what: what)) ?? KernelState()
        return (state, skipped)
    }
}

extension InterfaceAddress {
    /// A configured address on the interface it resolved to.
    init(_ vip: VirtualAddress, interfaceIndex: Int32) {
        self.init(address: vip.address, prefixLength: vip.prefixLength, interfaceIndex: interfaceIndex, label: vip.label,
                  scope: vip.scope.flatMap(InterfaceAddress.scope(named:)) ?? 0, broadcast: vip.broadcast)
    }
}
