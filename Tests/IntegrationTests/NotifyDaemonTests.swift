import Foundation
import Testing
import Lab
import NetworkTypes
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// Namespace tier: keepalived's notify machinery in the real daemon: notify FIFOs (one
/// read by this test, one by its `_script`), a sync group's own notifies and its
/// track_interface, vrrp_startup_delay, startup/shutdown scripts and a vrrp_script run
/// as `nobody`.
@Suite struct NotifyDaemonTests {
    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
    }

    static func read(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// What a FIFO holds now, read without blocking.
    static func drain(_ descriptor: Int32) -> String {
        var text = ""
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            guard n > 0 else { break }
            text += String(decoding: buffer[0..<n], as: UTF8.self)
        }
        return text
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "notify FIFO and sync group notifies")))
    func fifoLinesAndTheSyncGroupsOwnNotifiesAndTracking() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        try lab.addVethPair(n1, "t0", peer: "t1")
        let fifo = lab.path("vrrp.fifo"), scriptFIFO = lab.path("script.fifo")
        let readBack = lab.path("read-by-script"), groupEvents = lab.path("group-events"), groupMaster = lab.path("group-master")
        let reader = lab.path("reader.sh"), groupNotify = lab.path("group-notify.sh")
        try Self.write("#!/bin/sh\nwhile read -r line; do echo \"$line\" >> \(readBack); done < \"$1\"\n", to: reader)
        try Self.write("#!/bin/sh\necho \"$@\" >> \(groupEvents)\n", to: groupNotify)
        var a = LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"])
        var b = a
        b.name = "VI_2"
        b.vrid = 52
        b.vip = "192.168.20.12"
        a.name = "VI_1"
        let config = """
            global_defs {
              notify_fifo \(fifo)
              vrrp_notify_fifo \(scriptFIFO)
              vrrp_notify_fifo_script \(reader)
              fifo_write_vrrp_states_on_reload
            }
            vrrp_sync_group G {
              group {
                VI_1
                VI_2
              }
              track_interface {
                t0
              }
              notify \(groupNotify)
              notify_master "/usr/bin/touch \(groupMaster)"
            }

            """ + a.text + b.text
        let daemon = try lab.startOvercast(n1, config: config)
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.state(n1, "VI_2") == "MASTER" }, "\(lab.log(n1))")
        #expect(waitUntil(timeout: 3) { FileManager.default.fileExists(atPath: groupMaster) })
        #expect(waitUntil(timeout: 3) { Self.read(groupEvents) == ["GROUP G BACKUP 0", "GROUP G MASTER 0"] },
                "\(Self.read(groupEvents))")
        #expect(lab.overcastStatus(n1)?["syncGroups"] as? [String: String] == ["G": "MASTER"])

        // The FIFO this test reads: the daemon made it and queued the lines for a reader.
        var info = stat()
        #expect(stat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)
        let descriptor = open(fifo, O_RDONLY | O_NONBLOCK)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        var seen = ""
        let wanted = ["INSTANCE \"VI_1\" BACKUP 150", "INSTANCE \"VI_1\" MASTER 150", "INSTANCE \"VI_2\" MASTER 150",
                      "GROUP \"G\" BACKUP 0", "GROUP \"G\" MASTER 0"]
        #expect(waitUntil(timeout: 3) { seen += Self.drain(descriptor); return wanted.allSatisfy(seen.contains) }, "\(seen)")
        // The script started with the other FIFO's path reads the same lines.
        #expect(waitUntil(timeout: 3) { wanted.allSatisfy(Self.read(readBack).contains) }, "\(Self.read(readBack))")

        // The group's tracked interface loses its carrier: every member in FAULT, one group FAULT.
        try lab.exec(n1, ["ip", "link", "set", "t1", "down"])
        #expect(waitUntil(timeout: 5) { lab.state(n1) == "FAULT" && lab.state(n1, "VI_2") == "FAULT" })
        #expect((lab.instance(n1, "VI_2")?["faults"] as? [String])?.contains("interface t0 down") == true)
        #expect(waitUntil(timeout: 3) { Self.read(groupEvents).last == "GROUP G FAULT 0" })
        #expect(waitUntil(timeout: 3) { seen += Self.drain(descriptor); return seen.contains("GROUP \"G\" FAULT 0") })
        try lab.exec(n1, ["ip", "link", "set", "t1", "up"])
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" && lab.state(n1, "VI_2") == "MASTER" })
        let fifos = lab.overcastStatus(n1)?["notifyFIFOs"] as? [[String: Any]] ?? []
        #expect(fifos.count == 2 && fifos.allSatisfy { ($0["linesDropped"] as? Int) == 0 }, "\(fifos)")

        // fifo_write_vrrp_states_on_reload: a SIGHUP writes every state again, with no transition.
        _ = Self.drain(descriptor)
        kill(daemon.pid, SIGHUP)
        var reloaded = ""
        let states = ["INSTANCE \"VI_1\" MASTER 150", "INSTANCE \"VI_2\" MASTER 150", "GROUP \"G\" MASTER 0"]
        #expect(waitUntil(timeout: 5) { reloaded += Self.drain(descriptor); return states.allSatisfy(reloaded.contains) },
                "\(reloaded)")
        #expect(lab.overcastStatus(n1)?["reloads"] as? Int == 1 && lab.state(n1) == "MASTER")

        daemon.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 5) { Self.read(groupEvents).last == "GROUP G STOP 0" }, "\(Self.read(groupEvents))")
        #expect(Self.read(groupEvents).filter { $0 == "GROUP G MASTER 0" }.count == 2)
    }

    /// A tracked interface already down when the daemon starts: through vrrp_startup_delay
    /// the instance stays INIT and runs no notify (the fault waits for the start, as in
    /// keepalived, whose instances only start after the delay); then FAULT and notify_fault.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "a fault during the startup delay")))
    func aFaultDuringTheStartupDelayWaitsForTheStart() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        try lab.addVethPair(n1, "t0", peer: "t1")
        try lab.exec(n1, ["ip", "link", "set", "t1", "down"])
        let faulted = lab.path("faulted")
        let config = """
            global_defs {
              vrrp_startup_delay 2
            }

            """ + LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"],
                              extra: ["track_interface {", "  t0", "}", "notify_fault \"/usr/bin/touch \(faulted)\""]).text
        _ = try lab.startOvercast(n1, config: config)
        var samples: [(uptime: Double, state: String, notified: Bool)] = []
        #expect(waitUntil(timeout: 10, interval: 0.05) {
            guard let status = lab.overcastStatus(n1), let uptime = status["uptimeSeconds"] as? Double,
                  let state = (status["instances"] as? [[String: Any]])?.first?["state"] as? String else { return false }
            samples.append((uptime, state, FileManager.default.fileExists(atPath: faulted)))
            return state == "FAULT"
        }, "\(lab.log(n1))")
        #expect(samples.contains { $0.state == "INIT" && $0.uptime >= 1 }, "\(samples)")
        #expect(!samples.contains { $0.uptime < 1.9 && ($0.state != "INIT" || $0.notified) }, "\(samples)")
        #expect((samples.first { $0.state != "INIT" }?.uptime ?? 0) >= 2, "\(samples)")
        #expect(waitUntil(timeout: 3) { FileManager.default.fileExists(atPath: faulted) })
        #expect((lab.instance(n1)?["faults"] as? [String])?.contains("interface t0 down") == true)
    }

    /// A SIGHUP while the daemon starts (here during a 1.5 s startup_script) is held and
    /// carried out once it runs. Before, SIGHUP's default action ended the process: the
    /// soak's reload right after a restart (seed 401, in the kernel-tier VM) killed it.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "SIGHUP during start-up")))
    func aReloadAskedForDuringStartUpWaitsAndIsCarriedOut() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let started = lab.path("started")
        try Self.write("#!/bin/sh\nsleep 1.5\necho started > \(started)\n", to: lab.path("up.sh"))
        let config = "global_defs {\n  startup_script \(lab.path("up.sh"))\n  startup_script_timeout 5\n}\n"
            + LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"]).text
        let daemon = try lab.startOvercast(n1, config: config)
        usleep(500_000)
        #expect(Self.read(started).isEmpty, "still in its startup_script")
        kill(daemon.pid, SIGHUP)
        #expect(waitUntil(timeout: 10) { lab.overcastStatus(n1)?["reloads"] as? Int == 1 }, "\(lab.log(n1))")
        #expect(daemon.poll() == nil, "the daemon runs")
        #expect(lab.state(n1) != nil)
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip", "setpriv"], test: "startup delay and life-cycle scripts")))
    func startupDelayStartupAndShutdownScriptsAndAScriptRunAsNobody() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        // A directory `nobody` may write in, under a lab directory it may enter.
        chmod(lab.directory, 0o755)
        let shared = lab.path("shared")
        try FileManager.default.createDirectory(atPath: shared, withIntermediateDirectories: true)
        chmod(shared, 0o777)
        let started = lab.path("started"), stoppedView = lab.path("addresses-at-shutdown"), uid = "\(shared)/uid"
        try Self.write("#!/bin/sh\necho started > \(started)\n", to: lab.path("up.sh"))
        try Self.write("#!/bin/sh\nip -o address show > \(stoppedView)\n", to: lab.path("down.sh"))
        try Self.write("#!/bin/sh\nid -u > \(uid)\n", to: "\(shared)/check.sh")
        let notifyUID = "\(shared)/notify-uid"
        try Self.write("#!/bin/sh\nid -u > \(notifyUID)\n", to: "\(shared)/master.sh")
        let config = """
            global_defs {
              vrrp_startup_delay 2
              startup_script \(lab.path("up.sh"))
              startup_script_timeout 5
              shutdown_script \(lab.path("down.sh"))
            }
            vrrp_script chk {
              script \(shared)/check.sh
              interval 0.5
              user nobody
            }

            """ + LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"],
                              extra: ["track_script {", "  chk", "}", "notify_master \(shared)/master.sh nobody"]).text
        let daemon = try lab.startOvercast(n1, config: config)
        // Status answers only once the startup script has run: its mark is there by then.
        #expect(waitUntil(timeout: 5) { lab.overcastStatus(n1) != nil })
        #expect(Self.read(started) == ["started"])
        var samples: [(uptime: Double, state: String)] = []
        #expect(waitUntil(timeout: 10, interval: 0.05) {
            guard let status = lab.overcastStatus(n1), let uptime = status["uptimeSeconds"] as? Double,
                  let state = (status["instances"] as? [[String: Any]])?.first?["state"] as? String else { return false }
            samples.append((uptime, state))
            return state == "MASTER"
        }, "\(lab.log(n1))")
        // INIT through the delay, and MASTER no sooner than the delay after the start.
        #expect(samples.contains { $0.state == "INIT" && $0.uptime >= 1 }, "\(samples)")
        #expect((samples.first { $0.state != "INIT" }?.uptime ?? 0) >= 2, "\(samples)")
        #expect(lab.log(n1).contains("vrrp_startup_delay"))

        // The vrrp_script ran as nobody.
        #expect(waitUntil(timeout: 5) { Self.read(uid) == ["65534"] }, "\(Self.read(uid))")
        // So did the notify_master script given `nobody` after it.
        #expect(waitUntil(timeout: 5) { Self.read(notifyUID) == ["65534"] }, "\(Self.read(notifyUID))")

        // The shutdown script runs after the instances stopped: the VIP is gone by then.
        daemon.stop(signal: SIGTERM)
        #expect(waitUntil(timeout: 8) { !Self.read(stoppedView).isEmpty })
        #expect(!Self.read(stoppedView).joined().contains("192.168.20.11"))
        #expect(Self.read(stoppedView).joined().contains("172.31.18.10"))
    }

    /// keepalived's stale-writer case: a MASTER that hears a lower priority runs
    /// notify_master_rx_lower_pri (here a valid advertisement of priority 100 sent from
    /// the peer's address by the test) and stays MASTER.
    @Test(.enabled(if: VPCLab.available(commands: ["ip", "python3"], test: "notify_master_rx_lower_pri")))
    func aMasterHearingALowerPriorityRunsRxLowerPri() throws {
        try Prerequisites.require(commands: ["ip", "python3"])
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let peer = try lab.addNode("n2", address: "172.31.18.11/16")
        let heard = lab.path("heard-lower")
        let fifo = lab.path("events.fifo")
        try Self.write("#!/bin/sh\necho lower >> \(heard)\n", to: lab.path("reclaim.sh"))
        let config = "global_defs {\n  notify_fifo \(fifo)\n}\n" + LabInstance(
            priority: 150, password: "1111", source: "172.31.18.10", peers: ["172.31.18.11"],
            extra: ["notify_master_rx_lower_pri \(lab.path("reclaim.sh"))"]).text
        _ = try lab.startOvercast(n1, config: config)
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" })
        #expect(Self.read(heard).isEmpty)
        let me = IPv4Address(172, 31, 18, 10), source = IPv4Address(172, 31, 18, 11)
        let advert = VRRPAdvertisement(version: .v2, virtualRouterID: 51, priority: 100, advertisementInterval: .seconds(1),
                                       addresses: [IPv4Address(192, 168, 20, 11)], authType: .simplePassword,
                                       authenticationData: VRRPAdvertisement.passwordData("1111"))
        let bytes = try advert.encoded(pseudoHeader: PseudoHeader(source: source, destination: me))
        let script = lab.path("send.py")
        try ForgedPacketTests.sender.write(toFile: script, atomically: true, encoding: .utf8)
        try lab.exec(peer, ["python3", script, "\(source)", "\(me)", "255", hexEncode(bytes)])
        #expect(waitUntil(timeout: 5) { Self.read(heard) == ["lower"] }, "\(lab.log(n1))")
        #expect(lab.state(n1) == "MASTER")
        let descriptor = open(fifo, O_RDONLY | O_NONBLOCK)
        defer { close(descriptor) }
        #expect(Self.drain(descriptor).contains("INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 150"))
    }
}
