import Foundation
import NetworkTypes
import Testing
import Lab
import VRRP

/// Namespace tier: forged and malformed VRRP sent at a running MASTER from a third
/// node are dropped, counted in `overcast status` under their reason, and change
/// nothing.
@Suite struct ForgedPacketTests {
    /// Sends one IPv4 packet with a chosen source and TTL (IP_HDRINCL).
    static let sender = """
        import socket, struct, sys
        src, dst, ttl, payload = sys.argv[1], sys.argv[2], int(sys.argv[3]), bytes.fromhex(sys.argv[4])
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
        header = struct.pack('!BBHHHBBH4s4s', 0x45, 0xc0, 20 + len(payload), 0, 0, ttl, 112, 0,
                             socket.inet_aton(src), socket.inet_aton(dst))
        s.sendto(header + payload, (dst, 0))
        """

    @Test(.enabled(if: VPCLab.available(commands: ["ip", "python3"], test: "forged packets")))
    func forgedAndMalformedPacketsAreDroppedAndCounted() throws {
        try Prerequisites.require(commands: ["ip", "python3"])
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let master = try lab.addNode("n1", address: "172.31.18.10/16")
        let backup = try lab.addNode("n2", address: "172.31.18.11/16")
        let attacker = try lab.addNode("x", address: "172.31.18.99/16")
        _ = try lab.startOvercast(master, config: LabInstance(priority: 150, password: "1111", source: "172.31.18.10",
                                                              peers: ["172.31.18.11"]).text)
        _ = try lab.startOvercast(backup, config: LabInstance(priority: 100, password: "1111", source: "172.31.18.11",
                                                              peers: ["172.31.18.10"]).text)
        #expect(waitUntil(timeout: 12) { lab.state(master) == "MASTER" && lab.state(backup) == "BACKUP" })
        let script = lab.path("send.py")
        try Self.sender.write(toFile: script, atomically: true, encoding: .utf8)

        let me = IPv4Address(172, 31, 18, 10), peer = IPv4Address(172, 31, 18, 11), stranger = IPv4Address(172, 31, 18, 99)
        func advert(version: VRRPVersion = .v2, vrid: UInt8 = 51, priority: UInt8 = 254, password: String = "1111",
                    from source: IPv4Address = peer) -> [UInt8] {
            let ad = VRRPAdvertisement(version: version, virtualRouterID: vrid, priority: priority,
                                       advertisementInterval: .seconds(1), addresses: [IPv4Address(192, 168, 20, 11)],
                                       authType: version == .v2 ? .simplePassword : .none,
                                       authenticationData: VRRPAdvertisement.passwordData(password))
            return (try? ad.encoded(pseudoHeader: PseudoHeader(source: source, destination: me))) ?? []
        }
        var badChecksum = advert()
        badChecksum[7] ^= 0x55
        var badType = advert()
        badType[0] = 0x22
        let cases: [(String, IPv4Address, UInt8, [UInt8], String)] = [
            ("stranger", stranger, 255, advert(from: stranger), "unknown_source"),
            ("TTL 64", peer, 64, advert(), "bad_ttl"),
            ("checksum", peer, 255, badChecksum, "bad_checksum"),
            ("password", peer, 255, advert(password: "guess"), "auth_failure"),
            ("v3", peer, 255, advert(version: .v3), "version_mismatch"),
            ("truncated", peer, 255, Array(advert().prefix(5)), "truncated"),
            ("type", peer, 255, badType, "bad_type"),
            ("VRID", peer, 255, advert(vrid: 52), "other_vrid"),
        ]
        let before = lab.instance(master)
        for (_, source, ttl, payload, _) in cases {
            for _ in 0..<3 {
                try lab.exec(attacker, ["python3", script, "\(source)", "\(me)", "\(ttl)", hexEncode(payload)])
            }
        }
        #expect(waitUntil(timeout: 5) {
            let rejected = lab.rejected(master)
            return cases.allSatisfy { rejected[$0.4] ?? 0 >= 3 }
        }, "counters: \(lab.instance(master)?["rejected"] ?? "none")")
        let after = lab.instance(master)
        #expect(after?["state"] as? String == "MASTER")
        #expect(after?["transitions"] as? Int == before?["transitions"] as? Int)
        #expect(after?["priorityZeroReceived"] as? Int == 0)
        #expect(lab.holders("192.168.20.11", among: [master, backup]) == ["n1"])
        // The daemon is alive and still advertising.
        let sent = after?["advertisementsSent"] as? Int ?? 0
        #expect(waitUntil(timeout: 3) { (lab.instance(master)?["advertisementsSent"] as? Int ?? 0) > sent })
    }
}
