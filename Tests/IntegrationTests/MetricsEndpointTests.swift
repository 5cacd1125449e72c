import Foundation
import NetworkTypes
import Testing
import Lab
import VRRP

/// Namespace tier: the Prometheus endpoint of two running daemons, scraped over TCP
/// from a third node the way Prometheus would: states, counters that move, drops by
/// reason, agreement with `overcast status`, and a reload that moves or removes it.
@Suite struct MetricsEndpointTests {
    static let scraper = """
        import sys, urllib.request, urllib.error
        try:
            r = urllib.request.urlopen(sys.argv[1], timeout=5)
            print(r.status, r.headers.get('Content-Type'))
            sys.stdout.write(r.read().decode())
        except urllib.error.HTTPError as e:
            print(e.code, e.headers.get('Content-Type'))
        except OSError as e:
            print('refused', e)
        """

    /// `name{labels} value` lines of an exposition, by series.
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// Scrapes `url` from inside `node`: the status line's code and content type, and the samples.
    static func scrape(_ lab: NetworkLab, from node: NetworkLab.Node, _ url: String) throws -> (head: String, samples: [String: Double]) {
        let script = lab.path("scrape.py")
        if !FileManager.default.fileExists(atPath: script) { try scraper.write(toFile: script, atomically: true, encoding: .utf8) }
        let output = try lab.exec(node, ["python3", script, url], timeout: 10)
        let head = output.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        return (head, samples(output))
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip", "python3"], test: "metrics endpoint")))
    func prometheusSeesWhatStatusSees() throws {
        try Prerequisites.require(commands: ["ip", "python3"])
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let master = try lab.addNode("n1", address: "172.31.18.10/16")
        let backup = try lab.addNode("n2", address: "172.31.18.11/16")
        let prometheus = try lab.addNode("p", address: "172.31.18.99/16")
        let sender = lab.path("send.py")
        try ForgedPacketTests.sender.write(toFile: sender, atomically: true, encoding: .utf8)
        func scrape(_ url: String) throws -> (head: String, samples: [String: Double]) { try Self.scrape(lab, from: prometheus, url) }
        func config(_ instance: LabInstance, metrics: String?) -> String {
            (metrics.map { "global_defs {\n  metrics_listen \($0)\n}\n" } ?? "") + instance.text
        }
        let first = LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"])
        let second = LabInstance(priority: 100, version: 3, advertInt: "0.2", source: "172.31.18.11", peers: ["172.31.18.10"])
        let daemon = try lab.startOvercast(master, config: config(first, metrics: "172.31.18.10:9650"))
        _ = try lab.startOvercast(backup, config: config(second, metrics: "0.0.0.0:9650"))
        #expect(waitUntil(timeout: 12) { lab.state(master) == "MASTER" && lab.state(backup) == "BACKUP" })

        let transitions = lab.instance(master)?["transitions"] as? Int
        let one = try scrape("http://172.31.18.10:9650/metrics")
        #expect(one.head == "200 text/plain; version=0.0.4; charset=utf-8", "\(one.head)")
        #expect(one.samples[#"overcast_vrrp_state{instance="VI_1",state="MASTER"}"#] == 1)
        #expect(one.samples[#"overcast_vrrp_state{instance="VI_1",state="BACKUP"}"#] == 0)
        #expect(one.samples[#"overcast_vrrp_priority{instance="VI_1"}"#] == 150)
        let other = try scrape("http://172.31.18.11:9650/metrics")
        #expect(other.samples[#"overcast_vrrp_state{instance="VI_1",state="BACKUP"}"#] == 1)
        // The counters move: 0.2-s advertisements, scraped a second apart.
        usleep(1_000_000)
        let two = try scrape("http://172.31.18.10:9650/metrics")
        let sent = #"overcast_vrrp_adverts_sent_total{instance="VI_1"}"#
        #expect((two.samples[sent] ?? 0) >= (one.samples[sent] ?? .infinity) + 3, "\(one.samples[sent] ?? -1) -> \(two.samples[sent] ?? -1)")
        let received = #"overcast_vrrp_adverts_received_total{instance="VI_1"}"#
        #expect((try scrape("http://172.31.18.11:9650/metrics").samples[received] ?? 0) >= 5)

        // A stranger's advertisement and one with a bad checksum: dropped, counted by reason,
        // the same numbers as `overcast status`.
        let ad = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 254, advertisementInterval: Centiseconds(20),
                                   addresses: [IPv4Address(192, 168, 20, 11)])
        let stranger = IPv4Address(172, 31, 18, 99), me = IPv4Address(172, 31, 18, 10)
        var packet = try ad.encoded(pseudoHeader: PseudoHeader(source: stranger, destination: me))
        try lab.exec(prometheus, ["python3", sender, "\(stranger)", "\(me)", "255", hexEncode(packet)])
        try lab.exec(prometheus, ["python3", sender, "\(stranger)", "\(me)", "255", hexEncode(packet)])
        packet[6] ^= 0xFF
        try lab.exec(prometheus, ["python3", sender, "172.31.18.11", "\(me)", "255", hexEncode(packet)])
        #expect(waitUntil(timeout: 5) { lab.rejected(master).values.reduce(0, +) >= 3 })
        let rejected = lab.rejected(master)
        let three = try scrape("http://172.31.18.10:9650/metrics")
        #expect(!rejected.isEmpty)
        for (reason, count) in rejected {
            #expect(three.samples["overcast_vrrp_dropped_total{instance=\"VI_1\",reason=\"\(reason)\"}"] == Double(count), "\(reason)")
        }
        #expect(three.samples[#"overcast_vrrp_state{instance="VI_1",state="MASTER"}"#] == 1)
        #expect(three.samples[#"overcast_vrrp_transitions_total{instance="VI_1"}"#] == Double(lab.instance(master)?["transitions"] as? Int ?? -1))
        #expect(lab.overcastStatus(master)?["metrics"] as? String == "http://172.31.18.10:9650/metrics")

        // Anything but GET /metrics is refused.
        #expect(try scrape("http://172.31.18.10:9650/debug").head.hasPrefix("404"))

        // A reload moves the endpoint (the old port closes at once), another removes it.
        try config(first, metrics: "172.31.18.10:9651").write(toFile: lab.path("n1.conf"), atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        #expect(waitUntil(timeout: 5) { lab.overcastStatus(master)?["reloads"] as? Int == 1 })
        #expect(try scrape("http://172.31.18.10:9651/metrics").samples[#"overcast_reloads_total"#] == 1)
        #expect(try scrape("http://172.31.18.10:9650/metrics").head.hasPrefix("refused"))
        try config(first, metrics: nil).write(toFile: lab.path("n1.conf"), atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        #expect(waitUntil(timeout: 5) { lab.overcastStatus(master)?["reloads"] as? Int == 2 })
        #expect(try scrape("http://172.31.18.10:9651/metrics").head.hasPrefix("refused"))
        #expect(lab.overcastStatus(master)?["metrics"] == nil)
        // Through all of it VRRP never moved.
        #expect(lab.state(master) == "MASTER" && lab.instance(master)?["transitions"] as? Int == transitions)
    }
}
