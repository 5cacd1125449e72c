import ChildProcesses
import Config
import Foundation
import Logging
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// keepalived's notify FIFOs: every instance and sync-group transition as one line
/// (`INSTANCE "VI_1" MASTER 100`) to `notify_fifo` and `vrrp_notify_fifo`, every real and
/// virtual server going up or down (`RS [10.0.0.2]:tcp:80 [10.0.0.1]:tcp:80 DOWN`) to
/// `notify_fifo` and `lvs_notify_fifo`, in order. The FIFO is made if absent and opened read-write and non-blocking,
/// as keepalived does: lines wait in the pipe until a reader takes them, and a line that
/// does not fit (the pipe is full: no reader, or a slow one) is dropped and counted, so
/// a VRRP loop never waits on a reader. Each FIFO's `_script` is started with the FIFO's
/// path as its last argument and stopped at shutdown. A FIFO the daemon makes is owned by
/// the user and group the keyword names (else the global `script_user`), so that a reader
/// running as that user can open it: mode 0640, the owner reads and the group may too.
final class NotifyFIFOWriter: @unchecked Sendable {
    private struct Open {
        var fifo: NotifyFIFO
        var descriptor: Int32
        var written = 0
        var dropped = 0
        var reader: ChildProcess?
        /// Made by this daemon (absent before): removed when closed, as keepalived does.
        var created = false
    }

    private let lock = NSLock()
    private var fifos: [Open] = []
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    /// Opens the configured FIFOs (those already open stay, with their readers) and
    /// closes the others.
    func configure(_ wanted: [NotifyFIFO], scriptUser: String?, scriptGroup: String?) {
        let current = lock.withLock { fifos }
        var next: [Open] = []
        for fifo in wanted where !fifo.path.isEmpty {
            if let same = current.first(where: { $0.fifo == fifo }) {
                next.append(same)
                continue
            }
            guard let owner = owner(of: fifo, scriptUser: scriptUser, scriptGroup: scriptGroup),
                  let (descriptor, created) = open(fifo.path, owner: owner) else { continue }
            var entry = Open(fifo: fifo, descriptor: descriptor, created: created)
            if let script = fifo.script {
                let argv = ScriptRunner.asUser(ScriptRunner.words(script) + [fifo.path], user: fifo.scriptUser ?? scriptUser,
                                               group: fifo.scriptUser == nil ? scriptGroup : fifo.scriptGroup)
                do { entry.reader = try ChildProcess(argv) } catch {
                    logger.error("notify FIFO script did not start", metadata: ["fifo": "\(fifo.path)", "error": "\(error)"])
                }
            }
            next.append(entry)
        }
        // Swapped before the old ones close: no write may reach a closed descriptor (or
        // whatever file reuses its number).
        lock.withLock { fifos = next }
        for old in current where !next.contains(where: { $0.descriptor == old.descriptor }) { close(old) }
    }

    /// Closes every FIFO and stops their scripts (daemon shutdown).
    func stop() { configure([], scriptUser: nil, scriptGroup: nil) }

    /// Writes a VRRP line to `notify_fifo` and `vrrp_notify_fifo`; never blocks.
    func write(_ line: NotifyLine) { write(line.description, to: "vrrp_notify_fifo") }

    /// Writes a health-check line (`CheckerFIFOLines`) to `notify_fifo` and
    /// `lvs_notify_fifo`; never blocks.
    func writeChecker(_ line: String) { write(line, to: "lvs_notify_fifo") }

    /// `text` and a newline to `notify_fifo` and the FIFO of `keyword`. A line is written
    /// whole or not at all: one shorter than PIPE_BUF is written atomically by the kernel,
    /// a longer one (a name of kilobytes) is dropped and counted rather than left half in
    /// the pipe.
    private func write(_ text: String, to keyword: String) {
        let bytes = Array((text + "\n").utf8)
        lock.withLock {
            for i in fifos.indices where fifos[i].fifo.keyword == keyword || fifos[i].fifo.keyword == "notify_fifo" {
                guard bytes.count < Int(PIPE_BUF) else {
                    fifos[i].dropped += 1
                    continue
                }
                let n = bytes.withUnsafeBytes { Glibc.write(fifos[i].descriptor, $0.baseAddress, $0.count) }
                if n == bytes.count { fifos[i].written += 1 } else { fifos[i].dropped += 1 }
            }
        }
    }

    var status: [NotifyFIFOStatus] {
        lock.withLock {
            fifos.map { NotifyFIFOStatus(path: $0.fifo.path, linesWritten: $0.written, linesDropped: $0.dropped,
                                         script: $0.fifo.script, scriptRunning: $0.reader.map { $0.poll() == nil }) }
        }
    }

    /// Who is to own `fifo` if the daemon makes it: (-1, -1) leaves it the daemon's. Nil,
    /// logged, when a named user or group does not exist: keepalived ignores such a FIFO.
    private func owner(of fifo: NotifyFIFO, scriptUser: String?, scriptGroup: String?) -> (uid: uid_t, gid: gid_t)? {
        let named = fifo.owner.map { ($0, fifo.ownerGroup) } ?? scriptUser.map { ($0, scriptGroup) }
        guard let (userName, groupName) = named else { return (uid_t.max, gid_t.max) }
        guard let user = SystemAccounts.user(named: userName) else {
            logger.error("notify FIFO owner does not exist; the FIFO is not opened", metadata: ["fifo": "\(fifo.path)", "user": "\(userName)"])
            return nil
        }
        guard let groupName else { return user }
        guard let gid = SystemAccounts.group(named: groupName) else {
            logger.error("notify FIFO group does not exist; the FIFO is not opened", metadata: ["fifo": "\(fifo.path)", "group": "\(groupName)"])
            return nil
        }
        return (user.uid, gid)
    }

    private func open(_ path: String, owner: (uid: uid_t, gid: gid_t)) -> (Int32, created: Bool)? {
        var info = stat()
        var created = false
        if lstat(path, &info) != 0 {
            created = mkfifo(path, 0o640) == 0
            guard created || errno == EEXIST else {
                logger.error("cannot make notify FIFO", metadata: ["fifo": "\(path)", "error": "\(String(cString: strerror(errno)))"])
                return nil
            }
            if created && (owner.uid != uid_t.max || owner.gid != gid_t.max) && chown(path, owner.uid, owner.gid) != 0 {
                logger.error("cannot give the notify FIFO to its owner", metadata: ["fifo": "\(path)", "error": "\(String(cString: strerror(errno)))"])
            }
        } else if info.st_mode & S_IFMT != S_IFIFO {
            logger.error("notify FIFO path is not a FIFO; no lines are written", metadata: ["fifo": "\(path)"])
            return nil
        }
        let descriptor = Glibc.open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW)
        guard descriptor >= 0 else {
            logger.error("cannot open notify FIFO", metadata: ["fifo": "\(path)", "error": "\(String(cString: strerror(errno)))"])
            return nil
        }
        logger.info("notify FIFO open", metadata: ["fifo": "\(path)"])
        return (descriptor, created)
    }

    private func close(_ entry: Open) {
        entry.reader?.stop(signal: SIGTERM, timeout: 2)
        Glibc.close(entry.descriptor)
        if entry.created { unlink(entry.fifo.path) }
    }
}

/// A notify FIFO in `overcast status`: how many lines went and how many were dropped.
public struct NotifyFIFOStatus: Codable, Sendable, Hashable {
    public var path: String
    public var linesWritten: Int
    public var linesDropped: Int
    public var script: String?
    public var scriptRunning: Bool?
}
