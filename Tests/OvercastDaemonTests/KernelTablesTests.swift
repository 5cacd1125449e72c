import LinuxNet
import NetworkTypes
import Testing
@testable import OvercastDaemon

/// What `KernelWatch` counts as deleted: an entry it put in, tracked, and absent from the
/// tables as the kernel reports them (the kernel fills in what the configuration left
/// out); and one report per deletion, none for the owner's own removals.
@Suite struct KernelTablesTests {
    static func net(_ text: String) -> IPv4Network { IPv4Network(text)! }

    static let route = KernelRoute(destination: net("10.77.0.0/16"), gateway: IPv4Address(172, 31, 18, 1))
    static let rule = PolicyRule(from: net("192.168.30.0/24"), priority: 1000, action: .table(100), protocolNumber: 18)
    static let address = InterfaceAddress(address: IPv4Address(192, 168, 20, 11), prefixLength: 32, interfaceIndex: 2)

    static let owned = KernelState(
        addresses: [.init(value: address, text: "192.168.20.11/32")],
        routes: [.init(value: route, text: "10.77.0.0/16 via 172.31.18.1"),
                 .init(value: KernelRoute(destination: net("10.78.0.0/16")), text: "10.78.0.0/16 no_track", track: false)],
        rules: [.init(value: rule, text: "from 192.168.30.0/24 table 100 priority 1000")])

    @Test func entriesAsTheKernelReportsThemAreFoundAndNoTrackOnesNeverMissed() {
        // The kernel's copies: metric 0 for none, a scope and protocol filled in, the
        // address with a label and broadcast, the rule without the protocol.
        var kernelRoute = Self.route
        kernelRoute.metric = 0
        kernelRoute.scope = 0
        kernelRoute.interfaceIndex = 2
        var kernelRule = Self.rule
        kernelRule.protocolNumber = nil
        let tables = KernelTables(addresses: [InterfaceAddress(address: Self.address.address, prefixLength: 32, interfaceIndex: 2,
                                                               label: "eth0", broadcast: IPv4Address(192, 168, 20, 11))],
                                  routes: [kernelRoute], rules: [kernelRule])
        #expect(tables.missing(from: Self.owned).firstText == nil, "10.78.0.0/16 is absent but no_track")

        let empty = KernelTables(addresses: [], routes: [], rules: [])
        let missing = empty.missing(from: Self.owned)
        #expect(missing.addresses.count == 1 && missing.routes.map(\.text) == ["10.77.0.0/16 via 172.31.18.1"] && missing.rules.count == 1)

        // Another interface, table or priority is another entry.
        var elsewhere = tables
        elsewhere.addresses[0].interfaceIndex = 3
        elsewhere.routes[0].table = 100
        elsewhere.rules[0].priority = 1001
        #expect(elsewhere.missing(from: Self.owned).firstText == "192.168.20.11/32")
        #expect(elsewhere.missing(from: Self.owned).routes.count == 1 && elsewhere.missing(from: Self.owned).rules.count == 1)
    }

    @Test func aDeletionIsReportedOnceAndNeverAfterTheOwnerMoved() {
        let ownership = KernelOwnership()
        #expect(ownership.snapshot.state == nil)
        ownership.installed(Self.owned)
        let seen = ownership.snapshot
        #expect(ownership.claimReport(seen.generation))
        #expect(!ownership.claimReport(seen.generation), "one report per deletion")
        ownership.withdrawing()
        #expect(!ownership.isCurrent(seen.generation) && ownership.snapshot.state == nil)
        ownership.installed(Self.owned)
        let again = ownership.snapshot
        ownership.withdrawing()
        #expect(!ownership.claimReport(again.generation), "read before the owner's own removal: not a deletion")
    }
}
