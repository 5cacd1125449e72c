@testable import Config
import LinuxNet
import NetworkTypes
import Testing
@testable import OvercastDaemon

/// The set arithmetic behind a reload of the MASTER's and the static kernel state, and
/// the defaults of resolution (an address without `dev`: the default device; a route: none).
@Suite struct KernelStateTests {
    static let here = SourceLocation(file: "k.conf", line: 1, column: 1)
    static let links = [("eth0", 2), ("eth1", 3)].map { name, index in
        LinkInfo(index: Int32(index), name: name, mtu: 1500, isUp: true, hasCarrier: true, hardwareAddress: [2, 0, 0, 0, 0, UInt8(index)])
    }

    static func route(_ text: String) throws -> VirtualRoute {
        var reader = ValueReader()
        var source = ConfigSource()
        let line = try #require(source.parse(text: text, file: "k.conf").first)
        let route = try #require(RoutingKeywords.route(line, &reader), "\(reader.diagnostics)")
        return route
    }

    @Test func resolutionGivesADeviceOnlyToRoutesThatNameOne() throws {
        let state = try KernelState(addresses: [], routes: [try Self.route("10.1.0.0/16 via 10.0.0.1"),
                                                            try Self.route("10.2.0.0/16 dev eth1"),
                                                            try Self.route("blackhole 10.3.0.0/16")],
                                    rules: [], defaultDevice: "eth0", links: Self.links, what: "test")
        #expect(state.routes.map(\.value.interfaceIndex) == [nil, 3, nil], "keepalived leaves the kernel to pick it")
        #expect(state.routes.map(\.text) == ["10.1.0.0/16 via 10.0.0.1", "10.2.0.0/16 dev eth1", "blackhole 10.3.0.0/16"])
        #expect(throws: KernelState.ResolutionError.self) {
            try KernelState(addresses: [], routes: [try Self.route("10.4.0.0/16 dev eth9")], rules: [],
                            defaultDevice: "eth0", links: Self.links, what: "test")
        }
    }

    /// Static entries on an interface this host lacks are left out and named; the rest
    /// still go in (a missing interface never stops a start or a reload).
    @Test func staticEntriesOnMissingInterfacesAreLeftOutAndNamed() throws {
        let address = VirtualAddress(address: IPv4Address(10, 0, 0, 5), prefixLength: 24, device: "eth7", location: Self.here)
        let kept = VirtualAddress(address: IPv4Address(10, 0, 0, 6), prefixLength: 24, location: Self.here)
        let (state, skipped) = KernelState.available(
            addresses: [address, kept], routes: [try Self.route("10.4.0.0/16 dev eth9"), try Self.route("10.2.0.0/16 dev eth1")],
            rules: [], defaultDevice: "eth0", links: Self.links, what: "static")
        #expect(state.addresses.map(\.text) == ["10.0.0.6/24"] && state.routes.map(\.text) == ["10.2.0.0/16 dev eth1"])
        #expect(skipped == ["k.conf:1:1: static 10.0.0.5/24: dev eth7 does not exist",
                            "k.conf:1:1: static 10.4.0.0/16 dev eth9: dev eth9 does not exist"])
    }

    @Test func subtractingComparesKernelValuesNotTheirText() throws {
        let a = try KernelState(addresses: [], routes: [try Self.route("10.1.0.0/16 via 10.0.0.1"), try Self.route("10.2.0.0/16")],
                                rules: [], defaultDevice: "eth0", links: Self.links, what: "test")
        // The same first route written differently, the second gone, a third new.
        let b = try KernelState(addresses: [], routes: [try Self.route("to 10.1.0.0/16 gw 10.0.0.1"),
                                                        try Self.route("10.5.0.0/16")],
                                rules: [], defaultDevice: "eth0", links: Self.links, what: "test")
        #expect(a.subtracting(b).routes.map(\.text) == ["10.2.0.0/16"])
        #expect(b.subtracting(a).routes.map(\.text) == ["10.5.0.0/16"])
        #expect(a.subtracting(a).isEmpty && !a.isEmpty)
    }
}
