import Foundation
import Testing
import Lab

/// Namespace tier: what an idle daemon does between advertisements. Its VRRP threads
/// wake for the advertisements; nothing else in the process should wake at all (the
/// idle-CPU target is twice keepalived's, and keepalived wakes only for VRRP).
@Suite struct IdleDaemonTests {
    /// One thread of a process: its kernel name and how often it has been scheduled.
    struct ThreadSample {
        var name: String
        var wakeups: Int
    }

    /// Every thread of `pid`, by thread id, from /proc: the context switches in `status`
    /// (voluntary and not) count the times a thread was taken off a CPU, so each wake-up.
    static func threads(_ pid: pid_t) -> [Int: ThreadSample] {
        let directory = "/proc/\(pid)/task"
        var result: [Int: ThreadSample] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            guard let tid = Int(entry),
                  let name = try? String(contentsOfFile: "\(directory)/\(entry)/comm", encoding: .utf8),
                  let status = try? String(contentsOfFile: "\(directory)/\(entry)/status", encoding: .utf8) else { continue }
            let switches = status.split(separator: "\n").compactMap { line -> Int? in
                guard line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") else { return nil }
                return line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            }
            guard switches.count == 2 else { continue }
            result[tid] = ThreadSample(name: name.trimmingCharacters(in: .whitespacesAndNewlines), wakeups: switches.reduce(0, +))
        }
        return result
    }

    /// Wake-ups of the threads not named `vrrp-*` over `seconds`, by thread name.
    static func wakeupsOutsideVRRP(_ pid: pid_t, seconds: Double) -> [String: Int] {
        let before = threads(pid)
        usleep(UInt32(seconds * 1_000_000))
        var woken: [String: Int] = [:]
        for (tid, sample) in threads(pid) where !sample.name.hasPrefix("vrrp-") {
            let count = sample.wakeups - (before[tid]?.wakeups ?? 0)
            if count > 0 { woken["\(sample.name) (\(tid))", default: 0] += count }
        }
        return woken
    }

    /// Idle MASTER and BACKUP at advert_int 1, after start-up and after a reload: only the
    /// VRRP threads wake. This fails while anything runs on libdispatch's monitored pool:
    /// its workqueue monitor then wakes a thread every second for the life of the process
    /// (the reason the daemon's tasks run on a serial queue, `OvercommitExecutor`). The
    /// start-up page release sleeps (`Task.sleep`) and the reload runs as a task before the
    /// window, so a runtime that sent either to its own executor fails here too.
    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "idle daemon")))
    func onlyTheVRRPThreadsWakeInAnIdleDaemon() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let addresses = ["172.31.18.10", "172.31.18.11"]
        let nodes = try addresses.enumerated().map { try lab.addNode("n\($0.offset + 1)", address: "\($0.element)/16") }
        let daemons = try nodes.indices.map { i in
            try lab.startOvercast(nodes[i], config: LabInstance(priority: i == 0 ? 150 : 100, version: 2, advertInt: "1",
                                                                password: "1111", source: addresses[i],
                                                                peers: [addresses[1 - i]]).text, logLevel: "info")
        }
        #expect(waitUntil(timeout: 15) { lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP" },
                "\(lab.log(nodes[0]))\n\(lab.log(nodes[1]))")
        // Past the start-up page release (2 s after start) and a reload of each.
        usleep(2_500_000)
        for (daemon, node) in zip(daemons, nodes) {
            kill(daemon.pid, SIGHUP)
            #expect(waitUntil(timeout: 10) { lab.overcastStatus(node)?["reloads"] as? Int == 1 })
        }
        usleep(1_000_000)
        for (daemon, node) in zip(daemons, nodes) {
            // The threads carry their names in the kernel (the VRRP one is found by it).
            #expect(Self.threads(daemon.pid).values.contains { $0.name == "vrrp-VI_1" }, "\(Self.threads(daemon.pid))")
            let woken = Self.wakeupsOutsideVRRP(daemon.pid, seconds: 4)
            #expect(woken.values.reduce(0, +) <= 1, "\(node.name): threads other than VRRP woke: \(woken)")
        }
        #expect(lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP")
    }
}
