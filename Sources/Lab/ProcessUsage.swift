import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The CPU time and memory of a process and everything it forked, read from /proc.
/// keepalived forks a VRRP child and a checker child; Overcast runs one process with
/// threads. Summing over the tree and its threads makes the two comparable.
public struct ProcessTree: Sendable {
    public var root: pid_t

    public init(root: pid_t) { self.root = root }

    /// The root and its descendants (scanned from /proc each time: children come and go).
    public func pids() -> [pid_t] {
        var children: [pid_t: [pid_t]] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let stat = Self.statFields(pid), stat.count > 1, let parent = pid_t(stat[1]) else { continue }
            children[parent, default: []].append(pid)
        }
        var result: [pid_t] = []
        var queue = [root]
        while let pid = queue.popLast() {
            guard kill(pid, 0) == 0 || errno == EPERM else { continue }
            result.append(pid)
            queue += children[pid] ?? []
        }
        return result
    }

    /// Run time in nanoseconds of every thread of the tree now, keyed "pid/tid" (the
    /// scheduler's own count, /proc/PID/task/TID/schedstat, not 10-ms ticks).
    public func threadRunTimes() -> [String: UInt64] {
        var times: [String: UInt64] = [:]
        for pid in pids() {
            for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
                guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8),
                      let first = text.split(separator: " ").first, let ns = UInt64(first) else { continue }
                times["\(pid)/\(task)"] = ns
            }
        }
        return times
    }

    /// User and system CPU seconds of the tree's processes so far (utime and stime of
    /// /proc/PID/stat, which include the threads that ended; clock ticks, so read them
    /// over a window of seconds). Where a process's time goes: its own code and its
    /// libraries, or the kernel on its behalf.
    public func userAndSystemSeconds() -> (user: Double, system: Double) {
        let ticks = Double(max(1, sysconf(Int32(_SC_CLK_TCK))))
        var user = 0.0, system = 0.0
        for pid in pids() {
            // After the command name: state is field 3, utime 14 and stime 15.
            guard let fields = Self.statFields(pid), fields.count > 12,
                  let u = Double(fields[11]), let s = Double(fields[12]) else { continue }
            user += u / ticks
            system += s / ticks
        }
        return (user, system)
    }

    /// Resident memory summed over the tree (VmRSS; pages shared between keepalived's
    /// forks count once per process, as `ps` shows them).
    public func residentBytes() -> Int { pids().reduce(0) { $0 + Self.kilobytes($1, file: "status", key: "VmRSS:") * 1024 } }

    /// Proportional set size summed over the tree: shared pages divided among the
    /// processes that map them, so forks are not counted twice.
    public func proportionalBytes() -> Int { pids().reduce(0) { $0 + Self.kilobytes($1, file: "smaps_rollup", key: "Pss:") * 1024 } }

    /// Fields of /proc/PID/stat after the command name (state, ppid, ...).
    static func statFields(_ pid: pid_t) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    static func kilobytes(_ pid: pid_t, file: String, key: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(key) {
            return Int(line.dropFirst(key.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "") ?? 0
        }
        return 0
    }
}

/// CPU time of a process tree over a window, to the nanosecond and without losing the
/// threads that end inside it (libdispatch's workers idle out after a few seconds; a
/// thread's counter dies with it). `sample()` is called every ~100 ms: each thread adds
/// what it ran since it was last seen, and a thread born in the window all of its time.
public final class CPUMeter {
    private let tree: ProcessTree
    private var last: [String: UInt64]
    private var total: UInt64 = 0

    public init(_ tree: ProcessTree) {
        self.tree = tree
        last = tree.threadRunTimes()
    }

    public func sample() {
        let now = tree.threadRunTimes()
        for (thread, ns) in now { total &+= ns &- min(ns, last[thread] ?? 0) }
        last = now
    }

    /// Samples every 100 ms for `seconds`, then returns the CPU seconds used since `init`.
    public func measure(for seconds: Double) -> Double {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            usleep(UInt32(max(0, min(0.1, end.timeIntervalSinceNow)) * 1_000_000))
            sample()
        }
        return self.seconds
    }

    public var seconds: Double { Double(total) / 1e9 }
}
