import NetworkTypes

/// Cross-block checks of the addresses, routes and rules besides the VIPs: an address
/// owned twice moves (or stays) against the operator's intent, so it is an error; an
/// interface this host lacks is a warning, as for the instance's own interface, since
/// configurations are often checked on another machine.
extension Validator {
    mutating func validateRouting() {
        var owners: [IPv4Address: String] = [:]
        for instance in config.instances {
            for vip in instance.virtualIPAddresses { owners[vip.address] = owners[vip.address] ?? "vrrp_instance \(instance.name)" }
        }
        for instance in config.instances {
            let here = "vrrp_instance \(instance.name)"
            for address in instance.virtualIPAddressesExcluded {
                if let other = owners[address.address] {
                    reader.error(address.location, "excluded address \(address.address) is also managed by \(other)")
                }
                owners[address.address] = here
                checkDevice(address.device, at: address.location, what: "virtual_ipaddress_excluded \(address.address)")
            }
            for route in instance.virtualRoutes { checkDevices(route, what: "route") }
        }
        for address in config.staticAddresses {
            if let other = owners[address.address] {
                reader.error(address.location, "static address \(address.address) is also managed by \(other) (a static address is never removed, so it would stay on every node)")
            }
            checkDevice(address.device ?? config.globalDefs.defaultInterface, at: address.location, what: "static_ipaddress \(address.address)")
        }
        // The kernel knows a route by its destination, tos, metric and table: one that is
        // both static and a MASTER's would be deleted from every node leaving MASTER.
        func identity(_ r: VirtualRoute) -> String { "\(r.type) \(r.destination) tos \(r.tos ?? 0) metric \(r.metric ?? 0) table \(r.table)" }
        var virtualRoutes: [String: String] = [:], virtualRules: [PolicyRule: String] = [:]
        for instance in config.instances {
            for route in instance.virtualRoutes { virtualRoutes[identity(route)] = "vrrp_instance \(instance.name)" }
            for rule in instance.virtualRules { virtualRules[rule.rule] = "vrrp_instance \(instance.name)" }
        }
        for route in config.staticRoutes {
            checkDevices(route, what: "static route")
            if let other = virtualRoutes[identity(route)] {
                reader.error(route.location, "static route \(route.text) is also a virtual route of \(other) (leaving MASTER would delete it)")
            }
        }
        for rule in config.staticRules {
            if let other = virtualRules[rule.rule] {
                reader.error(rule.location, "static rule \(rule.text) is also a virtual rule of \(other) (leaving MASTER would delete it)")
            }
        }
    }

    private mutating func checkDevices(_ route: VirtualRoute, what: String) {
        for device in Set([route.device] + route.nextHops.map(\.device)).compactMap({ $0 }).sorted() {
            checkDevice(device, at: route.location, what: "\(what) \(route.text)")
        }
    }

    private mutating func checkDevice(_ device: String?, at location: SourceLocation, what: String) {
        guard let device, let host = hostInterfaces, !host.contains(device) else { return }
        reader.warning(location, "\(what): interface \(device) does not exist on this host")
    }
}
