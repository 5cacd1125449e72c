/// One netlink request that moves the kernel's IPVS table towards the desired one.
public enum IPVSChange: Sendable, Hashable, CustomStringConvertible {
    case addService(IPVSService)
    case updateService(IPVSService)
    case deleteService(IPVSServiceKey)
    case addDestination(IPVSServiceKey, IPVSDestination)
    case updateDestination(IPVSServiceKey, IPVSDestination)
    case deleteDestination(IPVSServiceKey, IPVSDestinationKey)

    public var description: String {
        switch self {
        case .addService(let s): "add service \(s.key) \(s.scheduler)"
        case .updateService(let s): "update service \(s.key) \(s.scheduler)"
        case .deleteService(let k): "delete service \(k)"
        case .addDestination(let k, let d): "add \(d.key) to \(k) weight \(d.weight)"
        case .updateDestination(let k, let d): "update \(d.key) in \(k) weight \(d.weight)"
        case .deleteDestination(let k, let d): "delete \(d) from \(k)"
        }
    }
}

public enum IPVSReconciler {
    /// The smallest list of changes that turns `actual` into `desired` for the services
    /// Overcast manages. A service in the kernel that is neither desired nor in `owned`
    /// (made by someone else: ipvsadm, another tool) is left alone, and so are its real
    /// servers. A changed real server is one update, not a delete and an add, so its
    /// connections survive; only a change of forwarding method for an existing
    /// destination is sent as an update too (the kernel accepts it).
    ///
    /// Order: destinations removed first, then services removed, then services added or
    /// updated, then destinations added or updated, so no request refers to something
    /// missing.
    public static func changes(desired: IPVSTable, actual: IPVSTable, owned: Set<IPVSServiceKey>) -> [IPVSChange] {
        var removeDestinations: [IPVSChange] = []
        var removeServices: [IPVSChange] = []
        var putServices: [IPVSChange] = []
        var putDestinations: [IPVSChange] = []

        for key in actual.services.keys.sorted() where desired.services[key] == nil && owned.contains(key) {
            removeServices.append(.deleteService(key))
        }
        for key in desired.services.keys.sorted() {
            guard let wanted = desired.services[key] else { continue }
            let have = actual.services[key]
            if have == nil {
                putServices.append(.addService(wanted))
            } else if have != wanted {
                putServices.append(.updateService(wanted))
            }
            let wantedDests = desired.destinations[key] ?? [:]
            let haveDests = have == nil ? [:] : (actual.destinations[key] ?? [:])
            for destKey in haveDests.keys.sorted() where wantedDests[destKey] == nil {
                removeDestinations.append(.deleteDestination(key, destKey))
            }
            for destKey in wantedDests.keys.sorted() {
                guard let dest = wantedDests[destKey] else { continue }
                if let current = haveDests[destKey] {
                    if current != dest { putDestinations.append(.updateDestination(key, dest)) }
                } else {
                    putDestinations.append(.addDestination(key, dest))
                }
            }
        }
        return removeDestinations + removeServices + putServices + putDestinations
    }

    /// What the kernel holds once `changes(desired:actual:owned:)` has been applied:
    /// the services in `owned` as desired (or gone), everyone else's as they were.
    public static func applying(desired: IPVSTable, to actual: IPVSTable, owned: Set<IPVSServiceKey>) -> IPVSTable {
        var result = actual
        for key in actual.services.keys where desired.services[key] == nil && owned.contains(key) {
            result.services[key] = nil
            result.destinations[key] = nil
        }
        for (key, service) in desired.services {
            result.services[key] = service
            result.destinations[key] = desired.destinations[key] ?? [:]
        }
        return result
    }
}
