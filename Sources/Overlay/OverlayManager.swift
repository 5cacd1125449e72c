import Config
import LinuxNet
import NetworkTypes
import VRRP

/// Builds, removes and reports a GRE overlay through netlink. Used by `overcast overlay`
/// and by the daemon at start, so both build exactly the same thing.
public struct OverlayManager {
    private let netlink: NetlinkSocket

    public init() throws(NetlinkError) {
        netlink = try NetlinkSocket(.route)
    }

    /// The MTU of the interface that holds `local`: the underlay the tunnels ride on.
    func underlayMTU(_ overlay: Overlay) throws -> UInt32 {
        guard let local = overlay.local else {
            throw OverlayPlan.PlanError(description: "overlay \(overlay.name): no local address")
        }
        let links = try netlink.links()
        guard let holder = try netlink.addresses().first(where: { $0.address == local }),
              let link = links.first(where: { $0.index == holder.interfaceIndex }) else {
            throw OverlayPlan.PlanError(description: "overlay \(overlay.name): local \(local) is not an address of this node")
        }
        return link.mtu
    }

    public func plan(_ overlay: Overlay) throws -> OverlayPlan {
        try OverlayPlan.make(overlay, underlayMTU: try underlayMTU(overlay))
    }

    /// Brings the overlay to its plan; returns what was changed (empty when nothing was).
    @discardableResult
    public func up(_ overlay: Overlay) throws -> [String] {
        let plan = try plan(overlay)
        let changes = OverlayChanges.diff(plan, links: try netlink.links(), addresses: try netlink.addresses())
        guard !changes.isEmpty else { return [] }
        var done: [String] = []
        for name in changes.removePorts {
            try netlink.deleteLink(name)
            done.append("removed tunnel \(name)")
        }
        // Tunnels before the bridge: on a kernel without GRE the first one fails and
        // nothing has been made.
        for port in changes.addPorts {
            try netlink.createGretap(port.name, port.tunnel, mtu: plan.mtu)
            done.append("created tunnel \(port.name) to \(port.tunnel.remote)")
        }
        if changes.createBridge {
            try netlink.createBridge(plan.bridge, mtu: plan.mtu)
            done.append("created bridge \(plan.bridge) (mtu \(plan.mtu))")
        }
        let links = try netlink.links()
        guard let bridge = links.first(where: { $0.name == plan.bridge }) else {
            throw OverlayPlan.PlanError(description: "bridge \(plan.bridge) vanished while being configured")
        }
        for port in plan.ports {
            guard let link = links.first(where: { $0.name == port.name }) else { continue }
            if changes.adjust.contains(port.name) || changes.addPorts.contains(port) {
                try netlink.configureLink(index: link.index, up: true, mtu: plan.mtu, master: bridge.index)
                try netlink.setBridgePortIsolated(index: link.index, true)
                if !changes.addPorts.contains(port) { done.append("adjusted tunnel \(port.name)") }
            }
        }
        if changes.createBridge || changes.adjust.contains(plan.bridge) {
            try netlink.configureLink(index: bridge.index, up: true, mtu: plan.mtu)
            if !changes.createBridge { done.append("adjusted bridge \(plan.bridge)") }
        }
        if changes.addAddress {
            try netlink.addAddress(InterfaceAddress(address: plan.address.address, prefixLength: plan.address.prefixLength,
                                                    interfaceIndex: bridge.index))
            done.append("added \(plan.address.address)/\(plan.address.prefixLength) to \(plan.bridge)")
        }
        return done
    }

    /// Removes the overlay's ports and bridge: exactly what `up` made.
    @discardableResult
    public func down(_ overlay: Overlay) throws -> [String] {
        let links = try netlink.links()
        let bridge = links.first { $0.name == overlay.name && $0.kind == "bridge" }
        let plan = OverlayPlan(bridge: overlay.name, mtu: 0, address: .init(address: IPv4Address(0), prefixLength: 0), ports: [])
        var done: [String] = []
        for link in links where plan.owns(link, bridgeIndex: bridge?.index) {
            try netlink.deleteLink(link.name)
            done.append("removed tunnel \(link.name)")
        }
        if let bridge {
            try netlink.deleteLink(bridge.name)
            done.append("removed bridge \(bridge.name)")
        }
        return done
    }

    public struct TunnelStatus: Sendable, Codable {
        public var name: String
        public var peer: String
        public var up: Bool
        public var receivedPackets: UInt64
        public var sentPackets: UInt64
        /// Frames came back from the peer: the tunnel works in both directions.
        public var flowing: Bool { receivedPackets > 0 }
    }

    public func status(_ overlay: Overlay) throws -> (bridgeUp: Bool?, tunnels: [TunnelStatus], missing: [String]) {
        let links = try netlink.links()
        let bridge = links.first { $0.name == overlay.name && $0.kind == "bridge" }
        let plan = try? plan(overlay)
        let owned = links.filter { ($0.kind == "gretap") && ($0.masterIndex == bridge?.index && bridge != nil) }
        let tunnels = owned.map {
            TunnelStatus(name: $0.name, peer: $0.tunnel?.remote.description ?? "?", up: $0.hasCarrier || $0.isUp,
                         receivedPackets: $0.receivedPackets, sentPackets: $0.sentPackets)
        }
        let missing = (plan?.ports ?? []).filter { port in !owned.contains { $0.name == port.name } }.map { $0.tunnel.remote.description }
        return (bridge.map(\.isUp), tunnels, missing)
    }
}
