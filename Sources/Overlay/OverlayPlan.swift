import Config
import LinuxNet
import NetworkTypes
import VRRP

/// What `overlay NAME { ... }` means on this node, computed without touching the
/// kernel: a bridge NAME with the node's overlay address, and one gretap port per peer.
/// Ethernet over GRE over IPv4 adds 38 bytes (outer IPv4 20, GRE header 4, inner
/// Ethernet 14) and 4 more with a GRE key, so the overlay MTU is the underlay's minus 38
/// (or 42 with a key) unless given: no tunnelled frame then needs fragmenting.
public struct OverlayPlan: Sendable, Hashable {
    public struct Port: Sendable, Hashable {
        public var name: String
        public var tunnel: GRETunnel
    }

    public static let encapsulationOverhead: UInt32 = 38
    public static let keyOverhead: UInt32 = 4

    public var bridge: String
    public var mtu: UInt32
    public var address: InterfaceAddressSpec
    public var ports: [Port]

    /// The overlay address as configured (interface index unknown until the bridge exists).
    public struct InterfaceAddressSpec: Sendable, Hashable {
        public var address: IPv4Address
        public var prefixLength: Int
    }

    public struct PlanError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Port names are derived from the peer, so the same file always gives the same
    /// names and `up` can tell its own ports: the overlay name's first 5 characters,
    /// "g", and the peer address in hex (at most 14 characters, an interface name's 15).
    public static func portName(overlay: String, remote: IPv4Address) -> String {
        let hex = String(remote.value, radix: 16)
        return String(overlay.prefix(5)) + "g" + String(repeating: "0", count: 8 - hex.count) + hex
    }

    public static func make(_ overlay: Overlay, underlayMTU: UInt32) throws(PlanError) -> OverlayPlan {
        guard let local = overlay.local else {
            throw PlanError(description: "overlay \(overlay.name): no local address")
        }
        guard let addressText = overlay.address else {
            throw PlanError(description: "overlay \(overlay.name): no address")
        }
        let parts = addressText.split(separator: "/")
        guard parts.count == 2, let address = IPv4Address(parts[0]), let length = Int(parts[1]) else {
            throw PlanError(description: "overlay \(overlay.name): bad address \(addressText)")
        }
        let overhead = encapsulationOverhead + (overlay.key == nil ? 0 : keyOverhead)
        let mtu = overlay.mtu.map(UInt32.init) ?? (underlayMTU - overhead)
        let ports = overlay.peers.map { remote in
            Port(name: portName(overlay: overlay.name, remote: remote),
                 tunnel: GRETunnel(local: local, remote: remote, key: overlay.key))
        }
        return OverlayPlan(bridge: overlay.name, mtu: mtu,
                           address: InterfaceAddressSpec(address: address, prefixLength: length), ports: ports)
    }

    /// Whether `link` is one of this overlay's ports (made by an earlier `up`, perhaps
    /// for a peer that has since been removed from the file).
    public func owns(_ link: LinkInfo, bridgeIndex: Int32?) -> Bool {
        guard link.kind == "gretap" else { return false }
        return (bridgeIndex != nil && link.masterIndex == bridgeIndex)
            || link.name.hasPrefix(String(bridge.prefix(5)) + "g")
    }
}

/// The smallest set of changes from the kernel's state to a plan.
public struct OverlayChanges: Sendable, Hashable {
    public var createBridge = false
    public var removePorts: [String] = []
    public var addPorts: [OverlayPlan.Port] = []
    /// Existing ports or the bridge whose MTU, master, isolation or up state is off.
    public var adjust: [String] = []
    public var addAddress = false

    public var isEmpty: Bool {
        !createBridge && removePorts.isEmpty && addPorts.isEmpty && adjust.isEmpty && !addAddress
    }

    /// Compares the plan with the links and addresses the kernel reports.
    public static func diff(_ plan: OverlayPlan, links: [LinkInfo], addresses: [InterfaceAddress]) -> OverlayChanges {
        var changes = OverlayChanges()
        let bridge = links.first { $0.name == plan.bridge }
        changes.createBridge = bridge == nil
        if let bridge, bridge.mtu != plan.mtu || !bridge.isUp { changes.adjust.append(bridge.name) }
        let wanted = Dictionary(plan.ports.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for link in links where plan.owns(link, bridgeIndex: bridge?.index) {
            guard let port = wanted[link.name], link.tunnel == port.tunnel else {
                changes.removePorts.append(link.name)
                continue
            }
            if link.mtu != plan.mtu || !link.isUp || link.masterIndex != bridge?.index { changes.adjust.append(link.name) }
        }
        let present = Set(links.filter { plan.owns($0, bridgeIndex: bridge?.index) }.map(\.name)).subtracting(changes.removePorts)
        changes.addPorts = plan.ports.filter { !present.contains($0.name) }
        changes.addAddress = !addresses.contains {
            $0.interfaceIndex == bridge?.index && $0.address == plan.address.address && $0.prefixLength == plan.address.prefixLength
        }
        return changes
    }
}
