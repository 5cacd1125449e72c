import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Gives back the code pages that only start-up ran.
///
/// The daemon is one statically linked executable (Swift runtime, Foundation, ICU)
/// plus libcurl, libnl and libpcap. Start-up (argument and configuration parsing,
/// Foundation and TLS initialisation) touches code all over it, and every touch maps
/// a whole fault-around window (64 KiB): 28 MiB resident, of which about 3 MiB is the
/// daemon's own memory and the rest clean pages of its files that the steady state
/// never runs again. Mapped executable pages are also the last the kernel reclaims.
///
/// After start-up and after each reload the daemon unmaps the clean, read-only file
/// pages of its mappings (`madvise(MADV_DONTNEED)`). Nothing is lost: the pages stay in
/// the page cache, and what runs again is mapped back by a minor fault (microseconds;
/// no disk read unless the kernel meanwhile reclaimed the page, as it could anyway).
/// Only mappings that are not writable and hold no anonymous (copy-on-write) page are
/// touched: the relocated RELRO data is read-only but private, and dropping it would
/// revert it to the file's unrelocated bytes.
public enum StartupPages {
    /// One mapping of /proc/self/smaps with what decides whether it may be released.
    public struct Mapping: Equatable, Sendable {
        public var start: UInt
        public var end: UInt
        public var permissions: String
        public var path: String
        public var residentKiB: Int
        public var anonymousKiB: Int

        /// A clean file mapping: read-only, backed by a file, no private copy.
        public var isReleasable: Bool {
            permissions.hasPrefix("r") && !permissions.contains("w") && permissions.hasSuffix("p")
                && path.hasPrefix("/") && anonymousKiB == 0 && residentKiB > 0 && end > start
        }
    }

    /// Parses smaps text. Lines it does not understand are skipped: a kernel that adds a
    /// field must not stop the daemon, and a mapping whose `Anonymous:` line is missing
    /// is kept (treated as holding private pages).
    public static func mappings(smaps text: String) -> [Mapping] {
        var result: [Mapping] = []
        var current: Mapping?
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            if let header = header(line) {
                if let done = current { result.append(done) }
                current = header
                continue
            }
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let value = Int(fields[1]) else { continue }
            switch fields[0] {
            case "Rss:": current?.residentKiB = value
            case "Anonymous:": current?.anonymousKiB = value
            default: break
            }
        }
        if let done = current { result.append(done) }
        return result
    }

    /// `start-end perms offset dev inode [path]`, or nil for a field line.
    private static func header(_ line: Substring) -> Mapping? {
        let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count >= 5, fields[0].contains("-"), !fields[0].hasSuffix(":") else { return nil }
        let range = fields[0].split(separator: "-")
        guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
              fields[1].count == 4 else { return nil }
        let path = fields.count == 6 ? String(fields[5]).trimmingCharacters(in: .whitespaces) : ""
        // Until its Anonymous: line is read, a mapping counts as holding private pages.
        return Mapping(start: start, end: end, permissions: String(fields[1]), path: path, residentKiB: 0,
                       anonymousKiB: Int.max)
    }

    /// The whole of a /proc file. Foundation's readers trust the size stat reports (0 for
    /// /proc) and stop after the first read; smaps is tens of KiB, produced as it is read.
    static func readProcFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { return nil }
            if count == 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// What one release did.
    public struct Release: Equatable, Sendable {
        public var mappings = 0
        public var residentKiBBefore = 0
        public var failures = 0
    }

    /// Unmaps the clean file pages of this process. Errors of single mappings are
    /// counted, never thrown: this is housekeeping, and the daemon's work goes on.
    @discardableResult
    public static func release() -> Release {
        var outcome = Release()
        guard let text = readProcFile("/proc/self/smaps") else {
            outcome.failures = 1
            return outcome
        }
        for mapping in mappings(smaps: text) where mapping.isReleasable {
            guard let address = UnsafeMutableRawPointer(bitPattern: mapping.start) else { continue }
            if madvise(address, Int(mapping.end - mapping.start), MADV_DONTNEED) == 0 {
                outcome.mappings += 1
                outcome.residentKiBBefore += mapping.residentKiB
            } else {
                outcome.failures += 1
            }
        }
        return outcome
    }
}
