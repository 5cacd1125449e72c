import Testing
@testable import IPVS

@Suite struct ReconcileTests {
    static let web = IPVSServiceKey.address(.tcp, "192.168.20.11", port: 80)
    static let tls = IPVSServiceKey.address(.tcp, "192.168.20.11", port: 443)
    static let foreign = IPVSServiceKey.address(.udp, "10.0.0.1", port: 53)

    static func dest(_ last: Int, weight: UInt32 = 1, method: IPVSForwarding = .dr) -> IPVSDestination {
        IPVSDestination(key: IPVSDestinationKey(address: "172.31.8.\(last)", port: 80), forwarding: method, weight: weight)
    }

    static func table(_ entries: [(IPVSServiceKey, String, [IPVSDestination])]) -> IPVSTable {
        var t = IPVSTable()
        for (key, scheduler, dests) in entries { t.add(IPVSService(key: key, scheduler: scheduler), dests) }
        return t
    }

    @Test func anEmptyKernelGetsEverythingInDependencyOrder() {
        let desired = Self.table([(Self.web, "rr", [Self.dest(1), Self.dest(2)])])
        #expect(IPVSReconciler.changes(desired: desired, actual: IPVSTable(), owned: []) == [
            .addService(IPVSService(key: Self.web, scheduler: "rr")),
            .addDestination(Self.web, Self.dest(1)),
            .addDestination(Self.web, Self.dest(2)),
        ])
    }

    /// The table the daemon remembers after applying: the next diff against it is empty,
    /// dropped owned services are gone, others' services untouched.
    @Test func theRememberedTableIsWhatTheChangesProduce() {
        let old = IPVSServiceKey.address(.tcp, "192.168.20.12", port: 80)
        let actual = Self.table([(Self.web, "rr", [Self.dest(1), Self.dest(2)]), (old, "rr", [Self.dest(5)]),
                                 (Self.foreign, "rr", [Self.dest(9)])])
        let desired = Self.table([(Self.web, "wlc", [Self.dest(2, weight: 3)]), (Self.tls, "rr", [Self.dest(3)])])
        let owned: Set = [Self.web, old]
        let after = IPVSReconciler.applying(desired: desired, to: actual, owned: owned)
        #expect(IPVSReconciler.changes(desired: desired, actual: after, owned: owned.union([Self.tls])).isEmpty)
        #expect(after.services[old] == nil && after.destinations[old] == nil)
        #expect(after.services[Self.foreign] == actual.services[Self.foreign])
        #expect(after.destinations[Self.foreign] == actual.destinations[Self.foreign])
        #expect(after.destinations[Self.web]?.count == 1 && after.services[Self.web]?.scheduler == "wlc")
        #expect(after.destinationCount == 3)
    }

    @Test func aMatchingKernelNeedsNothing() {
        let t = Self.table([(Self.web, "rr", [Self.dest(1), Self.dest(2)]), (Self.tls, "wlc", [Self.dest(3)])])
        #expect(IPVSReconciler.changes(desired: t, actual: t, owned: [Self.web, Self.tls]).isEmpty)
    }

    @Test func oneChangedRealServerIsOneUpdate() {
        let actual = Self.table([(Self.web, "rr", [Self.dest(1), Self.dest(2)])])
        let desired = Self.table([(Self.web, "rr", [Self.dest(1), Self.dest(2, weight: 0)])])
        #expect(IPVSReconciler.changes(desired: desired, actual: actual, owned: [Self.web])
                == [.updateDestination(Self.web, Self.dest(2, weight: 0))])
    }

    @Test func servicesOvercastDidNotMakeAreLeftAlone() {
        let actual = Self.table([(Self.web, "rr", [Self.dest(1)]), (Self.foreign, "rr", [Self.dest(9)])])
        let desired = Self.table([(Self.web, "rr", [Self.dest(1)])])
        #expect(IPVSReconciler.changes(desired: desired, actual: actual, owned: [Self.web]).isEmpty)
        // Once owned (Overcast made it earlier) and no longer wanted, it goes.
        #expect(IPVSReconciler.changes(desired: desired, actual: actual, owned: [Self.web, Self.foreign])
                == [.deleteService(Self.foreign)])
    }

    @Test func removalsComeBeforeAdditions() {
        let actual = Self.table([(Self.web, "rr", [Self.dest(1), Self.dest(2)]), (Self.tls, "rr", [])])
        let desired = Self.table([(Self.web, "wrr", [Self.dest(2), Self.dest(3)])])
        #expect(IPVSReconciler.changes(desired: desired, actual: actual, owned: [Self.web, Self.tls]) == [
            .deleteDestination(Self.web, Self.dest(1).key),
            .deleteService(Self.tls),
            .updateService(IPVSService(key: Self.web, scheduler: "wrr")),
            .addDestination(Self.web, Self.dest(3)),
        ])
    }

    /// 10,000 services with 4 real servers each reconcile in one pass, and one change at
    /// that size is one request.
    @Test func largeTablesGiveMinimalDiffs() {
        var actual = IPVSTable()
        for i in 0..<10_000 {
            let key = IPVSServiceKey.address(.tcp, "10.\(i / 256 / 256).\(i / 256 % 256).\(i % 256)", port: 80)
            actual.add(IPVSService(key: key, scheduler: "wlc"), (1...4).map { Self.dest($0) })
        }
        var desired = actual
        let some = IPVSServiceKey.address(.tcp, "10.0.38.16", port: 80)
        desired.destinations[some]?[Self.dest(4).key] = Self.dest(4, weight: 7)
        let changes = IPVSReconciler.changes(desired: desired, actual: actual, owned: Set(actual.services.keys))
        #expect(changes == [.updateDestination(some, Self.dest(4, weight: 7))])
        #expect(IPVSReconciler.changes(desired: desired, actual: IPVSTable(), owned: []).count == 50_000)
    }
}
