import Config

/// From `virtual_server` blocks and the health of their real servers to the IPVS table
/// the kernel should hold, with keepalived's rules:
/// - a failed real server is removed, or kept with weight 0 when `inhibit_on_failure`;
/// - `quorum` is the least total weight of live servers; with `hysteresis` H the quorum
///   is lost below quorum - H and regained at quorum + H; while it is lost the
///   `sorry_server` joins the pool (weight 1);
/// - a `virtual_server group` expands to one service per member (address ranges too).
public enum DesiredTable {
    /// The table, and each virtual server's quorum state to carry to the next call.
    /// `weight` overrides a live server's configured weight (MISC_CHECK's misc_dynamic).
    public static func build(_ config: OvercastConfiguration, alive: (RealServerID) -> Bool,
                             weight: (RealServerID) -> Int? = { _ in nil },
                             quorumWasUp: [Int: Bool] = [:]) -> (IPVSTable, quorumUp: [Int: Bool]) {
        var table = IPVSTable()
        var quorum: [Int: Bool] = [:]
        let groups = Dictionary(config.virtualServerGroups.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (index, vs) in config.virtualServers.enumerated() {
            let proto = IPVSProtocol(rawValue: vs.protocolName) ?? .tcp
            let forwarding = IPVSForwarding(rawValue: vs.forwardingMethod) ?? .nat
            var servicePort: UInt16 = 0
            var dests: [IPVSDestination] = []
            var liveWeight = 0
            if case .address(_, let port) = vs.key { servicePort = UInt16(clamping: port) }
            for real in vs.realServers {
                let port = UInt16(clamping: real.port ?? Int(servicePort))
                let id = RealServerID(virtualServer: index, address: real.address, port: port)
                let up = alive(id)
                let effectiveWeight = weight(id) ?? real.weight
                if up { liveWeight += effectiveWeight }
                guard up || real.inhibitOnFailure else { continue }
                dests.append(IPVSDestination(
                    key: IPVSDestinationKey(address: real.address, port: port),
                    forwarding: real.forwardingMethod.flatMap(IPVSForwarding.init(rawValue:)) ?? forwarding,
                    weight: up ? UInt32(clamping: effectiveWeight) : 0,
                    upperThreshold: UInt32(clamping: real.upperThreshold ?? 0),
                    lowerThreshold: UInt32(clamping: real.lowerThreshold ?? 0)))
            }
            let wasUp = quorumWasUp[index] ?? true
            let isUp = wasUp ? liveWeight >= vs.quorum - vs.hysteresis : liveWeight >= vs.quorum + vs.hysteresis
            quorum[index] = isUp
            if !isUp, let sorry = vs.sorryServer {
                let port = UInt16(clamping: sorry.port ?? Int(servicePort))
                dests.append(IPVSDestination(key: IPVSDestinationKey(address: sorry.address, port: port),
                                             forwarding: forwarding, weight: 1))
            }
            for key in serviceKeys(vs, proto: proto, groups: groups) {
                let service = IPVSService(key: key, scheduler: vs.scheduler,
                                          persistenceTimeout: vs.persistenceTimeout.map { UInt32(clamping: $0) },
                                          persistenceNetmask: vs.persistenceGranularity.flatMap(netmask))
                // A group member without a port (fwmark) keeps the real servers' ports.
                table.add(service, dests)
            }
        }
        return (table, quorum)
    }

    static func serviceKeys(_ vs: VirtualServer, proto: IPVSProtocol,
                            groups: [String: VirtualServerGroup]) -> [IPVSServiceKey] {
        switch vs.key {
        case .address(let address, let port):
            return [.address(proto, address, port: UInt16(clamping: port))]
        case .fwmark(let mark):
            return [.fwmark(UInt32(clamping: mark), ipv6: false)]
        case .group(let name):
            guard let group = groups[name] else { return [] }
            return group.members.flatMap { member -> [IPVSServiceKey] in
                if let mark = member.fwmark { return [.fwmark(UInt32(clamping: mark), ipv6: false)] }
                guard let address = member.address, let port = member.port else { return [] }
                return expand(address, to: member.rangeEnd).map { .address(proto, $0, port: UInt16(clamping: port)) }
            }
        }
    }

    /// `a.b.c.d` with a range end `e` gives a.b.c.d ... a.b.c.e.
    static func expand(_ address: String, to end: Int?) -> [String] {
        guard let end else { return [address] }
        let parts = address.split(separator: ".")
        guard parts.count == 4, let first = Int(parts[3]), first <= end, end <= 255 else { return [address] }
        let prefix = parts[0...2].joined(separator: ".")
        return (first...end).map { "\(prefix).\($0)" }
    }

    /// `persistence_granularity` as the kernel's netmask value.
    static func netmask(_ text: String) -> UInt32? {
        if let length = UInt32(text), length <= 128 { return length <= 32 ? (length == 0 ? 0 : ~UInt32(0) << (32 - length)) : length }
        let octets = text.split(separator: ".").compactMap { UInt32($0) }
        guard octets.count == 4 else { return nil }
        return octets.reduce(0) { $0 << 8 | $1 }
    }
}
