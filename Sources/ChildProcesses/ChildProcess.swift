import MonotonicTime
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A failure to start or run a command, with the command line in it.
public struct ChildProcessError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A child process: notify and track scripts for the daemon; keepalived, tcpdump, HTTP
/// servers and the daemon itself for test beds.
///
/// Started with posix_spawn and a cleared signal mask and default dispositions: test
/// runners block most signals in their threads, Foundation's `Process` passes that mask
/// on, and a child that inherits a blocked SIGTERM never stops (seen with swift-testing).
public final class ChildProcess: @unchecked Sendable {
    public let arguments: [String]
    public let pid: pid_t
    private var exitStatus: Int32?

    /// Starts `arguments[0]` (looked up in PATH) with stdin from `inputPath` (or /dev/null)
    /// and stdout and stderr appended to `outputPath` (or /dev/null). It runs in the calling
    /// thread's network namespace.
    public init(_ arguments: [String], outputPath: String? = nil, environment: [String]? = nil, inputPath: String? = nil) throws {
        guard !arguments.isEmpty else { throw ChildProcessError("empty command") }
        self.arguments = arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath ?? "/dev/null", O_RDONLY, 0)
        let out = outputPath ?? "/dev/null"
        posix_spawn_file_actions_addopen(&actions, 1, out, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        // Its own process group, so a kill reaches what it starts too.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var cArgs: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in cArgs { free(p) } }
        var child: pid_t = 0
        let cEnvironment: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup($0) } + [nil] }
        defer { cEnvironment?.forEach { free($0) } }
        let rc: Int32
        if var env = cEnvironment {
            rc = posix_spawnp(&child, arguments[0], &actions, &attributes, &cArgs, &env)
        } else {
            rc = posix_spawnp(&child, arguments[0], &actions, &attributes, &cArgs, environ)
        }
        guard rc == 0 else {
            throw ChildProcessError("cannot start \(arguments.joined(separator: " ")): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    deinit {
        if exitStatus == nil { stop(signal: SIGKILL) }
    }

    /// Sends `signal` to the process group and waits up to `timeout` seconds for the
    /// exit; escalates to SIGKILL after that. Returns the wait status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: Double = 5) -> Int32 {
        if let status = exitStatus { return status }
        kill(-pid, signal)
        let deadline = MonotonicClock.seconds + timeout
        while MonotonicClock.seconds < deadline {
            if let status = poll() { return status }
            usleep(10_000)
        }
        kill(-pid, SIGKILL)
        return wait()
    }

    /// The wait status if the process has exited, without blocking.
    public func poll() -> Int32? {
        if let status = exitStatus { return status }
        var status: Int32 = 0
        let rc = waitpid(pid, &status, WNOHANG)
        if rc == pid { exitStatus = status; return status }
        if rc < 0 { exitStatus = -1; return -1 }
        return nil
    }

    /// Blocks until the process exits; returns the wait status.
    @discardableResult
    public func wait() -> Int32 {
        if let status = exitStatus { return status }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        exitStatus = status
        return status
    }

    public var isRunning: Bool { poll() == nil }

    /// Runs a command to completion and returns its exit code and combined output.
    /// Killed after `timeout` seconds (then the exit code is -1).
    public static func run(_ arguments: [String], timeout: Double = 60, input: String? = nil) throws -> (status: Int32, output: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-run-\(UUID().uuidString)").path
        defer { unlink(path) }
        let child = try ChildProcess(arguments, outputPath: path, inputPath: input)
        let deadline = MonotonicClock.seconds + timeout
        var status: Int32?
        while status == nil && MonotonicClock.seconds < deadline {
            status = child.poll()
            if status == nil { usleep(5_000) }
        }
        let output = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        guard let status else {
            child.stop(signal: SIGKILL)
            return (-1, output + "\n(killed after \(timeout) s)")
        }
        let exited = status & 0x7F == 0
        return (exited ? (status >> 8) & 0xFF : 128 + (status & 0x7F), output)
    }

    /// Runs a command and throws with its output if it fails.
    @discardableResult
    public static func check(_ arguments: [String], timeout: Double = 60, input: String? = nil) throws -> String {
        let (status, output) = try run(arguments, timeout: timeout, input: input)
        guard status == 0 else {
            throw ChildProcessError("`\(arguments.joined(separator: " "))` exited \(status): \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return output
    }
}
