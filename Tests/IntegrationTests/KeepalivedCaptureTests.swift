import Foundation
import NetworkTypes
import Testing
import Lab
import PacketCapture
@testable import VRRP

/// Namespace tier: stock keepalived advertises on a lab network; every packet it sends
/// must decode, re-encode byte for byte, and pass the receive checks of an Overcast
/// router configured as its peer. This runs against whatever keepalived is installed,
/// so it also catches a keepalived update that changes the wire format.
@Suite(.serialized) struct KeepalivedCaptureTests {
    static let a = IPv4Address(172, 31, 18, 163)
    static let b = IPv4Address(172, 31, 18, 164)

    /// One keepalived instance per case, all in one process, on distinct VRIDs.
    struct Case: Sendable {
        var vrid: UInt8
        var version: VRRPVersion
        var unicast: Bool
        var password: String?
        var interval: Centiseconds
        var vips: [String]

        var keepalivedBlock: String {
            var lines = ["vrrp_instance VI_\(vrid) {", "  state MASTER", "  interface eth0", "  virtual_router_id \(vrid)",
                         "  priority 200", "  version \(version.rawValue)",
                         "  advert_int \(interval.value % 100 == 0 ? String(interval.value / 100) : String(Double(interval.value) / 100))"]
            if let password { lines += ["  authentication {", "    auth_type PASS", "    auth_pass \(password)", "  }"] }
            if unicast { lines += ["  unicast_src_ip \(KeepalivedCaptureTests.a)", "  unicast_peer {", "    \(KeepalivedCaptureTests.b)", "  }"] }
            lines += ["  virtual_ipaddress {"] + vips.map { "    \($0)" } + ["  }", "}"]
            return lines.joined(separator: "\n")
        }
    }

    static let cases: [Case] = [
        Case(vrid: 10, version: .v2, unicast: false, password: nil, interval: .seconds(1), vips: ["192.168.20.10"]),
        Case(vrid: 11, version: .v2, unicast: false, password: "1111", interval: .seconds(1), vips: ["192.168.20.11"]),
        Case(vrid: 12, version: .v2, unicast: true, password: "secret99", interval: .seconds(1), vips: ["192.168.20.12", "10.9.9.9"]),
        Case(vrid: 13, version: .v3, unicast: true, password: nil, interval: .seconds(1), vips: ["192.168.20.13"]),
        Case(vrid: 14, version: .v3, unicast: false, password: nil, interval: Centiseconds(20), vips: ["192.168.20.14"]),
    ]

    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "keepalived", "tcpdump"], test: "keepalived capture")))
    func keepalivedAdvertisementsDecodeReencodeAndPassOurChecks() throws {
        try Prerequisites.require(commands: ["ip", "keepalived", "tcpdump"])
        let lab = try NetworkLab(dropsMulticast: false)
        defer { lab.teardown() }
        let nodeA = try lab.addNode("a", address: "\(Self.a)/16")
        _ = try lab.addNode("b", address: "\(Self.b)/16")

        let config = lab.path("keepalived.conf")
        try ("global_defs {\n  router_id lab_a\n}\n" + Self.cases.map(\.keepalivedBlock).joined(separator: "\n"))
            .write(toFile: config, atomically: true, encoding: .utf8)
        let tcpdump = try lab.startCapture(nodeA, file: "vrrp.pcap", filter: "ip proto 112")
        let capture = lab.path("vrrp.pcap")
        let keepalived = try lab.spawn(nodeA, ["keepalived", "-f", config, "-p", lab.path("k.pid"), "-r", lab.path("v.pid"),
                                               "-n", "-l", "-D", "--vrrp"], log: "keepalived.log")
        // keepalived waits Master_Down_Interval (about 3.2-3.6 s here) before it advertises.
        let deadline = Date().addingTimeInterval(15)
        var seen: Set<UInt8> = []
        while Date() < deadline && seen.count < Self.cases.count {
            usleep(500_000)
            seen = Set(((try? CaptureFile.read(capture)) ?? []).compactMap { Self.vrid(of: $0.bytes) })
        }
        keepalived.stop(signal: SIGTERM, timeout: 5)   // a MASTER's last word is priority 0
        usleep(300_000)
        tcpdump.stop(signal: SIGINT, timeout: 3)

        let frames = try CaptureFile.read(capture)
        let log = (try? String(contentsOfFile: lab.path("keepalived.log"), encoding: .utf8)) ?? ""
        #expect(!frames.isEmpty, "no VRRP captured; keepalived said:\n\(log)")

        var counts: [UInt8: (normal: Int, stop: Int)] = [:]
        for frame in frames {
            #expect(frame.linkType == 1)
            let packet = try IPv4Packet(parsing: frame.bytes.dropFirst(14))
            let pseudo = PseudoHeader(source: packet.header.source, destination: packet.header.destination)
            let ad = try VRRPAdvertisement(parsing: packet.payload, pseudoHeader: pseudo)
            let c = try #require(Self.cases.first { $0.vrid == ad.virtualRouterID }, "unexpected VRID \(ad.virtualRouterID)")
            #expect(ad.version == c.version)
            #expect(ad.advertisementInterval == c.interval)
            #expect(ad.addresses.map(\.description) == c.vips)
            #expect(packet.header.destination == (c.unicast ? Self.b : .vrrpMulticastGroup))
            #expect(try ad.encoded(pseudoHeader: pseudo) == packet.payload, "VRID \(c.vrid) re-encodes differently")
            #expect(packet.encoded() == Array(frame.bytes.dropFirst(14).prefix(packet.encoded().count)))

            // An Overcast router configured as keepalived's peer accepts it.
            let peer = VirtualRouter(configuration: VirtualRouter.Configuration(
                virtualRouterID: c.vrid,
                stateMachine: .init(version: c.version, priority: 100, advertisementInterval: c.interval, primaryAddress: Self.b),
                virtualAddresses: c.vips.compactMap { IPv4Address($0) },
                authType: c.password == nil ? .none : .simplePassword, authPassword: c.password,
                unicastPeers: c.unicast ? [Self.a] : nil))
            let received = ReceivedPacket(payload: packet.payload, source: packet.header.source,
                                          destination: packet.header.destination, timeToLive: packet.header.timeToLive)
            if case .failure(let error) = peer.policy.check(received) {
                Issue.record("VRID \(c.vrid): an Overcast peer rejects keepalived's packet: \(error)")
            }
            var count = counts[c.vrid] ?? (0, 0)
            if ad.priority == 0 { count.stop += 1 } else { count.normal += 1 }
            counts[c.vrid] = count
        }
        for c in Self.cases {
            #expect((counts[c.vrid]?.normal ?? 0) >= 1, "VRID \(c.vrid): no advertisement; keepalived said:\n\(log)")
            #expect((counts[c.vrid]?.stop ?? 0) >= 1, "VRID \(c.vrid): no priority-0 advertisement on SIGTERM")
        }
    }

    /// The VRID of an Ethernet frame carrying VRRP, if it does.
    static func vrid(of frame: [UInt8]) -> UInt8? {
        guard let packet = try? IPv4Packet(parsing: frame.dropFirst(14)), packet.payload.count > 1 else { return nil }
        return packet.payload[1]
    }
}
