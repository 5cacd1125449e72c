import MonotonicTime
import ChildProcesses
import Config
import Foundation
import LinuxNet
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Runs notify and check scripts without ever blocking a VRRP event loop: `start`
/// spawns and returns; a reaper thread collects exits, kills scripts that overrun their
/// timeout, and reports results through the completion handler.
///
/// Script security follows keepalived's `enable_script_security` for the account each
/// script runs as (ScriptSecurity).
final class ScriptRunner: @unchecked Sendable {
    struct Policy: Sendable {
        var enforceSecurity: Bool
        /// `script_user USER [GROUP]`: scripts run as this user through setpriv.
        var user: String?
        var group: String?
        var timeout: Double
    }

    private struct Running {
        var process: ChildProcess
        var command: String
        var deadline: Double
        var completion: (@Sendable (Int32?) -> Void)?
    }

    private let lock = NSLock()
    private var running: [Running] = []
    private var thread: Thread?
    private let logger: Logger
    var policy: Policy

    init(policy: Policy, logger: Logger) {
        self.policy = policy
        self.logger = logger
    }

    /// Splits a command line into words, honouring double and single quotes (as
    /// keepalived does), so `"/bin/sh -c 'echo down >> /tmp/f'"` is three words.
    static func words(_ command: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quote: Character?
        var hasWord = false
        for ch in command {
            if let open = quote {
                if ch == open { quote = nil } else { current.append(ch) }
                continue
            }
            if ch == "\"" || ch == "'" { quote = ch; hasWord = true; continue }
            if ch.isWhitespace {
                if hasWord { words.append(current); current = ""; hasWord = false }
                continue
            }
            current.append(ch)
            hasWord = true
        }
        if hasWord { words.append(current) }
        return words
    }

    /// Why a script may not run under the security policy as `user`/`group` (else the
    /// global script_user, else root), or nil when it may (ScriptSecurity).
    func securityProblem(_ path: String, user: String? = nil, group: String? = nil) -> String? {
        guard policy.enforceSecurity else { return nil }
        let (userName, groupName) = user != nil ? (user, group) : (policy.user, policy.group)
        var account: (uid: uid_t, gid: gid_t) = (0, 0)
        if let userName {
            guard let known = Self.knownAccount(of: userName) else { return "script \(path): no user '\(userName)' on this host" }
            account = known
        }
        if let groupName {
            guard let gid = SystemAccounts.group(named: groupName) else { return "script \(path): no group '\(groupName)' on this host" }
            account.gid = gid
        }
        return ScriptSecurity.problem(path, uid: account.uid, gid: account.gid)
    }

    /// `argv` run as `user` (and `group`, by default the user's own primary group, as
    /// keepalived) through setpriv; unchanged for root or no user.
    static func asUser(_ argv: [String], user: String?, group: String?) -> [String] {
        guard let user, user != "root" else { return argv }
        let gid = group ?? knownAccount(of: user).map { "\($0.gid)" } ?? user
        return ["setpriv", "--reuid=\(user)", "--regid=\(gid)", "--init-groups", "--"] + argv
    }

    nonisolated(unsafe) private static var accounts: [String: (uid: uid_t, gid: gid_t)] = [:]
    private static let accountsLock = NSLock()

    /// Looks up the ids and primary groups of `users` now (reading the configuration, off
    /// every VRRP thread), so that starting their scripts later asks nothing of NSS.
    static func learnAccounts(of users: Set<String>) {
        let found = users.reduce(into: [String: (uid: uid_t, gid: gid_t)]()) { table, user in table[user] = SystemAccounts.user(named: user) }
        accountsLock.withLock { accounts = found }
    }

    /// The account learnt for `user`, else a lookup now (a user the configuration does not name).
    static func knownAccount(of user: String) -> (uid: uid_t, gid: gid_t)? {
        accountsLock.withLock { accounts[user] } ?? SystemAccounts.user(named: user)
    }

    /// Starts `command` with `extraArguments` appended, as `user`/`group` when given (a
    /// vrrp_script's `user`), otherwise as the global `script_user`. Returns false when it
    /// could not start (refused or spawn failure); the reason is logged.
    @discardableResult
    func start(_ command: String, extraArguments: [String] = [], timeout: Double? = nil, user: String? = nil,
               group: String? = nil, completion: (@Sendable (Int32?) -> Void)? = nil) -> Bool {
        var argv = Self.words(command) + extraArguments
        guard let program = argv.first else {
            completion?(nil)
            return false
        }
        if let problem = securityProblem(program, user: user, group: group) {
            logger.error("script refused", metadata: ["script": "\(program)", "reason": "\(problem)"])
            completion?(nil)
            return false
        }
        argv = user != nil ? Self.asUser(argv, user: user, group: group)
            : Self.asUser(argv, user: policy.user, group: policy.group)
        do {
            let process = try ChildProcess(argv)
            lock.withLock {
                running.append(Running(process: process, command: command,
                                       deadline: MonotonicClock.seconds + (timeout ?? policy.timeout),
                                       completion: completion))
                if thread == nil { startReaper() }
            }
            return true
        } catch {
            logger.error("script failed to start", metadata: ["script": "\(command)", "error": "\(error)"])
            completion?(nil)
            return false
        }
    }

    /// Runs `command` to its end or its timeout (then killed): `startup_script` and
    /// `shutdown_script`, which the daemon waits for. Returns the exit status (nil: it
    /// did not start or was killed).
    func run(_ command: String, timeout: Double, user: String?, group: String?) async -> Int32? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
            start(command, timeout: timeout, user: user, group: group) { continuation.resume(returning: $0) }
        }
    }

    private func startReaper() {
        let thread = Thread.named("scripts") { [weak self] in
            while let self, self.reapOnce() { usleep(20_000) }
        }
        self.thread = thread
        thread.start()
    }

    /// One pass over the running scripts; false when the reaper should end.
    private func reapOnce() -> Bool {
        let now = MonotonicClock.seconds
        var finished: [(Running, Int32?)] = []
        let keepGoing = lock.withLock { () -> Bool in
            running.removeAll { entry in
                if let status = entry.process.poll() {
                    finished.append((entry, status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)))
                    return true
                }
                if now > entry.deadline {
                    entry.process.stop(signal: SIGKILL, timeout: 1)
                    finished.append((entry, nil))
                    return true
                }
                return false
            }
            // The reaper exists only while scripts run: an idle daemon wakes for nothing.
            if running.isEmpty { thread = nil; return false }
            return true
        }
        for (entry, code) in finished {
            if code == nil {
                logger.warning("script killed after its timeout", metadata: ["script": "\(entry.command)"])
            } else if code != 0 {
                logger.debug("script exited", metadata: ["script": "\(entry.command)", "status": "\(code ?? -1)"])
            }
            entry.completion?(code)
        }
        return keepGoing
    }
}
