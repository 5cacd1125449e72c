import Foundation
import Testing
import Lab
import HealthChecks
import LinuxNet

/// omega and ha_suspend in the daemon, against the logging servers of
/// `CheckSourceLabTests`: at stop, the omega virtual server's up real server runs its
/// notify_down and the virtual server its quorum_down (scripts writing to files), the
/// others nothing more; a virtual server with ha_suspend has its checks stop reaching the
/// server while its address is not on the host and start again when it is added.
@Suite(.serialized) struct OmegaAndSuspendDaemonTests {
    static func note(_ lab: NetworkLab, _ name: String) throws -> String {
        let path = lab.path("\(name).sh")
        try "#!/bin/sh\necho \"$@\" >> \(lab.path(name + ".out"))\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }

    static func lines(_ lab: NetworkLab, _ name: String) -> [String] {
        ((try? String(contentsOfFile: lab.path(name + ".out"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func upStates(_ bed: CheckSourceLabTests.Bed) -> [String: Bool] {
        let list = bed.lab.overcastStatus(bed.checker)?["realServers"] as? [[String: Any]] ?? []
        var result: [String: Bool] = [:]
        for entry in list {
            guard let vs = entry["virtualServer"] as? String, let port = entry["port"] as? Int else { continue }
            result["\(vs) \(port)"] = entry["up"] as? Bool
        }
        return result
    }

    @Test(.enabled(if: Prerequisites.available(commands: CheckSourceLabTests.needed, test: "omega at daemon stop")))
    func omegaRunsTheDownNotifiersAtStop() throws {
        let bed = try CheckSourceLabTests.bed()
        defer { bed.lab.teardown() }
        let note = try Self.note(bed.lab, "notes")
        let svc = CheckSourceLabTests.serverAddress
        let check = "TCP_CHECK {\n      connect_timeout 1\n      retry 0\n    }"
        let config = LabInstance(priority: 150, version: 3, advertInt: "0.5", source: CheckSourceLabTests.checkerAddress,
                                 peers: ["10.80.0.9"]).text + """
            virtual_server 10.80.0.100 8080 {
              delay_loop 0.3
              omega
              quorum_down "\(note) quorum_down omega"
              real_server \(svc) 8080 {
                notify_down "\(note) notify_down up-server"
                \(check)
              }
              real_server \(svc) 9 {
                notify_down "\(note) notify_down down-server"
                \(check)
              }
            }
            virtual_server 10.80.0.101 8443 {
              delay_loop 0.3
              quorum_down "\(note) quorum_down plain"
              real_server \(svc) 8443 {
                notify_down "\(note) notify_down no-omega"
                \(check)
              }
            }
            """
        let daemon = try bed.lab.startOvercast(bed.checker, config: config)
        func log() -> String { (try? String(contentsOfFile: bed.lab.path("chk.log"), encoding: .utf8)) ?? "" }
        #expect(waitUntil(timeout: 15) {
            let up = Self.upStates(bed)
            return up["TCP 10.80.0.100:8080 8080"] == true && up["TCP 10.80.0.100:8080 9"] == false && up["TCP 10.80.0.101:8443 8443"] == true
        }, "\(Self.upStates(bed)) \(log())")
        // Running: the down server's notify_down.
        #expect(waitUntil(timeout: 5) { Self.lines(bed.lab, "notes").contains("notify_down down-server") }, "\(Self.lines(bed.lab, "notes"))")
        let before = Self.lines(bed.lab, "notes")

        _ = daemon.stop(signal: SIGTERM, timeout: 10)
        let after = Array(Self.lines(bed.lab, "notes").dropFirst(before.count))
        // At stop: the up server's notify_down, then the quorum_down; not the down server's
        // again, nothing of the virtual server without omega.
        #expect(Set(after) == ["notify_down up-server", "quorum_down omega"], "before \(before), at stop \(after)")
        #expect(log().contains("omega: running quorum_down at shutdown"))
    }

    @Test(.enabled(if: Prerequisites.available(commands: CheckSourceLabTests.needed, test: "ha_suspend")))
    func haSuspendStopsTheChecksWhileTheAddressIsAbsent() throws {
        let bed = try CheckSourceLabTests.bed()
        defer { bed.lab.teardown() }
        let svc = CheckSourceLabTests.serverAddress, me = CheckSourceLabTests.checkerAddress, vip = "10.80.0.123"
        let check = "TCP_CHECK {\n      connect_timeout 1\n    }"
        // The second virtual server always checks: the test's clock, in checks, not seconds.
        let config = LabInstance(priority: 150, version: 3, advertInt: "0.5", source: me, peers: ["10.80.0.9"]).text + """
            virtual_server \(vip) 8080 {
              delay_loop 0.2
              ha_suspend
              real_server \(svc) 8080 {
                \(check)
              }
            }
            virtual_server 10.80.0.124 8443 {
              delay_loop 0.2
              real_server \(svc) 8443 {
                \(check)
              }
            }
            """
        _ = try bed.lab.startOvercast(bed.checker, config: config)
        func log() -> String { (try? String(contentsOfFile: bed.lab.path("chk.log"), encoding: .utf8)) ?? "" }
        func suspended() -> Bool { bed.seen.filter { $0.hasPrefix("tcp \(me) ") }.isEmpty }
        func checks(_ kind: String) -> Int { bed.seen.filter { $0.hasPrefix("\(kind) \(me) ") }.count }
        func afterControlChecks(_ n: Int) -> Bool {
            let start = checks("tls")
            return waitUntil(timeout: 20) { checks("tls") >= start + n }
        }

        #expect(waitUntil(timeout: 10) { log().contains("health checks suspended") }, "\(log())")
        #expect(afterControlChecks(8), "the other virtual server's checks did not run: \(bed.seen)")
        #expect(suspended(), "checks reached the server while \(vip) was absent: \(bed.seen)")
        #expect(Self.upStates(bed)["TCP \(vip):8080 8080"] == true, "a suspended server keeps its state: \(Self.upStates(bed))")

        _ = try bed.lab.exec(bed.checker, ["ip", "address", "add", "\(vip)/32", "dev", "eth0"])
        #expect(waitUntil(timeout: 10) { checks("tcp") >= 3 }, "no checks after \(vip) was added: \(bed.seen) \(log())")
        #expect(log().contains("health checks resumed"))

        _ = try bed.lab.exec(bed.checker, ["ip", "address", "del", "\(vip)/32", "dev", "eth0"])
        #expect(waitUntil(timeout: 10) { log().components(separatedBy: "health checks suspended").count == 3 }, "\(log())")
        let atSuspension = checks("tcp")
        #expect(afterControlChecks(8))
        // A check already under way when the address went may still land.
        #expect(checks("tcp") <= atSuspension + 1, "checks went on after \(vip) was removed: \(bed.seen)")
    }

    /// keepalived's use of ha_suspend: a virtual server on the VRRP instance's VIP is not
    /// checked while the node is BACKUP, and is once the instance is MASTER and has added
    /// the VIP.
    @Test(.enabled(if: Prerequisites.available(commands: CheckSourceLabTests.needed, test: "ha_suspend on a VRRP VIP")))
    func haSuspendChecksOnlyOnTheMaster() throws {
        let bed = try CheckSourceLabTests.bed()
        defer { bed.lab.teardown() }
        let me = CheckSourceLabTests.checkerAddress
        let instance = LabInstance(priority: 150, version: 3, advertInt: "0.5", source: me, peers: ["10.80.0.9"])
        _ = try bed.lab.startOvercast(bed.checker, config: instance.text + """
            virtual_server \(instance.vip) 8080 {
              delay_loop 0.2
              ha_suspend
              real_server \(CheckSourceLabTests.serverAddress) 8080 {
                TCP_CHECK {
                  connect_timeout 1
                }
              }
            }
            """)
        func checks() -> Int { bed.seen.filter { $0.hasPrefix("tcp \(me) ") }.count }
        // The VIP is only ever added here: a count read while it is still absent afterwards
        // was read while it was absent, and must be 0.
        var absentReads = 0
        let master = waitUntil(timeout: 20, interval: 0.05) {
            let count = checks()
            if bed.lab.holds(bed.checker, instance.vip) { return true }
            #expect(count == 0, "a check reached the server before the VIP was on the host: \(bed.seen)")
            absentReads += 1
            return false
        }
        #expect(master && absentReads > 0, "the instance never became MASTER, or was at once")
        #expect(waitUntil(timeout: 10) { checks() >= 2 }, "no checks once MASTER: \(bed.seen)")
    }

    /// What ha_suspend reads: every IPv4 and IPv6 address of the namespace, one just added
    /// included, and no other.
    @Test(.enabled(if: Prerequisites.available(commands: ["ip"], test: "reading the host's addresses")))
    func theHostsAddressesOfBothFamiliesAreRead() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let node = try lab.addNode("addr", address: "10.83.0.1/24")
        _ = try lab.exec(node, ["ip", "address", "add", "2001:db8::83/64", "dev", "eth0", "nodad"])
        let local = try inNetworkNamespace(node.namespace) { try NetlinkSocket(.route).localAddressBytes() }
        for address in ["10.83.0.1", "127.0.0.1", "::1", "2001:db8::83"] {
            #expect(local.contains(try #require(AddressLiteral.octets(address))), "\(address) not in \(local)")
        }
        #expect(!local.contains([10, 83, 0, 2]))
    }
}
