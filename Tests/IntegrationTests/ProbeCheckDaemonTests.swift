import Foundation
import Testing
import Lab
import HealthChecks

/// The daemon runs PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK from a keepalived.conf
/// against the real servers of `ProbeCheckEngineTests`' bed: each real server's state and
/// last failure in `overcast status`, a server going down when its service stops (after
/// the checker's retries) and up again when it returns.
@Suite(.serialized) struct ProbeCheckDaemonTests {
    @Test(.enabled(if: Prerequisites.available(commands: ProbeCheckEngineTests.needed, pythonModules: ["aiosmtpd"],
                                              test: "probe checkers in the daemon")))
    func theDaemonShowsEachServersStateAndWhy() throws {
        var bed = try ProbeCheckEngineTests.bed()
        defer { bed.lab.teardown() }
        let svc = ProbeCheckEngineTests.servicesAddress, quiet = ProbeCheckEngineTests.silentAddress
        let common = "connect_timeout 1\n      delay_before_retry 0.3"
        let config = LabInstance(priority: 150, version: 3, advertInt: "0.5", source: "10.77.0.1", peers: ["10.77.0.9"]).text + """
            virtual_server 192.168.20.11 53 {
              delay_loop 0.5
              protocol UDP
              real_server \(svc) 1 {
                PING_CHECK {
                  \(common)
                  retry 1
                }
              }
              real_server \(quiet) 1 {
                PING_CHECK {
                  \(common)
                  retry 0
                }
              }
              real_server \(svc) 7 {
                UDP_CHECK {
                  \(common)
                  retry 1
                  payload 68 65 6c 6c 6f
                  require_reply 68 65 xx 6c 6f
                }
              }
              real_server \(svc) 53 {
                DNS_CHECK {
                  connect_timeout 1
                  type A
                  name www.example.test
                }
              }
              real_server \(svc) 5300 {
                DNS_CHECK {
                  \(common)
                  retry 0
                }
              }
              real_server \(svc) 25 {
                SMTP_CHECK {
                  \(common)
                  retry 1
                  helo_name lab.checker
                }
              }
              real_server \(svc) 2525 {
                SMTP_CHECK {
                  \(common)
                  retry 0
                }
              }
            }
            """
        _ = try bed.lab.startOvercast(bed.checker, config: config)
        /// "ADDRESS:PORT" → (up, last failure).
        func states() -> [String: (Bool, String)] {
            let list = bed.lab.overcastStatus(bed.checker)?["realServers"] as? [[String: Any]] ?? []
            var result: [String: (Bool, String)] = [:]
            for entry in list {
                guard let address = entry["address"] as? String, let port = entry["port"] as? Int else { continue }
                result["\(address):\(port)"] = (entry["up"] as? Bool ?? false, entry["lastFailure"] as? String ?? "")
            }
            return result
        }
        func up(_ key: String) -> Bool? { states()[key]?.0 }
        func failure(_ key: String) -> String { states()[key]?.1 ?? "" }
        func daemonLog() -> String { (try? String(contentsOfFile: bed.lab.path("chk.log"), encoding: .utf8)) ?? "" }

        let healthy = ["\(svc):1", "\(svc):7", "\(svc):53", "\(svc):25"]
        #expect(waitUntil(timeout: 15) { healthy.allSatisfy { up($0) == true } }, "\(states()) \(daemonLog())")
        #expect(waitUntil(timeout: 10) { up("\(quiet):1") == false && up("\(svc):5300") == false && up("\(svc):2525") == false },
                "\(states())")
        func shows(_ key: String, _ text: String) -> Bool { waitUntil(timeout: 10, interval: 0.05) { failure(key) == text } }
        #expect(shows("\(quiet):1", "Timeout: no echo reply from \(quiet) within connect_timeout (1.0 s)"), "\(states())")
        #expect(shows("\(svc):5300", "\(svc):5300: malformed DNS answer: answer of 7 octets, shorter than a DNS header (12)"), "\(states())")
        #expect(shows("\(svc):2525", "\(svc):2525: SMTP greeting reply line is not 'NNN text': 'HTTP/1.0 400 Bad Request'"), "\(states())")
        #expect(daemonLog().contains("real server down"))

        // The services stop and the host ignores ping: each goes down with why.
        for name in ["echo", "dnsmasq", "smtp"] { bed.processes[name]?.stop(signal: SIGKILL) }
        try bed.lab.exec(bed.services, ["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=1"])
        #expect(waitUntil(timeout: 15) { healthy.allSatisfy { up($0) == false } }, "\(states())")
        // Status shows a down server's failure once its next run has failed too (the run
        // in flight has none yet), hence the waits. The kernel sends at most about one
        // port unreachable a second to a host (icmp_ratelimit), so a UDP check whose ICMP
        // error was held back fails by its timeout instead.
        func eventually(_ key: String, _ matches: @escaping (String) -> Bool) -> Bool {
            waitUntil(timeout: 10, interval: 0.05) { matches(failure(key)) }
        }
        let unreachable = { (port: Int) in { (text: String) in
            text == "\(svc):\(port): port unreachable (an ICMP error answered the datagram)" || text.hasPrefix("Timeout:") } }
        #expect(eventually("\(svc):1") { $0 == "Timeout: no echo reply from \(svc) within connect_timeout (1.0 s)" }, "\(states())")
        #expect(eventually("\(svc):7", unreachable(7)), "\(states())")
        #expect(eventually("\(svc):7") { $0.contains("port unreachable") }, "\(states())")
        #expect(eventually("\(svc):53", unreachable(53)), "\(states())")
        #expect(eventually("\(svc):25") { $0.contains("Connection refused") }, "\(states())")

        // They come back.
        try bed.lab.exec(bed.services, ["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=0"])
        let script = bed.lab.path("helper.py")
        bed.processes["echo"] = try bed.lab.spawn(bed.services, ["python3", script, "echo", "7"], log: "echo-again.log")
        bed.processes["smtp"] = try bed.lab.spawn(bed.services, ["python3", "-m", "aiosmtpd", "-n", "-l", "\(svc):25"], log: "smtp-again.log")
        #expect(waitUntil(timeout: 15) { up("\(svc):1") == true && up("\(svc):7") == true && up("\(svc):25") == true }, "\(states())")
        #expect(up("\(svc):53") == false)

        let checker = bed.lab.overcastStatus(bed.checker)?["healthChecker"] as? [String: Any] ?? [:]
        #expect((checker["transfersFailed"] as? Int ?? 0) > 0 && (checker["timeouts"] as? Int ?? 0) > 0, "\(checker)")
    }
}
