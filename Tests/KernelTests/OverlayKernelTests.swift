import Foundation
import Testing
import Lab
import LinuxNet

/// Kernel tier (GRE exists only in the VM's kernel): `overcast overlay` builds the mesh
/// through netlink, idempotently; VRRP runs as multicast over it with each advertisement
/// arriving exactly once; stock keepalived joins the same virtual router.
@Suite(.serialized, .enabled(if: KernelTier.inside, "runs only inside the kernel-tier VM (scripts/kernel-tier.sh)"))
struct OverlayKernelTests {
    static func address(_ i: Int) -> String { "172.31.18.\(10 + i)" }

    static func overlayBlock(_ i: Int, peers: [Int]) -> String {
        "overlay ovc0 {\n  local \(address(i))\n  peers {\n" + peers.map { "    \(address($0))\n" }.joined()
            + "  }\n  key 42\n  address 10.200.0.\(i + 1)/24\n}\n"
    }

    static func instance(_ priority: Int) -> String {
        """
        vrrp_instance VI_1 {
          interface ovc0
          virtual_router_id 51
          priority \(priority)
          version 3
          advert_int 0.5
          virtual_ipaddress {
            192.168.20.11
          }
        }

        """
    }

    static func lab() throws -> (NetworkLab, [NetworkLab.Node]) {
        let lab = try VPCLab.network()
        let nodes = try (0..<3).map { try lab.addNode("n\($0 + 1)", address: "\(address($0))/16") }
        return (lab, nodes)
    }

    /// The namespace's links without the fallback devices the GRE module puts in every
    /// namespace (gre0, gretap0, erspan0), which no one configured.
    static func links(_ node: NetworkLab.Node) throws -> [LinkInfo] {
        try inNetworkNamespace(node.namespace) { try NetlinkSocket(.route).links() }
            .filter { !["gre0", "gretap0", "erspan0"].contains($0.name) }
    }

    func overlay(_ lab: NetworkLab, _ node: NetworkLab.Node, _ verb: String, _ config: String) throws -> String {
        let path = lab.path("\(node.name)-overlay.conf")
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return try lab.exec(node, [Binaries.overcast, "overlay", verb, "-f", path])
    }

    @Test func overlayUpIsIdempotentChangesOnlyWhatChangedAndDownLeavesNothing() throws {
        let (lab, nodes) = try Self.lab()
        defer { lab.teardown() }
        let n1 = nodes[0]
        let first = try overlay(lab, n1, "up", Self.overlayBlock(0, peers: [1, 2]))
        #expect(first.contains("created bridge ovc0 (mtu 1458)"))   // 1500 - 38 - 4 (key)
        let built = try Self.links(n1)
        let bridge = try #require(built.first { $0.name == "ovc0" })
        #expect(bridge.kind == "bridge" && bridge.mtu == 1458 && bridge.isUp)
        let ports = built.filter { $0.kind == "gretap" }
        #expect(ports.count == 2)
        #expect(ports.allSatisfy { $0.masterIndex == bridge.index && $0.mtu == 1458 && $0.tunnel?.key == 42 })
        #expect(Set(ports.compactMap { $0.tunnel?.remote.description }) == [Self.address(1), Self.address(2)])
        for port in ports {
            let isolated = try lab.exec(n1, ["cat", "/sys/class/net/\(port.name)/brport/isolated"])
            #expect(isolated.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(port.name) is not isolated")
        }

        // up twice: nothing changes, not even an interface index.
        #expect(try overlay(lab, n1, "up", Self.overlayBlock(0, peers: [1, 2])).contains("ovc0: up to date"))
        #expect(try Self.links(n1).map { "\($0.index) \($0.name) \($0.masterIndex)" } == built.map { "\($0.index) \($0.name) \($0.masterIndex)" })

        // A peer removed: only its tunnel goes; re-added: only it comes back.
        let removed = try overlay(lab, n1, "up", Self.overlayBlock(0, peers: [1]))
        #expect(removed.split(separator: "\n").count == 1 && removed.contains("removed tunnel"))
        let after = try Self.links(n1)
        #expect(after.filter { $0.kind == "gretap" }.map(\.index) == ports.filter { $0.tunnel?.remote.description == Self.address(1) }.map(\.index))
        let readded = try overlay(lab, n1, "up", Self.overlayBlock(0, peers: [1, 2]))
        #expect(readded.split(separator: "\n").count == 1 && readded.contains("created tunnel"))

        // down: exactly what up made is gone.
        _ = try overlay(lab, n1, "down", Self.overlayBlock(0, peers: [1, 2]))
        #expect(try Self.links(n1).map(\.name).sorted() == ["eth0", "lo"])
    }

    @Test func vrrpOverTheOverlayElectsOneMasterDeliversOnceAndFailsOver() throws {
        let (lab, nodes) = try Self.lab()
        defer { lab.teardown() }
        var daemons: [ChildProcess] = []
        for (i, node) in nodes.enumerated() {
            let config = Self.overlayBlock(i, peers: (0..<3).filter { $0 != i }) + Self.instance(150 - 50 * i)
            daemons.append(try lab.startOvercast(node, config: config))
        }
        #expect(waitUntil(timeout: 60, interval: 0.5) { nodes.map { lab.state($0) } == ["MASTER", "BACKUP", "BACKUP"] },
                "\(nodes.map { lab.state($0) ?? "-" }): \(lab.log(nodes[0]))")
        #expect(lab.instance(nodes[1])?["transport"] as? String == "gre")
        #expect(lab.holders("192.168.20.11", among: nodes) == ["n1"])

        // Each advertisement arrives exactly once at each other node: over a window the
        // backups receive as many as the MASTER sends (the mesh's split horizon works).
        func counts() -> (Int, Int, Int) {
            (lab.instance(nodes[0])?["advertisementsSent"] as? Int ?? 0,
             lab.instance(nodes[1])?["advertisementsReceived"] as? Int ?? 0,
             lab.instance(nodes[2])?["advertisementsReceived"] as? Int ?? 0)
        }
        // The three counters are read one after the other in a slow VM, so a window of
        // ~16 advertisements may be off by a couple at its edges; a duplicate per
        // advertisement would double the count, a lost one would show as a deficit.
        let before = counts()
        usleep(8_000_000)
        let after = counts()
        let sent = after.0 - before.0
        #expect(sent >= 8)
        for (name, received) in [("n2", after.1 - before.1), ("n3", after.2 - before.2)] {
            #expect(abs(received - sent) <= 2, "\(name) received \(received) of \(sent)")
        }
        #expect(lab.rejected(nodes[1]).isEmpty)
        let status = try lab.exec(nodes[1], [Binaries.overcast, "overlay", "status", "-f", lab.path("n2.conf")])
        #expect(status.contains("ovc0: bridge up, 2 tunnel(s)"), "\(status)")
        #expect(status.components(separatedBy: "frames flowing").count == 3, "\(status)")

        daemons[0].stop(signal: SIGKILL)
        #expect(waitUntil(timeout: 20, interval: 0.5) { lab.state(nodes[1]) == "MASTER" && lab.state(nodes[2]) == "BACKUP" })
        #expect(lab.holds(nodes[1], "192.168.20.11"))
    }

    @Test func stockKeepalivedJoinsTheOverlayInMulticastMode() throws {
        let (lab, nodes) = try Self.lab()
        defer { lab.teardown() }
        for i in 0..<2 {
            _ = try lab.startOvercast(nodes[i], config: Self.overlayBlock(i, peers: (0..<3).filter { $0 != i }) + Self.instance(150 - 50 * i))
        }
        _ = try overlay(lab, nodes[2], "up", Self.overlayBlock(2, peers: [0, 1]))
        let keepalived = try lab.startKeepalived(nodes[2], config: Self.instance(200))
        #expect(waitUntil(timeout: 60, interval: 0.5) {
            lab.holders("192.168.20.11", among: nodes) == ["n3"] && lab.state(nodes[0]) == "BACKUP" && lab.state(nodes[1]) == "BACKUP"
        }, "\(lab.log(nodes[2], keepalived: true))")
        #expect(lab.instance(nodes[0])?["masterAddress"] as? String == "10.200.0.3")
        keepalived.stop(signal: SIGKILL)
        _ = try? lab.exec(nodes[2], ["ip", "addr", "del", "192.168.20.11/32", "dev", "ovc0"])
        #expect(waitUntil(timeout: 20, interval: 0.5) { lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP" })
    }
}
