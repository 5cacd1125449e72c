import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// inotify on directories: which names in them were written and closed, deleted or moved
/// in or out. A file is watched through its directory, as keepalived's track_file does,
/// so a file that is replaced (written elsewhere and renamed over) or removed and made
/// again is still followed.
public final class DirectoryWatch: @unchecked Sendable {
    public struct Event: Sendable, Hashable {
        /// The directory, as given to `watch`.
        public var directory: String
        public var name: String
    }

    private let fd: FileDescriptor
    private var directories: [Int32: String] = [:]

    public init() throws(SystemCallError) {
        fd = FileDescriptor(try systemCall("inotify_init1") { inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC)) })
    }

    /// For poll(2): readable when events wait.
    public var descriptor: Int32 { fd.raw }

    /// Starts watching `directory` (again after it was removed); watching one twice is one watch.
    public func watch(_ directory: String) throws(SystemCallError) {
        let mask = UInt32(IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)
        let wd = try systemCall("inotify_add_watch", directory) { inotify_add_watch(fd.raw, directory, mask) }
        directories[wd] = directory
    }

    /// Whether `directory` has a live watch (inotify drops one when the directory goes).
    public func isWatching(_ directory: String) -> Bool { directories.values.contains(directory) }

    /// The events waiting, without blocking. A directory that went away is forgotten, so
    /// the caller's next `watch` of it (once it exists again) takes.
    public func drain() -> [Event] {
        var events: [Event] = []
        let headerSize = MemoryLayout<inotify_event>.size
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd.raw, $0.baseAddress, $0.count) }
            guard count > 0 else { return events }
            var offset = 0
            while offset + headerSize <= count {
                let (wd, mask, length) = buffer.withUnsafeBytes { raw -> (Int32, UInt32, Int) in
                    (raw.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameStart = offset + headerSize
                let nameEnd = min(count, nameStart + length)
                let nameBytes = buffer[nameStart..<nameEnd].prefix { $0 != 0 }
                if mask & UInt32(IN_IGNORED) != 0 {
                    directories[wd] = nil
                } else if let directory = directories[wd], !nameBytes.isEmpty {
                    events.append(Event(directory: directory, name: String(decoding: nameBytes, as: UTF8.self)))
                }
                offset = nameStart + length
            }
        }
    }
}
