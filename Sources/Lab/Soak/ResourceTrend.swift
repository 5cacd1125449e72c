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

    public struct Slopes: Sendable, Hashable, CustomStringConvertible {
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
