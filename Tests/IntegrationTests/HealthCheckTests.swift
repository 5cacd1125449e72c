import Foundation
import Testing
import Lab

/// Namespace tier: the daemon checks real HTTP servers running in their own
/// namespaces; a stopped server goes down within delay_loop + retries, its notify_down
/// script runs, and it comes back up when it returns. (IPVS is programmed from these
/// states in the kernel tier; this machine's kernel has none.)
@Suite struct HealthCheckTests {
    @Test(.enabled(if: VPCLab.available(commands: ["ip", "python3"], test: "health checks")))
    func aStoppedWebServerGoesDownAndComesBack() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lb = try lab.addNode("lb", address: "172.31.18.163/16")
        let web1 = try lab.addNode("web1", address: "172.31.8.1/16")
        let web2 = try lab.addNode("web2", address: "172.31.8.2/16")
        func serve(_ node: NetworkLab.Node, tag: String) throws -> ChildProcess {
            try lab.spawn(node, ["python3", "-m", "http.server", "--bind", "0.0.0.0", "--directory", "/usr/share/doc", "80"],
                          log: "http-\(node.name)\(tag).log")
        }
        _ = try serve(web1, tag: "")
        var second = try serve(web2, tag: "")
        let events = lab.path("events")
        let config = LabInstance(priority: 150, version: 3, advertInt: "0.5", source: "172.31.18.163", peers: ["172.31.18.164"]).text + """
            virtual_server 192.168.20.11 80 {
              delay_loop 1
              lb_algo rr
              lb_kind DR
              protocol TCP
              real_server 172.31.8.1 80 {
                HTTP_GET {
                  url {
                    path /
                  }
                  connect_timeout 1
                  retry 1
                  delay_before_retry 0.5
                }
              }
              real_server 172.31.8.2 80 {
                notify_down "/bin/sh -c 'echo down >> \(events)'"
                notify_up "/bin/sh -c 'echo up >> \(events)'"
                TCP_CHECK {
                  connect_timeout 1
                  retry 1
                  delay_before_retry 0.5
                }
              }
            }
            """
        // Real servers are checked directly, as keepalived does: a proxy in the daemon's
        // environment (there for the EC2 API, say; nothing listens on it here) must not
        // carry the checks.
        _ = try lab.startOvercast(lb, config: config, environment: ["http_proxy=http://127.0.0.1:9", "ALL_PROXY=http://127.0.0.1:9"])
        func states() -> [String: Bool] {
            let list = lab.overcastStatus(lb)?["realServers"] as? [[String: Any]] ?? []
            return Dictionary(list.compactMap { entry in
                (entry["address"] as? String).map { ($0, entry["up"] as? Bool ?? false) }
            }, uniquingKeysWith: { a, _ in a })
        }
        #expect(waitUntil(timeout: 10) { states() == ["172.31.8.1": true, "172.31.8.2": true] }, "\(states()) \(lab.log(lb))")

        // delay_loop 1 + retry 1 x 0.5 s + connect_timeout: down within a few seconds.
        second.stop(signal: SIGKILL)
        #expect(waitUntil(timeout: 8) { states() == ["172.31.8.1": true, "172.31.8.2": false] }, "\(states())")
        #expect(waitUntil(timeout: 3) { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").contains("down") })
        #expect(lab.log(lb).contains("real server down"))
        // The checker's own counters: every transfer finished belongs to a run started, the
        // refused connects (first try and retry) are failures, and a refusal is no timeout.
        let checker = lab.overcastStatus(lb)?["healthChecker"] as? [String: Any] ?? [:]
        func count(_ key: String) -> Int { checker[key] as? Int ?? -1 }
        #expect(count("runsStarted") >= 2 && count("transfersFinished") >= 2 && count("passes") > 0, "\(checker)")
        #expect(count("transfersFinished") <= count("runsStarted"), "\(checker)")
        #expect(count("transfersFailed") >= 2 && count("timeouts") == 0, "\(checker)")

        second = try serve(web2, tag: "-again")
        #expect(waitUntil(timeout: 8) { states() == ["172.31.8.1": true, "172.31.8.2": true] })
        #expect(waitUntil(timeout: 3) { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").contains("up") })
    }
}

extension HealthCheckTests {
    /// MISC_CHECK runs its script with keepalived's meaning of the exit status; a reload
    /// with the same file keeps a down server down (no flap); losing the quorum runs
    /// quorum_down.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "misc check")))
    func miscCheckReloadAndQuorum() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lb = try lab.addNode("lb", address: "172.31.18.163/16")
        let flag = lab.path("healthy"), events = lab.path("events")
        #expect(FileManager.default.createFile(atPath: flag, contents: Data()))
        let config = LabInstance(priority: 150, version: 3, advertInt: "0.5", source: "172.31.18.163", peers: ["172.31.18.164"]).text + """
            virtual_server 192.168.20.11 80 {
              delay_loop 0.5
              quorum 1
              quorum_down "/bin/sh -c 'echo quorum_down >> \(events)'"
              quorum_up "/bin/sh -c 'echo quorum_up >> \(events)'"
              real_server 172.31.8.1 80 {
                MISC_CHECK {
                  misc_path "/usr/bin/test -f \(flag)"
                  misc_timeout 2
                  retry 0
                }
              }
            }
            """
        let daemon = try lab.startOvercast(lb, config: config)
        func up() -> Bool? { (lab.overcastStatus(lb)?["realServers"] as? [[String: Any]])?.first?["up"] as? Bool }
        #expect(waitUntil(timeout: 10) { up() == true })
        try FileManager.default.removeItem(atPath: flag)
        #expect(waitUntil(timeout: 5) { up() == false })
        #expect(waitUntil(timeout: 3) { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").contains("quorum_down") })

        // Reload with the same file: the server stays down, no "up" in between.
        let ups = lab.log(lb).components(separatedBy: "real server up").count
        kill(daemon.pid, SIGHUP)
        #expect(waitUntil(timeout: 5) { lab.overcastStatus(lb)?["reloads"] as? Int == 1 })
        usleep(1_500_000)
        #expect(up() == false)
        #expect(lab.log(lb).components(separatedBy: "real server up").count == ups)

        #expect(FileManager.default.createFile(atPath: flag, contents: Data()))
        #expect(waitUntil(timeout: 5) { up() == true })
        #expect(waitUntil(timeout: 3) { ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").contains("quorum_up") })
    }
}

extension HealthCheckTests {
    /// A check runs every delay_loop counted from the previous check's start, so a real
    /// server that takes 0.4 s to answer is still asked once a second (counting from the
    /// answer, as keepalived does, made it every 1.4 s).
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "check cadence")))
    func aSlowServerIsStillCheckedEveryDelayLoop() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lb = try lab.addNode("lb", address: "172.31.18.163/16")
        let web = try lab.addNode("web", address: "172.31.8.1/16")
        let server = try RecordingHTTPServer(namespace: web.namespace, ports: [80], answerDelay: 0.4)
        let config = LabInstance(priority: 150, version: 3, advertInt: "0.5", source: "172.31.18.163", peers: ["172.31.18.164"]).text + """
            virtual_server 192.168.20.11 80 {
              delay_loop 1
              real_server 172.31.8.1 80 {
                HTTP_GET {
                  url {
                    path /
                  }
                  connect_timeout 2
                }
              }
            }
            """
        _ = try lab.startOvercast(lb, config: config)
        #expect(waitUntil(timeout: 15, interval: 0.5) { (server.snapshot["172.31.8.1"]?.count ?? 0) >= 7 })
        let arrivals = server.stop()["172.31.8.1"] ?? []
        let intervals = zip(arrivals.dropFirst(), arrivals).map { $0 - $1 }.dropFirst()
        let sorted = intervals.sorted()
        #expect(sorted.count >= 5, "\(arrivals)")
        if !sorted.isEmpty {
            let median = sorted[sorted.count / 2]
            #expect(abs(median - 1.0) < 0.15, "intervals \(sorted)")
        }
        #expect((lab.overcastStatus(lb)?["realServers"] as? [[String: Any]])?.first?["up"] as? Bool == true)
    }
}

extension HealthCheckTests {
    /// A checker with many runs due at once starts at most 64 before its next pass over
    /// the transfers, so answers already in are read between batches of connects. Here 150
    /// checkers are due in the same instant (`warmup 0`): the first pass meets the cap.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "starts per pass")))
    func manyDueChecksStartInBatchesOfSixtyFour() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lb = try lab.addNode("lb", address: "172.31.18.163/16")
        // Nothing listens on these ports: each connect is refused at once, which is enough
        // to count starts.
        let services = (0..<150).map { n in """
            virtual_server 192.168.21.\(n + 1) 80 {
              delay_loop 5
              real_server 127.0.0.1 \(9000 + n) {
                TCP_CHECK {
                  connect_timeout 1
                  warmup 0
                }
              }
            }
            """ }
        let config = LabInstance(priority: 150, version: 3, advertInt: "0.5", source: "172.31.18.163", peers: ["172.31.18.164"]).text
            + services.joined(separator: "\n")
        _ = try lab.startOvercast(lb, config: config)
        func checker() -> [String: Any] { lab.overcastStatus(lb)?["healthChecker"] as? [String: Any] ?? [:] }
        #expect(waitUntil(timeout: 15) { (checker()["runsStarted"] as? Int ?? 0) >= 150 }, "\(checker()) \(lab.log(lb))")
        #expect(checker()["mostStartsInOnePass"] as? Int == 64, "\(checker())")
    }
}
