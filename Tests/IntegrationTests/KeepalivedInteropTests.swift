import Foundation
import Testing
import Lab

/// Namespace tier: an Overcast node and a stock keepalived node in one virtual router by
/// unicast. The higher priority becomes MASTER whichever program it is, and each takes
/// over when the other dies.
@Suite struct KeepalivedInteropTests {
    struct Mode: Sendable, CustomStringConvertible {
        var version: Int
        var password: String?
        var description: String { "VRRPv\(version)" + (password == nil ? "" : " PASS") }
    }

    static let modes = [Mode(version: 2, password: nil), Mode(version: 2, password: "1111"), Mode(version: 3, password: nil)]
    static let vip = "192.168.20.11"

    @Test(.enabled(if: VPCLab.available(commands: ["ip", "keepalived"], test: "keepalived interop")),
          arguments: modes)
    func overcastAndKeepalivedShareAVirtualRouter(mode: Mode) throws {
        try Prerequisites.require(commands: ["ip", "keepalived"])
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let o = try lab.addNode("ovc", address: "172.31.18.10/16")
        let k = try lab.addNode("ka", address: "172.31.18.11/16")
        func instance(_ priority: Int, me: String, peer: String) -> String {
            LabInstance(priority: priority, version: mode.version, advertInt: "1", password: mode.password,
                        source: me, peers: [peer]).text
        }
        let overcastHigh = instance(150, me: "172.31.18.10", peer: "172.31.18.11")
        let overcastLow = instance(50, me: "172.31.18.10", peer: "172.31.18.11")
        let keepalived = instance(100, me: "172.31.18.11", peer: "172.31.18.10")

        // 1. Overcast has the higher priority: Overcast is MASTER, keepalived BACKUP.
        var overcast = try lab.startOvercast(o, config: overcastHigh)
        var stock = try lab.startKeepalived(k, config: keepalived)
        #expect(waitUntil(timeout: 12) { lab.state(o) == "MASTER" && lab.holders(Self.vip, among: [o, k]) == ["ovc"] },
                "\(mode): \(lab.log(o))\n\(lab.log(k, keepalived: true))")
        usleep(1_500_000)
        #expect(lab.holders(Self.vip, among: [o, k]) == ["ovc"], "\(mode): keepalived took the VIP too")
        #expect((lab.instance(o)?["advertisementsReceived"] as? Int ?? -1) >= 0)

        // 2. Overcast dies: keepalived takes over.
        overcast.stop(signal: SIGKILL)
        _ = try? lab.exec(o, ["ip", "addr", "del", "\(Self.vip)/32", "dev", "eth0"])   // what SIGKILL left behind
        #expect(waitUntil(timeout: 8) { lab.holds(k, Self.vip) }, "\(mode): keepalived did not take over")

        // 3. Overcast returns with the lower priority: keepalived stays MASTER, Overcast
        //    is BACKUP and hears keepalived's advertisements.
        overcast = try lab.startOvercast(o, config: overcastLow, tag: "-low")
        #expect(waitUntil(timeout: 8) { lab.state(o) == "BACKUP" && (lab.instance(o)?["advertisementsReceived"] as? Int ?? 0) >= 2 },
                "\(mode): \(lab.log(o, tag: "-low"))")
        #expect(lab.instance(o)?["masterAddress"] as? String == "172.31.18.11")
        #expect(lab.holders(Self.vip, among: [o, k]) == ["ka"])
        #expect(lab.rejected(o).isEmpty, "\(mode): Overcast dropped keepalived's packets")

        // 4. keepalived dies (SIGKILL, no priority 0): Overcast takes over.
        stock.stop(signal: SIGKILL)
        #expect(waitUntil(timeout: 8) { lab.state(o) == "MASTER" && lab.holds(o, Self.vip) }, "\(mode): Overcast did not take over")
        _ = stock
        stock = try lab.startKeepalived(k, config: keepalived, tag: "-again")
        // 5. keepalived returns with the higher priority and preempts; Overcast steps down.
        #expect(waitUntil(timeout: 10) { lab.state(o) == "BACKUP" }, "\(mode): Overcast did not step down")
        #expect(waitUntil(timeout: 3) { !lab.holds(o, Self.vip) })
    }
}

extension KeepalivedInteropTests {
    /// On a network where multicast works, Overcast's multicast transport and stock
    /// keepalived in its default mode form one virtual router.
    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "keepalived"], test: "multicast interop")))
    func multicastModeInteroperatesOnALANThatCarriesMulticast() throws {
        let lab = try NetworkLab(dropsMulticast: false)
        defer { lab.teardown() }
        let o1 = try lab.addNode("o1", address: "172.31.18.10/16")
        let o2 = try lab.addNode("o2", address: "172.31.18.11/16")
        let k = try lab.addNode("ka", address: "172.31.18.12/16")
        let overcast = try lab.startOvercast(o1, config: LabInstance(priority: 150, version: 3, advertInt: "0.5").text)
        _ = try lab.startOvercast(o2, config: LabInstance(priority: 100, version: 3, advertInt: "0.5").text)
        _ = try lab.startKeepalived(k, config: LabInstance(priority: 50, version: 3, advertInt: "0.5").text)
        #expect(waitUntil(timeout: 10) { lab.state(o1) == "MASTER" && lab.state(o2) == "BACKUP" })
        usleep(1_000_000)
        #expect(lab.holders(Self.vip, among: [o1, o2, k]) == ["o1"])
        #expect(lab.instance(o2)?["transport"] as? String == "multicast")
        overcast.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 5) { lab.state(o2) == "MASTER" })
        usleep(1_000_000)
        #expect(lab.holders(Self.vip, among: [o1, o2, k]) == ["o2"])
    }
}

extension KeepalivedInteropTests {
    /// `old_unicast_checksum` against stock keepalived set the same way (VRRPv3, unicast):
    /// Overcast's old checksum is taken by keepalived (it stays BACKUP); keepalived's old
    /// checksum is taken by a default Overcast (BACKUP, nothing rejected) and refused by one
    /// with `old_unicast_checksum never` (bad checksums counted, both MASTER).
    @Test(.enabled(if: VPCLab.available(commands: ["ip", "keepalived"], test: "old_unicast_checksum interop")))
    func oldUnicastChecksumsInteroperateWithKeepalived() throws {
        try Prerequisites.require(commands: ["ip", "keepalived"])
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let o = try lab.addNode("ovc", address: "172.31.18.10/16")
        let k = try lab.addNode("ka", address: "172.31.18.11/16")
        func instance(_ priority: Int, me: String, peer: String, _ extra: String?) -> String {
            LabInstance(priority: priority, version: 3, source: me, peers: [peer], extra: extra.map { [$0] } ?? []).text
        }
        let keepalived = instance(100, me: "172.31.18.11", peer: "172.31.18.10", "old_unicast_checksum")

        // 1. Overcast MASTER sending the old checksum: keepalived hears it and stays BACKUP.
        var overcast = try lab.startOvercast(o, config: instance(150, me: "172.31.18.10", peer: "172.31.18.11", "old_unicast_checksum"))
        let stock = try lab.startKeepalived(k, config: keepalived)
        #expect(waitUntil(timeout: 12) { lab.state(o) == "MASTER" && lab.holders(Self.vip, among: [o, k]) == ["ovc"] },
                "\(lab.log(o))\n\(lab.log(k, keepalived: true))")
        usleep(4_500_000)   // past keepalived's Master_Down_Interval: it would have taken the VIP if deaf
        #expect(lab.holders(Self.vip, among: [o, k]) == ["ovc"], "keepalived did not take Overcast's old checksum")

        // 2. Overcast (lower, default) hears keepalived's old checksum: BACKUP, none rejected.
        overcast.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 8) { lab.holds(k, Self.vip) }, "keepalived did not take over")
        overcast = try lab.startOvercast(o, config: instance(50, me: "172.31.18.10", peer: "172.31.18.11", nil), tag: "-default")
        #expect(waitUntil(timeout: 8) { lab.state(o) == "BACKUP" && (lab.instance(o)?["advertisementsReceived"] as? Int ?? 0) >= 2 },
                "\(lab.log(o, tag: "-default"))")
        #expect(lab.rejected(o).isEmpty, "\(lab.rejected(o))")

        // 3. With `never`, the same packets are refused for their checksum.
        overcast.stop(signal: SIGTERM)
        overcast = try lab.startOvercast(o, config: instance(50, me: "172.31.18.10", peer: "172.31.18.11", "old_unicast_checksum never"),
                                         tag: "-never")
        #expect(waitUntil(timeout: 10) { (lab.rejected(o)["bad_checksum"] ?? 0) >= 2 && lab.state(o) == "MASTER" },
                "\(lab.rejected(o)) \(lab.log(o, tag: "-never"))")
        _ = stock
    }
}
