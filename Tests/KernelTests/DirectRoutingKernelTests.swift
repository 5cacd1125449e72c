import Foundation
import Testing
import Lab

/// Kernel tier: the article's load-balancing half end to end. A client reaches the VIP
/// through the MASTER load balancer (the route a VPC route table would give it), IPVS
/// forwards by direct routing to two web servers holding the VIP on `lo` (arp_ignore 1,
/// arp_announce 2), and their replies go straight back to the client. A stopped web
/// server is taken out and comes back.
@Suite(.serialized, .enabled(if: KernelTier.inside, "runs only inside the kernel-tier VM (scripts/kernel-tier.sh)"))
struct DirectRoutingKernelTests {
    static let vip = "192.168.20.11"

    @Test func clientRequestsReachBothWebServersByDirectRoutingAndFollowTheirHealth() throws {
        let lab = try NetworkLab(dropsMulticast: true)
        defer { lab.teardown() }
        let client = try lab.addNode("client", address: "172.31.0.100/16")
        let lb = try lab.addNode("lvs1", address: "172.31.18.163/16")
        let webs = try [1, 2].map { try lab.addNode("web\($0)", address: "172.31.8.\($0)/16") }
        try lab.exec(client, ["ip", "route", "add", "\(Self.vip)/32", "via", "172.31.18.163"])
        var servers: [ChildProcess] = []
        for (i, web) in webs.enumerated() {
            try lab.exec(web, ["ip", "addr", "add", "\(Self.vip)/32", "dev", "lo"])
            for setting in ["net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2",
                            "net.ipv4.conf.eth0.arp_ignore=1", "net.ipv4.conf.eth0.arp_announce=2"] {
                try lab.exec(web, ["sysctl", "-q", "-w", setting])
            }
            let root = lab.path("www\(i + 1)")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try "web\(i + 1)\n".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
            servers.append(try lab.spawn(web, ["python3", "-m", "http.server", "--bind", "0.0.0.0", "--directory", root, "80"],
                                         log: "web\(i + 1).log"))
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        var config = try String(contentsOfFile: root + "/conf/article-lvs1-master.conf", encoding: .utf8)
        config = config.replacingOccurrences(of: "delay_loop 6", with: "delay_loop 2")
        _ = try lab.startOvercast(lb, config: config)

        func fetch() -> String? {
            guard let (status, output) = try? ChildProcess.run(["ip", "netns", "exec", client.namespace, "curl", "-s", "-m", "3",
                                                                "http://\(Self.vip)/index.html"], timeout: 20),
                  status == 0 else { return nil }
            return output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func answers(_ count: Int) -> Set<String> { Set((0..<count).compactMap { _ in fetch() }) }

        // lvs1 is alone: MASTER after Master_Down_Interval, VIP on eth0, IPVS programmed.
        #expect(waitUntil(timeout: 90, interval: 1) { lab.holds(lb, Self.vip) && fetch() != nil }, "\(lab.log(lb))")
        #expect(answers(6) == ["web1", "web2"], "rr over both web servers by direct routing")

        servers[1].stop(signal: SIGKILL)
        #expect(waitUntil(timeout: 40, interval: 1) { answers(4) == ["web1"] }, "web2 must leave the pool")
        let again = try lab.spawn(webs[1], ["python3", "-m", "http.server", "--bind", "0.0.0.0", "--directory", lab.path("www2"), "80"],
                                  log: "web2-again.log")
        _ = again
        #expect(waitUntil(timeout: 60, interval: 1) { answers(6) == ["web1", "web2"] }, "web2 must come back")
    }
}
