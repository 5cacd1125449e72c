import Foundation
import Testing
import Lab
import PacketCapture

/// Namespace tier: the article's files unchanged, tracking, notify scripts and their
/// security, and `overcast status` per namespace.
@Suite struct DaemonFeatureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let vip = "192.168.20.11"

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "article config")))
    func theArticlesConfigurationRunsUnchanged() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lvs1 = try lab.addNode("lvs1", address: "172.31.18.163/16")
        let lvs2 = try lab.addNode("lvs2", address: "172.31.18.164/16")
        let master = try lab.startOvercast(lvs1, config: try String(contentsOfFile: Self.root + "/conf/article-lvs1-master.conf", encoding: .utf8))
        _ = try lab.startOvercast(lvs2, config: try String(contentsOfFile: Self.root + "/conf/article-lvs2-backup.conf", encoding: .utf8))
        #expect(waitUntil(timeout: 12) { lab.state(lvs1) == "MASTER" && lab.state(lvs2) == "BACKUP" }, "\(lab.log(lvs1))")
        #expect(lab.holders(Self.vip, among: [lvs1, lvs2]) == ["lvs1"])
        master.stop(signal: SIGKILL)
        _ = try? lab.exec(lvs1, ["ip", "addr", "del", "\(Self.vip)/32", "dev", "eth0"])
        #expect(waitUntil(timeout: 8) { lab.state(lvs2) == "MASTER" && lab.holds(lvs2, Self.vip) })
        // The article's notify_master script does not exist here: logged, nothing else.
        #expect(lab.log(lvs2).contains("notify_master.sh"))
        // This machine's kernel has no IPVS: one clear error, and VRRP ran regardless.
        if !FileManager.default.fileExists(atPath: "/proc/net/ip_vs") {
            #expect(lab.log(lvs2).contains("IPVS is not available in this kernel (modprobe ip_vs)"))
            #expect(lab.log(lvs2).contains("VRRP keeps running"))
        }
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "tracking")))
    func trackScriptWeightAndTrackedInterfaceMoveTheVIP() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        try lab.addVethPair(n1, "t0", peer: "t1")
        let flag = lab.path("healthy")
        #expect(FileManager.default.createFile(atPath: flag, contents: Data()))
        let tracked = """
            vrrp_script chk {
              script "/usr/bin/test -f \(flag)"
              interval 0.2
              weight -60
              fall 1
              rise 1
            }

            """ + LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"],
                              extra: ["track_script {", "  chk", "}", "track_interface {", "  t0", "}"]).text
        _ = try lab.startOvercast(n1, config: tracked)
        _ = try lab.startOvercast(n2, config: LabInstance(priority: 100, version: 3, advertInt: "0.2", source: "172.31.18.11",
                                                          peers: ["172.31.18.10"]).text)
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.state(n2) == "BACKUP" }, "\(lab.log(n1))")

        // The script fails: 150 - 60 = 90 < 100, and n2 preempts.
        try FileManager.default.removeItem(atPath: flag)
        #expect(waitUntil(timeout: 5) { lab.instance(n1)?["effectivePriority"] as? Int == 90 })
        #expect(waitUntil(timeout: 5) { lab.state(n2) == "MASTER" && lab.holders(Self.vip, among: [n1, n2]) == ["n2"] })
        #expect(FileManager.default.createFile(atPath: flag, contents: Data()))
        #expect(waitUntil(timeout: 5) { lab.state(n1) == "MASTER" && lab.instance(n1)?["effectivePriority"] as? Int == 150 })

        // The tracked interface loses its carrier: FAULT, the VIP goes to n2.
        try lab.exec(n1, ["ip", "link", "set", "t1", "down"])
        #expect(waitUntil(timeout: 5) { lab.state(n1) == "FAULT" && lab.state(n2) == "MASTER" })
        #expect(lab.instance(n1)?["faults"] as? [String] == ["interface t0 down"])
        #expect(waitUntil(timeout: 3) { lab.holders(Self.vip, among: [n1, n2]) == ["n2"] })
        try lab.exec(n1, ["ip", "link", "set", "t1", "up"])
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" && lab.holders(Self.vip, among: [n1, n2]) == ["n1"] })
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "notify scripts")))
    func notifyScriptsRunWithKeepalivedsArgumentsAndScriptSecurityRefusesUnsafeOnes() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let events = lab.path("events")
        let script = lab.path("notify.sh")
        try "#!/bin/sh\necho \"$@\" >> \(events)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let masterFlag = lab.path("became-master")
        let config = LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"],
                                 extra: ["notify \(script)", "notify_master \"/usr/bin/touch \(masterFlag)\""]).text
        let daemon = try lab.startOvercast(n1, config: config)
        #expect(waitUntil(timeout: 8) { FileManager.default.fileExists(atPath: masterFlag) })
        daemon.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 3) {
            ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").contains("INSTANCE VI_1 STOP 150")
        })
        let lines = ((try? String(contentsOfFile: events, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        #expect(lines == ["INSTANCE VI_1 BACKUP 150", "INSTANCE VI_1 MASTER 150", "INSTANCE VI_1 STOP 150"])

        // With enable_script_security, a script anyone may write is refused.
        chmod(script, 0o777)
        try? FileManager.default.removeItem(atPath: events)
        let secure = "global_defs {\n  enable_script_security\n}\n" + config
        let second = try lab.startOvercast(n1, config: secure, tag: "-secure")
        #expect(waitUntil(timeout: 8) { lab.log(n1, tag: "-secure").contains("is writable by non-root users") })
        second.stop(signal: SIGTERM)
        #expect(!FileManager.default.fileExists(atPath: events))
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "status per namespace")))
    func statusTalksToTheDaemonOfItsOwnNamespace() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        let empty = try lab.addNode("n3", address: "172.31.18.12/16")
        _ = try lab.startOvercast(n1, config: LabInstance(priority: 150, version: 3, advertInt: "0.5", source: "172.31.18.10",
                                                          peers: ["172.31.18.11"]).text)
        var other = LabInstance(priority: 100, version: 3, advertInt: "0.5", source: "172.31.18.11", peers: ["172.31.18.10"])
        other.name = "VI_OTHER"
        _ = try lab.startOvercast(n2, config: other.text)
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" && lab.state(n2, "VI_OTHER") == "BACKUP" })
        #expect(lab.instance(n1, "VI_OTHER") == nil && lab.instance(n2, "VI_1") == nil)
        let none = try ChildProcess.run(["ip", "netns", "exec", empty.namespace, Binaries.overcast, "status"])
        #expect(none.status == 1)
        #expect(none.output.contains("no overcast daemon is running in this network namespace"))
        // A second daemon in the same namespace is refused with a clear message.
        let twin = try lab.startOvercast(n1, config: LabInstance(priority: 10, source: "172.31.18.10", peers: ["172.31.18.11"]).text, tag: "-twin")
        #expect(waitUntil(timeout: 5) { !twin.isRunning })
        #expect(lab.log(n1, tag: "-twin").contains("another overcast daemon already runs in this network namespace"))
    }
}

extension DaemonFeatureTests {
    /// vrrp_sync_group: a FAULT in one member takes the whole group to the other node.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "sync group")))
    func aSyncGroupMovesTogether() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        try lab.addVethPair(n1, "t0", peer: "t1")
        func config(_ priority: Int, me: String, peer: String, track: Bool) -> String {
            var a = LabInstance(priority: priority, version: 3, advertInt: "0.2", source: me, peers: [peer],
                                extra: track ? ["track_interface {", "  t0", "}"] : [])
            var b = LabInstance(priority: priority, version: 3, advertInt: "0.2", source: me, peers: [peer])
            b.name = "VI_2"
            b.vrid = 52
            b.vip = "192.168.20.12"
            a.name = "VI_1"
            return "vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n}\n" + a.text + b.text
        }
        _ = try lab.startOvercast(n1, config: config(150, me: "172.31.18.10", peer: "172.31.18.11", track: true))
        _ = try lab.startOvercast(n2, config: config(100, me: "172.31.18.11", peer: "172.31.18.10", track: false))
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.state(n1, "VI_2") == "MASTER" })
        try lab.exec(n1, ["ip", "link", "set", "t1", "down"])
        #expect(waitUntil(timeout: 5) { lab.state(n1) == "FAULT" && lab.state(n1, "VI_2") == "FAULT" },
                "\(lab.instance(n1, "VI_2") ?? [:])")
        #expect(waitUntil(timeout: 5) {
            lab.holders("192.168.20.11", among: [n1, n2]) == ["n2"] && lab.holders("192.168.20.12", among: [n1, n2]) == ["n2"]
        })
        try lab.exec(n1, ["ip", "link", "set", "t1", "up"])
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" && lab.state(n1, "VI_2") == "MASTER" })
    }
}

extension DaemonFeatureTests {
    /// A new MASTER announces its VIP with garp_master_repeat gratuitous ARPs, seen on
    /// the wire as they leave it (a VPC drops them before any neighbour: VPCFabricTests);
    /// `no_virtual_ipaddress` keeps the address off the interface while VRRP runs as usual.
    @Test(.enabled(if: VPCLab.available(commands: ["ip", "tcpdump"], test: "gratuitous ARP")))
    func aNewMasterSendsGratuitousARPAndNoVirtualIPAddressIsHonoured() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        _ = try lab.addNode("n2", address: "172.31.18.11/16")
        let tcpdump = try lab.startCapture(n1, file: "arp.pcap", filter: "arp", outgoingOnly: true)
        let capture = lab.path("arp.pcap")
        _ = try lab.startOvercast(n1, config: LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10",
                                                          peers: ["172.31.18.11"], extra: ["garp_master_repeat 3", "garp_master_delay 0"]).text)
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" })
        usleep(500_000)
        tcpdump.stop(signal: SIGINT)
        usleep(100_000)
        let vip: [UInt8] = [192, 168, 20, 11]
        let garps = try CaptureFile.read(capture).filter { frame in
            let b = frame.bytes
            return b.count >= 42 && b[12] == 0x08 && b[13] == 0x06 && Array(b[28..<32]) == vip && Array(b[38..<42]) == vip
                && b[0..<6].allSatisfy { $0 == 0xFF }
        }
        #expect(garps.count == 3, "gratuitous ARPs seen: \(garps.count)")

        // A VIP on another interface than VRRP's (as with the GRE transport: VRRP on the
        // overlay, the VIP on eth0) is announced on its own interface.
        let n4 = try lab.addNode("n4", address: "172.31.18.14/16")
        try lab.addVethPair(n4, "v0", peer: "v1")
        try lab.exec(n4, ["ip", "address", "add", "10.77.0.1/24", "dev", "v0"])
        let other = try lab.startCapture(n4, file: "arp-v1.pcap", filter: "arp", interface: "v1")
        var elsewhere = LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.14", peers: ["172.31.18.15"],
                                    extra: ["garp_master_repeat 2", "garp_master_delay 0"])
        elsewhere.vrid = 61
        elsewhere.vip = "10.77.0.50/32 dev v0"
        _ = try lab.startOvercast(n4, config: elsewhere.text)
        #expect(waitUntil(timeout: 8) { lab.state(n4) == "MASTER" })
        usleep(500_000)
        other.stop(signal: SIGINT)
        usleep(100_000)
        let announced = try CaptureFile.read(lab.path("arp-v1.pcap")).filter { frame in
            let b = frame.bytes
            return b.count >= 42 && b[12] == 0x08 && b[13] == 0x06 && Array(b[28..<32]) == [10, 77, 0, 50]
        }
        #expect(announced.count == 2, "gratuitous ARPs for the VIP on v0 seen on its peer v1: \(announced.count)")

        // no_virtual_ipaddress: MASTER without the VIP on any interface.
        let n3 = try lab.addNode("n3", address: "172.31.18.12/16")
        var routeOnly = LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.12", peers: ["172.31.18.13"],
                                    extra: ["no_virtual_ipaddress"])
        routeOnly.vrid = 60
        _ = try lab.startOvercast(n3, config: routeOnly.text)
        #expect(waitUntil(timeout: 8) { lab.state(n3) == "MASTER" })
        #expect(!lab.holds(n3, "192.168.20.11"))
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip", "setpriv"], test: "status is root only")))
    func statusIsRefusedToOtherUsers() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        _ = try lab.startOvercast(n1, config: LabInstance(priority: 150, version: 3, advertInt: "0.5", source: "172.31.18.10",
                                                          peers: ["172.31.18.11"]).text)
        #expect(waitUntil(timeout: 8) { lab.state(n1) != nil })
        let asNobody = try ChildProcess.run(["ip", "netns", "exec", n1.namespace, "setpriv", "--reuid=nobody", "--regid=nogroup",
                                             "--clear-groups", Binaries.overcast, "status"])
        #expect(asNobody.status == 1)
        #expect(asNobody.output.contains("only root may ask for status"))
    }
}
