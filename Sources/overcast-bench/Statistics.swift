/// Summary statistics of one case's samples.
struct Summary: Codable, Sendable {
    var count: Int
    var median: Double
    var p99: Double
    var min: Double
    var max: Double

    /// Nearest-rank percentiles; nil for no samples.
    init?(_ samples: [Double]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func rank(_ p: Double) -> Double {
            let index = Int((p * Double(sorted.count)).rounded(.up)) - 1
            return sorted[Swift.min(Swift.max(index, 0), sorted.count - 1)]
        }
        count = sorted.count
        median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        p99 = rank(0.99)
        min = sorted[0]
        max = sorted[sorted.count - 1]
    }
}

/// One row of a results table.
struct ResultRow: Codable, Sendable {
    var benchmark: String
    var variant: String
    var unit: String
    var summary: Summary?
    /// The variant this row is compared with, measured in the same run.
    var reference: String?
    /// median / the reference's median.
    var ratio: Double?
    /// A target from the issue, e.g. "median <= 20 ms", and whether it was met.
    var target: String?
    var targetMet: Bool?
    var notes: [String] = []
}

enum Table {
    static func render(_ rows: [ResultRow]) -> String {
        let header = ["benchmark", "variant", "n", "median", "p99", "ratio", "target"]
        let body = rows.map { row -> [String] in
            let s = row.summary
            return [row.benchmark, row.variant, s.map { "\($0.count)" } ?? "0",
                    s.map { format($0.median) + " " + row.unit } ?? "-", s.map { format($0.p99) + " " + row.unit } ?? "-",
                    row.ratio.map { String(format: "%.3fx", $0) } ?? "-",
                    row.target.map { "\($0) \(row.targetMet == true ? "MET" : "MISSED")" } ?? ""]
        }
        let widths = header.indices.map { i in ([header] + body).map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + body.map(line))
            .joined(separator: "\n")
    }

    static func format(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }
}

import Foundation
