import Foundation
import NetworkTypes
import Testing
import Lab
import VRRP
import VRRPAuthentication

/// Namespace tier: two Overcast nodes with `auth_type HMAC_SHA256` elect one MASTER
/// over unicast; a third node that can forge the peer's source address cannot make the
/// MASTER step down without the key, nor with a recording replayed.
@Suite struct AuthenticationTests {
    @Test(.enabled(if: VPCLab.available(commands: ["ip", "python3"], test: "HMAC authentication")))
    func authenticatedPeersAgreeAndForgeriesAndReplaysAreDropped() throws {
        try Prerequisites.require(commands: ["ip", "python3"])
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let master = try lab.addNode("n1", address: "172.31.18.10/16")
        let backup = try lab.addNode("n2", address: "172.31.18.11/16")
        let attacker = try lab.addNode("x", address: "172.31.18.99/16")
        let key = "k3y-shared-by-the-two-nodes-0123"
        let keyPath = lab.path("vi1.key")
        try key.write(toFile: keyPath, atomically: true, encoding: .utf8)
        #expect(chmod(keyPath, 0o600) == 0)
        let auth = ["authentication {", "  auth_type HMAC_SHA256", "  auth_key_file \(keyPath)", "}"]
        var first = LabInstance(priority: 150, version: 3, advertInt: "0.5", source: "172.31.18.10", peers: ["172.31.18.11"])
        first.extra = auth
        var second = LabInstance(priority: 100, version: 3, advertInt: "0.5", source: "172.31.18.11", peers: ["172.31.18.10"])
        second.extra = auth
        _ = try lab.startOvercast(master, config: first.text)
        _ = try lab.startOvercast(backup, config: second.text)
        #expect(waitUntil(timeout: 12) { lab.state(master) == "MASTER" && lab.state(backup) == "BACKUP" })
        // The backup keeps hearing (and accepting) the MASTER's sealed advertisements.
        let heard = lab.instance(backup)?["advertisementsReceived"] as? Int ?? 0
        #expect(waitUntil(timeout: 3) { (lab.instance(backup)?["advertisementsReceived"] as? Int ?? 0) >= heard + 3 })
        #expect(lab.rejected(backup).isEmpty, "\(lab.instance(backup) ?? [:])")
        #expect(lab.state(backup) == "BACKUP")
        #expect(!lab.log(master).contains(key) && !lab.log(backup).contains(key))

        let script = lab.path("send.py")
        try ForgedPacketTests.sender.write(toFile: script, atomically: true, encoding: .utf8)
        let me = IPv4Address(172, 31, 18, 10), peer = IPv4Address(172, 31, 18, 11)
        func advert(priority: UInt8, key: String?, sequence: UInt64) -> [UInt8] {
            let ad = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: priority, advertisementInterval: Centiseconds(50),
                                       addresses: [IPv4Address(192, 168, 20, 11)])
            let message = (try? ad.encoded(pseudoHeader: PseudoHeader(source: peer, destination: me))) ?? []
            guard let key else { return message }
            return HMACAuthenticator(key: Array(key.utf8), replayWindowSeconds: 30).seal(message, source: peer, sequence: sequence)
        }
        func send(_ payload: [UInt8]) throws {
            try lab.exec(attacker, ["python3", script, "\(peer)", "\(me)", "255", hexEncode(payload)])
        }
        func wallClock() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1_000_000) }
        let now = wallClock()
        let before = lab.instance(master)
        // Priority 255 "from the peer": without a trailer, and sealed with a guessed key.
        for _ in 0..<3 {
            try send(advert(priority: 255, key: nil, sequence: 0))
            try send(advert(priority: 255, key: "a-guessed-key-that-is-not-it-000", sequence: now))
        }
        // A recording a minute old, then a fresh packet sent twice (only the first passes;
        // priority 100 is below the MASTER's, so accepting it changes nothing).
        try send(advert(priority: 255, key: key, sequence: now - 60_000_000))
        let fresh = advert(priority: 100, key: key, sequence: wallClock())
        try send(fresh)
        try send(fresh)
        #expect(waitUntil(timeout: 5) {
            let rejected = lab.rejected(master)
            return rejected["auth_failure"] ?? 0 >= 6 && rejected["replayed"] ?? 0 >= 2
        }, "counters: \(lab.instance(master)?["rejected"] ?? "none")")
        let after = lab.instance(master)
        #expect(after?["state"] as? String == "MASTER")
        #expect(after?["transitions"] as? Int == before?["transitions"] as? Int)
        #expect(lab.holders("192.168.20.11", among: [master, backup]) == ["n1"])
        #expect(lab.log(master).contains("clocks are not synchronised") || lab.log(master).contains("replayed"))
    }
}
