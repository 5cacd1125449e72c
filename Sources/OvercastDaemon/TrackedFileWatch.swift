import MonotonicTime
import Config
import Foundation
import LinuxNet
import Logging

/// The tracked files (`track_file`): writes their `init_file` values at start, reads each
/// file when it is written, removed or renamed (inotify on its directory, as keepalived),
/// and tells subscribers every number that changed. VRRP tracking and FILE_CHECK both
/// read from here, so a file is read once for all who follow it.
///
/// Every file is also read again every `backstopSeconds`: a directory made after start
/// (no watch could be set) or an event lost to a full inotify queue is then caught up.
final class TrackedFileWatch: @unchecked Sendable {
    private let logger: Logger
    private let lock = NSLock()
    // Under `lock`.
    private var files: [TrackFile] = []
    /// Each block's number as last read; absent until read (counts as 0 meanwhile).
    private var values: [String: Int] = [:]
    private var subscribers: [@Sendable (String, Int) -> Void] = []
    private var started = false
    /// Directories whose watch failed, said once each until the watch takes.
    private var unwatchable: Set<String> = []
    private let wakeup = Wakeup()

    static let backstopSeconds = 30.0

    init(logger: Logger) { self.logger = logger }

    /// `handler(name, value)` is called (on the watch's thread, or on `configure`'s caller)
    /// for each block whose number changed.
    func subscribe(_ handler: @escaping @Sendable (String, Int) -> Void) {
        lock.withLock { subscribers.append(handler) }
    }

    /// A block's number, 0 until its file has been read.
    func value(_ name: String) -> Int { lock.withLock { values[name] ?? 0 } }

    /// The blocks of a configuration (start and reload). `initialize` (start only, as
    /// keepalived) writes each `init_file` value first. Every file is read before this
    /// returns, so what starts next sees the numbers.
    func configure(_ next: [TrackFile], initialize: Bool) {
        if initialize { for file in next { writeInitialValue(file) } }
        let names = Set(next.map(\.name))
        let start = lock.withLock { () -> Bool in
            files = next
            values = values.filter { names.contains($0.key) }
            defer { started = started || !next.isEmpty }
            return !started && !next.isEmpty
        }
        readFiles(next)
        if start {
            let thread = Thread.named("track-file") { [self] in run() }
            thread.start()
        }
        wakeup.signal()
    }

    private func run() {
        let watch: DirectoryWatch?
        do { watch = try DirectoryWatch() } catch {
            logger.error("track_file: no inotify; files are read every second instead", metadata: ["error": "\(error)"])
            watch = nil
        }
        var lastFullRead = Self.now()
        let interval = watch == nil ? 1.0 : Self.backstopSeconds
        while true {
            if let watch { addWatches(watch) }
            let timeout = Int32(max(1, min(interval, lastFullRead + interval - Self.now()) * 1000))
            var fds = [pollfd(fd: wakeup.readEnd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: watch?.descriptor ?? -1, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, timeout)
            if fds[0].revents != 0 { wakeup.drain() }
            if ready > 0, fds[1].revents != 0, let watch {
                let touched = Set(watch.drain().map { Self.path($0.directory, $0.name) })
                readFiles(lock.withLock { files }.filter { touched.contains(Self.location($0.path).path) })
            }
            if Self.now() - lastFullRead >= interval {
                lastFullRead = Self.now()
                readFiles(lock.withLock { files })
            }
        }
    }

    /// Watches each file's directory not yet watched; one that cannot be watched (it does
    /// not exist yet) is said once and tried again each pass.
    private func addWatches(_ watch: DirectoryWatch) {
        let directories = Set(lock.withLock { files }.map { Self.location($0.path).directory })
        for directory in directories.sorted() where !watch.isWatching(directory) {
            do {
                try watch.watch(directory)
                if lock.withLock({ unwatchable.remove(directory) }) != nil {
                    logger.info("track_file: watching \(directory) now")
                }
            } catch {
                guard lock.withLock({ unwatchable.insert(directory).inserted }) else { continue }
                logger.error("track_file: cannot watch \(directory); its files read 0 until it can be watched (tried every \(Int(Self.backstopSeconds)) s)",
                             metadata: ["error": "\(error)"])
            }
        }
    }

    /// Reads `list` and tells subscribers of each number that changed.
    private func readFiles(_ list: [TrackFile]) {
        var changed: [(String, Int)] = []
        for file in list {
            switch Self.readContent(file.path) {
            case .invalid(let text):
                logger.warning("track_file \(file.name): '\(text)' in \(file.path) is not a 32-bit number; the last value stays")
            case .value(let value):
                let known = lock.withLock { () -> Bool in
                    defer { values[file.name] = value }
                    return values[file.name] == value
                }
                guard !known else { continue }
                logger.info("track_file \(file.name) reads \(value)", metadata: ["file": "\(file.path)"])
                changed.append((file.name, value))
            }
        }
        guard !changed.isEmpty else { return }
        let handlers = lock.withLock { subscribers }
        for (name, value) in changed { for handler in handlers { handler(name, value) } }
    }

    /// A file's content; one that cannot be opened (missing, say) reads 0, as keepalived.
    static func readContent(_ path: String) -> TrackedFileContent {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return .value(0) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: TrackedFileContent.readLimit)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        return count > 0 ? TrackedFileContent.parse(buffer.prefix(count)) : .value(0)
    }

    /// `init_file`: the value written when the file is missing, or always with
    /// `overwrite` (a regular file only).
    private func writeInitialValue(_ file: TrackFile) {
        guard let value = file.initialValue else { return }
        var info = stat()
        let exists = stat(file.path, &info) == 0
        guard !exists || file.initialOverwrite else { return }
        if exists && (info.st_mode & S_IFMT) != S_IFREG {
            logger.error("track_file \(file.name): \(file.path) is not a regular file; init_file not written")
            return
        }
        let fd = open(file.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            logger.error("track_file \(file.name): cannot write init_file value to \(file.path)",
                         metadata: ["error": "\(String(cString: strerror(errno)))"])
            return
        }
        defer { close(fd) }
        let bytes = Array("\(value)\n".utf8)
        if bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) != bytes.count {
            logger.error("track_file \(file.name): short write of init_file to \(file.path)")
        }
    }

    /// A file's directory and name as the watch reports them.
    static func location(_ path: String) -> (directory: String, path: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", "./" + path) }
        let directory = slash == path.startIndex ? "/" : String(path[..<slash])
        return (directory, self.path(directory, String(path[path.index(after: slash)...])))
    }

    static func path(_ directory: String, _ name: String) -> String {
        directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    private static func now() -> Double { Double(MonotonicClock.now()) / 1e9 }
}
