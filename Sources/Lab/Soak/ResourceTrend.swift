#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A daemon's open files, threads and resident memory over its life, and their trend:
/// a leak shows as a slope over a long life, not as a high value at one moment.
public struct ResourceTrend: Sendable {
    public struct Point: Sendable, Hashable {
        public var time: Double
        public var files: Double
        public var threads: Double
        public var residentKiB: Double
        public init(time: Double, files: Double, threads: Double, residentKiB: Double) {
            self.time = time
            self.files = files
            self.threads = threads
            self.residentKiB = residentKiB
        }
    }

    public struct Slopes: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Per minute, over `span` seconds.
        public var files: Double
        public var threads: Double
        public var residentKiB: Double
        public var span: Double
        public var description: String {
            String(format: "%+.2f fds/min, %+.2f threads/min, %+.0f KiB RSS/min over %.0f s", files, threads, residentKiB, span)
        }
    }

    public private(set) var points: [Point] = []
    public init() {}

    public mutating func add(_ point: Point) { points.append(point) }

    /// Least-squares slopes per minute; nil with fewer than 3 points or under 10 s.
    public var slopes: Slopes? {
        guard points.count >= 3, let first = points.first, let last = points.last, last.time - first.time >= 10 else { return nil }
        func slope(_ value: (Point) -> Double) -> Double {
            let n = Double(points.count)
            let meanT = points.reduce(0) { $0 + $1.time } / n
            let meanV = points.reduce(0) { $0 + value($1) } / n
            let sxx = points.reduce(0) { $0 + ($1.time - meanT) * ($1.time - meanT) }
            let sxy = points.reduce(0) { $0 + ($1.time - meanT) * (value($1) - meanV) }
            return sxx > 0 ? sxy / sxx * 60 : 0
        }
        return Slopes(files: slope(\.files), threads: slope(\.threads), residentKiB: slope(\.residentKiB),
                      span: last.time - first.time)
    }

    /// Growth between the middle and the last third of a life: the highest open files and
    /// threads, and the median RSS, of each third. The first third is the daemon settling
    /// after its start (its first API connection, its first reload's new sockets: one
    /// step, seen in every run); a leak keeps growing through the other two, a step does
    /// not. Nil under `minimumSpan` seconds: too short to tell the two apart.
    public struct Growth: Sendable, Hashable, Codable, CustomStringConvertible {
        public var files: Double
        public var threads: Double
        public var residentKiB: Double
        /// The middle third's median RSS, for a relative bound.
        public var middleResidentKiB: Double
        public var span: Double
        public var description: String {
            String(format: "%+.0f fds, %+.0f threads, %+.0f KiB RSS (of %.0f) from the middle to the last third of %.0f s",
                   files, threads, residentKiB, middleResidentKiB, span)
        }
    }

    public static let minimumSpan = 300.0

    public var growth: Growth? {
        guard let first = points.first, let last = points.last, last.time - first.time >= Self.minimumSpan else { return nil }
        let third = (last.time - first.time) / 3
        let middle = points.filter { $0.time >= first.time + third && $0.time < first.time + 2 * third }
        let end = points.filter { $0.time >= first.time + 2 * third }
        guard !middle.isEmpty, !end.isEmpty else { return nil }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        let middleRSS = median(middle.map(\.residentKiB))
        return Growth(files: (end.map(\.files).max() ?? 0) - (middle.map(\.files).max() ?? 0),
                      threads: (end.map(\.threads).max() ?? 0) - (middle.map(\.threads).max() ?? 0),
                      residentKiB: median(end.map(\.residentKiB)) - middleRSS, middleResidentKiB: middleRSS,
                      span: last.time - first.time)
    }

    /// What counts as flat: no more open files or threads at the end than in the middle
    /// (2 of slack each: a script or an API connection open at the moment of reading),
    /// and RSS within 10 % or 2 MiB, whichever is more, of the middle's (the allocator
    /// keeps what bursts took).
    public static func leaks(_ growth: Growth) -> [String] {
        var found: [String] = []
        if growth.files > 2 { found.append(String(format: "open files grew by %.0f", growth.files)) }
        if growth.threads > 2 { found.append(String(format: "threads grew by %.0f", growth.threads)) }
        if growth.residentKiB > max(2048, 0.1 * growth.middleResidentKiB) {
            found.append(String(format: "RSS grew by %.0f KiB from %.0f KiB", growth.residentKiB, growth.middleResidentKiB))
        }
        return found
    }

    /// A process's open files, threads and RSS from /proc; nil once it is gone.
    public static func read(pid: pid_t, at time: Double) -> Point? {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func field(_ name: String) -> Double? {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }
                .flatMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first }.flatMap { Double($0) }
        }
        guard let threads = field("Threads"), let rss = field("VmRSS") else { return nil }
        return Point(time: time, files: Double(files.count), threads: threads, residentKiB: rss)
    }
}
