import ChildProcesses
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Carrying out the schedule's faults on the cluster: each kind's start and end.
extension SoakRunner {
    func apply(_ fault: FaultSchedule.Fault, start: Bool, at t: Double,
                       flapping: inout [Int: (fault: FaultSchedule.Fault, next: Double, up: Bool)]) {
        record(t, "\(start ? "start" : "end") \(fault.description)")
        let i = fault.node
        do {
            switch (fault.kind, start) {
            case (.kill, true): stopDaemon(i, signal: SIGKILL)
            case (.stop, true): stopDaemon(i, signal: SIGTERM)
            case (.kill, false), (.stop, false): try startDaemon(i)
            case (.pause, true):
                paused.insert(i)
                signal(i, SIGSTOP)
            case (.pause, false):
                signal(i, SIGCONT)
                paused.remove(i)
            case (.reloadUnchanged, true): try reload(i, nil)
            case (.reloadUnchanged, false): break
            case (.reloadPriority, true): try reload(i, config(i, priorityShift: true))
            case (.reloadBroken, true): try reload(i, "vrrp_instance VI_1 {\n  priority 300\n")
            case (.reloadPeerRemoved, true): try reload(i, config(i, dropPeer: true))
            case (.reloadPriority, false), (.reloadBroken, false), (.reloadPeerRemoved, false): try reload(i, config(i))
            case (.partition, _): try lab.isolate(nodes, start)
            case (.cutPair, _): try lab.isolate([nodes[i]] + (fault.peer.map { [nodes[$0]] } ?? []), start)
            case (.linkDown, _): try lab.setPort(nodes[i], up: !start)
            case (.linkFlap, true):
                try lab.setPort(nodes[i], up: false)
                flapping[i] = (fault, t + FaultSchedule.flapPeriod, false)
            case (.linkFlap, false):
                flapping[i] = nil
                try lab.setPort(nodes[i], up: true)
            case (.apiThrottle, true): try vpc.ec2.control(["fault": ["kind": "throttle", "count": 1_000_000]])
            case (.apiError, true): try vpc.ec2.control(["fault": ["kind": "internal", "count": 1_000_000]])
            case (.apiUnavailable, true): try vpc.ec2.control(["fault": ["kind": "unavailable", "count": 1_000_000]])
            case (.apiHang, true): try vpc.ec2.control(["fault": ["kind": "hang", "count": 1_000_000, "seconds": 3]])
            case (.apiSlow, true):
                try vpc.ec2.control(["fault": ["kind": "slow", "count": 1_000_000, "seconds": Double(fault.level ?? 500) / 1000]])
            case (.apiThrottle, false), (.apiError, false), (.apiUnavailable, false), (.apiHang, false), (.apiSlow, false):
                try vpc.ec2.control(["fault": [:] as [String: Any]])
            case (.imdsDown, _): try vpc.ec2.control(["imds_down": start])
            case (.credentialsExpire, true): try vpc.ec2.control(["expire_keys": true])
            case (.credentialsExpire, false): break
            case (.loss, _):
                losses[i] = start ? fault.level : nil
                try lab.setLoss(Dictionary(uniqueKeysWithValues: losses.map { (nodes[$0.key], $0.value) }))
            case (.flood, true): try floods.start(fault, victim: i, at: t)
            case (.flood, false): floods.end(fault, at: t)
            case (.delay, true):
                let ms = fault.level ?? 100
                try lab.exec(nodes[i], ["tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "delay", "\(ms)ms", "\(ms / 2)ms",
                                        "reorder", "25%", "50%"])
            case (.duplicate, true):
                try lab.exec(nodes[i], ["tc", "qdisc", "replace", "dev", "eth0", "root", "netem", "duplicate", "\(fault.level ?? 20)%"])
            case (.delay, false), (.duplicate, false): try lab.exec(nodes[i], ["tc", "qdisc", "del", "dev", "eth0", "root"])
            case (.webDown, _): try web?.setDown(i, start)
            case (.webHang, _): web?.setHung(i, start)
            case (.clockStep, true): try stepClock(by: Double(fault.level ?? 60))
            case (.clockStep, false): try stepClock(by: -Double(fault.level ?? 60))
            }
        } catch {
            record(t, "could not \(start ? "start" : "end") \(fault.description): \(error)")
            log("could not \(start ? "start" : "end") \(fault.description): \(error)")
        }
    }

    func startDaemon(_ i: Int) throws {
        let tag = "-soak\(restarts[i])"
        restarts[i] += 1
        let config = try String(contentsOfFile: configPaths[i], encoding: .utf8)
        // Role credentials from the lab's IMDS, as on an instance.
        let environment = options.routes ? ["AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=", "AWS_REGION=",
                                            "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"] : []
        daemons[i] = try lab.startOvercast(nodes[i], config: config, tag: tag, environment: environment, logLevel: "info")
        starting.insert(i)
        currentTrend[i] = trends.count
        trends.append((i, ResourceTrend()))
        // The daemon reads the path it was started with; reloads write there.
        configPaths[i] = lab.path("n\(i + 1)\(tag).conf")
    }

    func stopDaemon(_ i: Int, signal: Int32) {
        guard let daemon = daemons[i] else { return }
        daemons[i] = nil
        // A reload held for its start is moot: the next start reads the file.
        starting.remove(i)
        reloadsHeld[i] = nil
        kill(daemon.pid, SIGCONT)
        _ = daemon.stop(signal: signal, timeout: 5)
    }

    /// Steps this machine's wall clock (the kernel-tier VM's own) by `seconds`.
    func stepClock(by seconds: Double) throws {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let next = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9 + seconds
        var target = timespec(tv_sec: Int(next.rounded(.down)), tv_nsec: Int((next - next.rounded(.down)) * 1e9))
        guard clock_settime(CLOCK_REALTIME, &target) == 0 else {
            throw ChildProcessError("clock_settime: \(String(cString: strerror(errno)))")
        }
        clockOffset += seconds
    }

    static var inKernelTier: Bool { ProcessInfo.processInfo.environment["OVERCAST_KERNEL_TIER"] == "1" }

    /// A signal to the daemon itself (`ip netns exec` execs it, so the child is the daemon).
    func signal(_ i: Int, _ number: Int32) {
        guard let daemon = daemons[i] else { return }
        kill(daemon.pid, number)
    }

    /// A reload (the file's new text, nil: unchanged, then SIGHUP). For a daemon that has
    /// not answered since its start, both wait until it does: until `ip netns exec` has
    /// exec'd it the process is `ip`, which SIGHUP ends, and a file written before the
    /// daemon has read it is the one it starts with, a broken one included (seed 401 in
    /// the kernel-tier VM, where starting takes long enough to be hit twice). An operator
    /// reloads a running daemon (systemd holds a reload until the start is done).
    func reload(_ i: Int, _ text: String?) throws {
        if starting.contains(i) {
            reloadsHeld[i] = .some(text ?? reloadsHeld[i] ?? nil)
            return
        }
        if let text { try write(text, to: i) }
        signal(i, SIGHUP)
    }

    /// Node `i` answered status: a reload held for its start goes now.
    func answered(_ i: Int) {
        guard starting.remove(i) != nil, let held = reloadsHeld.removeValue(forKey: i) else { return }
        try? reload(i, held)
    }

    func write(_ text: String, to i: Int) throws {
        try text.write(toFile: configPaths[i], atomically: true, encoding: .utf8)
    }

}
