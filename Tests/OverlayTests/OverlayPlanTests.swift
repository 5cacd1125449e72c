import NetworkTypes
import Testing
import Config
import LinuxNet
import VRRP
@testable import Overlay

@Suite struct OverlayPlanTests {
    static func overlay(_ peers: [String], key: String = "key 42", mtu: String = "mtu auto") -> Config.Overlay {
        let text = "overlay ovc0 {\n local 172.31.18.163\n peers {\n" + peers.map { "  \($0)\n" }.joined()
            + " }\n \(key)\n address 10.200.0.1/24\n \(mtu)\n}\n"
        let report = ConfigurationLoader.load(text: text)
        precondition(report.isValid, "\(report.diagnostics)")
        return report.configuration.overlays[0]
    }

    @Test func planNamesPortsAfterPeersAndSubtractsTheEncapsulation() throws {
        let plan = try OverlayPlan.make(Self.overlay(["172.31.18.164", "172.31.18.165"]), underlayMTU: 1500)
        #expect(plan.bridge == "ovc0" && plan.mtu == 1458)   // 1500 - 38 - 4 for the key
        #expect(try OverlayPlan.make(Self.overlay(["172.31.18.164"], key: ""), underlayMTU: 1500).mtu == 1462)
        #expect(plan.ports.map(\.name) == ["ovc0gac1f12a4", "ovc0gac1f12a5"])
        #expect(plan.ports[0].tunnel == GRETunnel(local: IPv4Address(172, 31, 18, 163), remote: IPv4Address(172, 31, 18, 164), key: 42))
        #expect(plan.address == .init(address: IPv4Address(10, 200, 0, 1), prefixLength: 24))
        #expect(try OverlayPlan.make(Self.overlay(["172.31.18.164"], mtu: "mtu 1400"), underlayMTU: 9001).mtu == 1400)
        #expect(OverlayPlan.portName(overlay: "a-very-long-name", remote: IPv4Address(1, 2, 3, 4)).count <= 15)
    }

    static func link(_ index: Int32, _ name: String, kind: String?, master: Int32 = 0, mtu: UInt32 = 1458,
                     tunnel: GRETunnel? = nil) -> LinkInfo {
        LinkInfo(index: index, name: name, mtu: mtu, isUp: true, hasCarrier: true, hardwareAddress: [], kind: kind,
                 masterIndex: master, tunnel: tunnel, receivedPackets: 0, sentPackets: 0)
    }

    @Test func diffIsEmptyWhenTheKernelMatchesAndMinimalOtherwise() throws {
        let plan = try OverlayPlan.make(Self.overlay(["172.31.18.164", "172.31.18.165"]), underlayMTU: 1500)
        let built = [
            Self.link(1, "lo", kind: nil, mtu: 65536),
            Self.link(2, "eth0", kind: "veth", mtu: 1500),
            Self.link(3, "ovc0", kind: "bridge"),
            Self.link(4, "ovc0gac1f12a4", kind: "gretap", master: 3, tunnel: plan.ports[0].tunnel),
            Self.link(5, "ovc0gac1f12a5", kind: "gretap", master: 3, tunnel: plan.ports[1].tunnel),
        ]
        let address = InterfaceAddress(address: IPv4Address(10, 200, 0, 1), prefixLength: 24, interfaceIndex: 3)
        #expect(OverlayChanges.diff(plan, links: built, addresses: [address]).isEmpty)

        // Nothing there yet: everything is created.
        let fresh = OverlayChanges.diff(plan, links: Array(built.prefix(2)), addresses: [])
        #expect(fresh.createBridge && fresh.addPorts == plan.ports && fresh.addAddress && fresh.removePorts.isEmpty)

        // A peer removed from the file: only its tunnel goes.
        let fewer = try OverlayPlan.make(Self.overlay(["172.31.18.164"]), underlayMTU: 1500)
        let removal = OverlayChanges.diff(fewer, links: built, addresses: [address])
        #expect(removal.removePorts == ["ovc0gac1f12a5"] && removal.addPorts.isEmpty && !removal.createBridge && removal.adjust.isEmpty)

        // The key changed: both tunnels are replaced, the bridge stays.
        let rekeyed = try OverlayPlan.make(Self.overlay(["172.31.18.164", "172.31.18.165"], key: "key 7"), underlayMTU: 1500)
        let rekey = OverlayChanges.diff(rekeyed, links: built, addresses: [address])
        #expect(rekey.removePorts.count == 2 && rekey.addPorts.count == 2 && !rekey.createBridge)

        // A port that fell out of the bridge is adjusted, not recreated.
        var loose = built
        loose[3].masterIndex = 0
        let adjust = OverlayChanges.diff(plan, links: loose, addresses: [address])
        #expect(adjust.adjust == ["ovc0gac1f12a4"] && adjust.addPorts.isEmpty && adjust.removePorts.isEmpty)
    }
}
