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
    /// The kernel and machine the row was measured on (set by the run).
    var environment: String?
}

extension ResultRow {
    /// "VM" for rows from the emulated kernel-tier VM ("VM, TSC clock" when it reads the
    /// clock as real hardware does), "host" otherwise.
    var place: String {
        guard let environment, environment.contains("emulated") else { return "host" }
        return environment.hasSuffix("clock source tsc") ? "VM, TSC clock" : "VM"
    }

    /// MET, MISSED, or "not judged" when the reference could not run here.
    var verdict: String { targetMet.map { $0 ? "MET" : "MISSED" } ?? "not judged here" }
}

enum Table {
    static func render(_ rows: [ResultRow]) -> String {
        let header = ["benchmark", "variant", "where", "n", "median", "p99", "ratio", "target"]
        let body = rows.map { row -> [String] in
            let s = row.summary
            return [row.benchmark, row.variant, row.place, s.map { "\($0.count)" } ?? "0",
                    s.map { format($0.median) + " " + row.unit } ?? "-", s.map { format($0.p99) + " " + row.unit } ?? "-",
                    row.ratio.map { String(format: "%.3fx", $0) } ?? "-",
                    row.target.map { "\($0) \(row.verdict)" } ?? ""]
        }
        let widths = header.indices.map { i in ([header] + body).map { $0[i].count }.max() ?? 0 }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        return ([line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")] + body.map(line))
            .joined(separator: "\n")
    }

    /// The same rows as a Markdown table, one section per case (the benchmark's prefix
    /// before ":"), for BENCHMARKS.md.
    static func markdown(_ rows: [ResultRow]) -> String {
        var sections: [(String, [ResultRow])] = []
        for row in rows {
            let name = String(row.benchmark.split(separator: ":").first ?? "")
            if let index = sections.firstIndex(where: { $0.0 == name }) { sections[index].1.append(row) } else { sections.append((name, [row])) }
        }
        let judged = rows.filter { $0.target != nil }
        let targets = judged.isEmpty ? "" : (["#### targets", "", "| target | benchmark | variant | where | median | p99 | verdict |",
                                              "| --- | --- | --- | --- | ---: | ---: | --- |"] + judged.map { row -> String in
            let median: String = row.summary.map { format($0.median) + " " + row.unit } ?? "-"
            let p99: String = row.summary.map { format($0.p99) + " " + row.unit } ?? "-"
            let verdict: String = row.targetMet == false ? "**MISSED**" : row.verdict
            return "| \(row.target ?? "") | \(row.benchmark) | \(row.variant) | \(row.place) | \(median) | \(p99) | \(verdict) |"
        }).joined(separator: "\n") + "\n\n"
        return targets + sections.map { name, members in
            let header = "| benchmark | variant | where | n | median | p99 | ratio | target |\n| --- | --- | --- | ---: | ---: | ---: | ---: | --- |"
            let lines = members.map { row -> String in
                let s = row.summary
                let count: String = s.map { String($0.count) } ?? "0"
                let median: String = s.map { format($0.median) + " " + row.unit } ?? "-"
                let p99: String = s.map { format($0.p99) + " " + row.unit } ?? "-"
                let ratio: String = row.ratio.map { String(format: "%.2fx", $0) } ?? ""
                let target: String = row.target.map { "\($0): **\(row.verdict)**" } ?? ""
                let cells: [String] = [row.benchmark, row.variant, row.place, count, median, p99, ratio, target]
                return "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
            }
            return "#### \(name)\n\n" + ([header] + lines).joined(separator: "\n")
        }.joined(separator: "\n\n") + "\n"
    }

    static func format(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : abs(value) >= 1 || value == 0 ? String(format: "%.1f", value) : String(format: "%.3f", value)
    }
}

import Foundation
