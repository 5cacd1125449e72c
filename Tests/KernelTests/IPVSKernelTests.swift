import Foundation
import HTTPClient
import Testing
import Config
import IPVS
import Lab

/// Kernel tier (IPVS exists only in the VM's kernel): the desired table from a
/// configuration is programmed through generic netlink and `ipvsadm -Ln` shows exactly
/// it; reading back gives the same table; one changed real server is one request;
/// services Overcast did not make are left alone.
@Suite(.serialized, .enabled(if: KernelTier.inside, "runs only inside the kernel-tier VM (scripts/kernel-tier.sh)"))
struct IPVSKernelTests {
    static let config = """
        virtual_server_group G {
          10.10.0.1-2 80
          fwmark 5
        }
        virtual_server group G {
          lb_algo wrr
          lb_kind DR
          protocol TCP
          persistence_timeout 300
          real_server 172.16.0.1 80 {
            weight 3
          }
          real_server 172.16.0.2 80 {
            weight 1
          }
        }
        virtual_server 10.10.0.9 53 {
          lb_algo rr
          lb_kind NAT
          protocol UDP
          real_server 172.16.0.3 53 {
            weight 2
          }
        }
        virtual_server 10.10.0.9 443 {
          lb_algo sh
          lb_kind TUN
          protocol TCP
          real_server 172.16.0.4 443 {
            weight 1
            uthreshold 100
            lthreshold 10
          }
        }
        """

    /// `ipvsadm -Ln` as {service line: [destination lines]}, whitespace normalised.
    static func ipvsadm(_ lab: NetworkLab, _ node: NetworkLab.Node) throws -> [String: Set<String>] {
        var table: [String: Set<String>] = [:]
        var current: String?
        for raw in try lab.exec(node, ["ipvsadm", "-Ln"]).split(separator: "\n") {
            let line = raw.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            if line.hasPrefix("TCP ") || line.hasPrefix("UDP ") || line.hasPrefix("FWM ") || line.hasPrefix("SCTP ") {
                current = line
                table[line] = []
            } else if line.hasPrefix("-> "), let service = current, !line.hasPrefix("-> RemoteAddress") {
                table[service]?.insert(line)
            }
        }
        return table
    }

    @Test func theConfiguredTableIsProgrammedExactlyAndReconciledMinimally() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let node = try lab.addNode("lb", address: "172.31.18.163/16")
        let report = ConfigurationLoader.load(text: Self.config)
        #expect(report.isValid, "\(report.diagnostics)")
        let desired = DesiredTable.build(report.configuration, alive: { _ in true }).0

        let applied = try inNetworkNamespace(node.namespace) { () -> Int in
            let client = try IPVSClient()
            let changes = IPVSReconciler.changes(desired: desired, actual: try client.read(), owned: [])
            try client.apply(changes)
            return changes.count
        }
        #expect(applied == 5 + 8)   // 5 services (two group addresses, the fwmark, two plain) and 8 destinations
        let persistentDR: Set<String> = ["-> 172.16.0.1:80 Route 3 0 0", "-> 172.16.0.2:80 Route 1 0 0"]
        #expect(try Self.ipvsadm(lab, node) == [
            "TCP 10.10.0.1:80 wrr persistent 300": persistentDR,
            "TCP 10.10.0.2:80 wrr persistent 300": persistentDR,
            "FWM 5 wrr persistent 300": persistentDR,
            "UDP 10.10.0.9:53 rr": ["-> 172.16.0.3:53 Masq 2 0 0"],
            "TCP 10.10.0.9:443 sh": ["-> 172.16.0.4:443 Tunnel 1 0 0"],
        ])

        // Read back: the same table, so nothing to do; one real server changed: one request.
        try lab.exec(node, ["ipvsadm", "-A", "-t", "10.99.0.1:80", "-s", "rr"])   // someone else's service
        let (again, one) = try inNetworkNamespace(node.namespace) { () -> (Int, [IPVSChange]) in
            let client = try IPVSClient()
            let actual = try client.read()
            let none = IPVSReconciler.changes(desired: desired, actual: actual, owned: Set(desired.services.keys))
            var changed = report.configuration
            changed.virtualServers[1].realServers[0].weight = 7
            let next = DesiredTable.build(changed, alive: { _ in true }).0
            let one = IPVSReconciler.changes(desired: next, actual: actual, owned: Set(desired.services.keys))
            try client.apply(one)
            return (none.count, one)
        }
        #expect(again == 0)
        #expect(one.count == 1)
        let after = try Self.ipvsadm(lab, node)
        #expect(after["UDP 10.10.0.9:53 rr"] == ["-> 172.16.0.3:53 Masq 7 0 0"])
        #expect(after["TCP 10.99.0.1:80 rr"] == [], "the foreign service must stay untouched")
    }

    /// The daemon programs its virtual servers at start (the article's DR group).
    @Test func theDaemonProgramsTheArticlesVirtualServerAtStart() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lvs2 = try lab.addNode("lvs2", address: "172.31.18.164/16")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        _ = try lab.startOvercast(lvs2, config: try String(contentsOfFile: root + "/conf/article-lvs2-backup.conf", encoding: .utf8))
        #expect(waitUntil(timeout: 60, interval: 0.5) { (try? Self.ipvsadm(lab, lvs2))?.isEmpty == false }, "\(lab.log(lvs2))")
        #expect(try Self.ipvsadm(lab, lvs2) == ["TCP 192.168.20.11:80 rr": ["-> 172.31.8.1:80 Route 1 0 0", "-> 172.31.8.2:80 Route 1 0 0"]])
        #expect(lab.log(lvs2).contains("IPVS programmed"))
    }

    /// SIGHUP with the same file changes nothing in the kernel (zero netlink change
    /// requests); with one real server's weight changed, exactly that one request.
    @Test func aReloadChangesExactlyWhatTheFileChanged() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lb = try lab.addNode("lb", address: "172.31.18.10/16")
        func config(weight: Int) -> String {
            LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"]).text + """
                virtual_server 192.168.20.11 80 {
                  lb_algo rr
                  lb_kind DR
                  protocol TCP
                  real_server 172.31.8.1 80 {
                    weight \(weight)
                  }
                  real_server 172.31.8.2 80 {
                    weight 1
                  }
                }
                """
        }
        let daemon = try lab.startOvercast(lb, config: config(weight: 1))
        func ipvs() -> [String: Any] { lab.overcastStatus(lb)?["ipvs"] as? [String: Any] ?? [:] }
        func reloads() -> Int { lab.overcastStatus(lb)?["reloads"] as? Int ?? -1 }
        #expect(waitUntil(timeout: 60, interval: 0.5) { (ipvs()["destinations"] as? Int) == 2 }, "\(lab.log(lb))")
        #expect(waitUntil(timeout: 20) { lab.state(lb) == "MASTER" })
        let transitions = lab.instance(lb)?["transitions"] as? Int
        let applied = ipvs()["changesApplied"] as? Int ?? -1
        let table = try Self.ipvsadm(lab, lb)
        for round in 1...2 {
            kill(daemon.pid, SIGHUP)
            #expect(waitUntil(timeout: 30, interval: 0.2) { reloads() == round })
            #expect(ipvs()["changesApplied"] as? Int == applied, "round \(round): \(ipvs())")
            #expect(try Self.ipvsadm(lab, lb) == table)
        }
        try config(weight: 5).write(toFile: lab.path("lb.conf"), atomically: true, encoding: .utf8)
        kill(daemon.pid, SIGHUP)
        #expect(waitUntil(timeout: 30, interval: 0.2) { reloads() == 3 })
        #expect(waitUntil(timeout: 10, interval: 0.2) { ipvs()["changesApplied"] as? Int == applied + 1 }, "\(ipvs())")
        #expect(try Self.ipvsadm(lab, lb)["TCP 192.168.20.11:80 rr"]?.contains("-> 172.31.8.1:80 Route 5 0 0") == true)
        #expect(lab.state(lb) == "MASTER" && lab.instance(lb)?["transitions"] as? Int == transitions)
    }

    /// Health checks drive the table: a stopped web server leaves it, one with
    /// `inhibit_on_failure` stays at weight 0, and both come back when they return.
    @Test func failedRealServersLeaveTheTableOrDropToWeightZero() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lb = try lab.addNode("lb", address: "172.31.18.163/16")
        let webs = try [1, 2].map { try lab.addNode("web\($0)", address: "172.31.8.\($0)/16") }
        func serve(_ i: Int, _ tag: String) throws -> ChildProcess {
            try lab.spawn(webs[i], ["python3", "-m", "http.server", "--bind", "0.0.0.0", "--directory", "/usr/share/doc", "80"],
                          log: "http-\(i)\(tag).log")
        }
        var servers = try [serve(0, ""), serve(1, "")]
        let config = """
            virtual_server 192.168.20.11 80 {
              delay_loop 2
              lb_algo rr
              lb_kind DR
              protocol TCP
              real_server 172.31.8.1 80 {
                weight 2
                inhibit_on_failure
                TCP_CHECK {
                  connect_timeout 2
                  retry 0
                }
              }
              real_server 172.31.8.2 80 {
                weight 3
                TCP_CHECK {
                  connect_timeout 2
                  retry 0
                }
              }
            }
            """
        // A Python web server takes from half a minute to a minute to start in the emulated
        // VM: wait for both to answer HTTP (any status: a missing page is a quick 404,
        // where "/" would list all of /usr/share/doc), so the bounds below are the health
        // checks' alone.
        func serving() -> Bool {
            (try? inNetworkNamespace(lb.namespace) {
                let http = try CurlEasyRequest()
                return ["172.31.8.1", "172.31.8.2"].allSatisfy {
                    ((try? http.get("http://\($0)/overcast-probe", timeoutMilliseconds: 3000).status) ?? 0) > 0
                }
            }) ?? false
        }
        #expect(waitUntil(timeout: 240, interval: 1) { serving() }, "the web servers did not start")
        _ = try lab.startOvercast(lb, config: config)
        let service = "TCP 192.168.20.11:80 rr"
        let both: Set<String> = ["-> 172.31.8.1:80 Route 2 0 0", "-> 172.31.8.2:80 Route 3 0 0"]
        #expect(waitUntil(timeout: 60, interval: 1) { (try? Self.ipvsadm(lab, lb))?[service] == both }, "\(lab.log(lb))")
        servers[0].stop(signal: SIGKILL)
        servers[1].stop(signal: SIGKILL)
        #expect(waitUntil(timeout: 30, interval: 1) { (try? Self.ipvsadm(lab, lb))?[service] == ["-> 172.31.8.1:80 Route 0 0 0"] },
                "\((try? Self.ipvsadm(lab, lb)) ?? [:])")
        servers = try [serve(0, "-again"), serve(1, "-again")]
        #expect(waitUntil(timeout: 240, interval: 1) { serving() }, "the web servers did not restart")
        #expect(waitUntil(timeout: 60, interval: 1) { (try? Self.ipvsadm(lab, lb))?[service] == both })
    }

    /// 200 real servers fail their checks in the same instant: the checker hands the
    /// changes to the IPVS thread, which applies them in a few passes (not one full
    /// reconciliation per server, which made an overloaded checker fall seconds behind),
    /// and the table ends exactly right.
    @Test func aStormOfHealthChangesIsAppliedInAFewPasses() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lb = try lab.addNode("lb", address: "172.31.18.10/16")
        let servers = (1...200).map { "127.0.\($0 / 100).\($0 % 100 + 1)" }
        let config = """
            virtual_server 192.168.20.11 80 {
              delay_loop 3
              lb_algo rr
              lb_kind DR
              protocol TCP

            """ + servers.map { """
                  real_server \($0) 9 {
                    weight 1
                    inhibit_on_failure
                    TCP_CHECK {
                      connect_timeout 2
                      retry 0
                      warmup 0
                    }
                  }

                """ }.joined() + "}\n"
        _ = try lab.startOvercast(lb, config: config)
        func ipvs() -> [String: Any] { lab.overcastStatus(lb)?["ipvs"] as? [String: Any] ?? [:] }
        let service = "TCP 192.168.20.11:80 rr"
        // Nothing listens on port 9: every check is refused at once and every server drops
        // to weight 0 (inhibit_on_failure keeps it in the table).
        #expect(waitUntil(timeout: 120, interval: 1) {
            let table = (try? Self.ipvsadm(lab, lb))?[service] ?? []
            return table.count == 200 && table.allSatisfy { $0.hasSuffix("Route 0 0 0") }
        }, "\(ipvs())\n\(lab.log(lb).suffix(2000))")
        let passes = ipvs()["reconciliations"] as? Int ?? -1
        #expect(passes >= 2 && passes <= 40, "\(passes) reconciliations for 200 changes: \(ipvs())")
        #expect(ipvs()["changesApplied"] as? Int ?? 0 >= 400, "\(ipvs())")   // 200 added, 200 set to weight 0
    }
}
