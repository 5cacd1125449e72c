import Foundation

/// An SVG chart of result rows: one panel per benchmark, one horizontal bar per variant
/// (the median), a tick at the p99, the value and the target verdict beside it. Plain
/// SVG 1.1 with no script, so it renders on GitHub and in any browser.
enum Chart {
    static let width = 960.0
    static let labelWidth = 250.0
    static let valueWidth = 230.0
    static let barHeight = 16.0
    static let gap = 4.0

    static func svg(_ rows: [ResultRow]) -> String {
        var panels: [(String, [ResultRow])] = []
        for row in rows where row.summary != nil {
            let title = row.benchmark + (row.place.hasPrefix("VM") ? " [\(row.place)]" : "")
            if let index = panels.firstIndex(where: { $0.0 == title }) { panels[index].1.append(row) } else { panels.append((title, [row])) }
        }
        var body: [String] = []
        var y = 10.0
        let plot = width - labelWidth - valueWidth - 20
        for (title, members) in panels {
            body.append(text(x: 10, y: y + 12, title, weight: "bold"))
            y += 20
            let scale = members.compactMap { $0.summary.map { max($0.median, $0.p99) } }.max() ?? 0
            for row in members {
                guard let summary = row.summary else { continue }
                let length = scale > 0 ? plot * summary.median / scale : 0
                let p99 = scale > 0 ? plot * summary.p99 / scale : 0
                let colour = row.variant.hasPrefix("overcast") ? "#2b6cb0" : "#a0a0a0"
                body.append(text(x: 10, y: y + 12, row.variant))
                body.append("<rect x=\"\(n(labelWidth))\" y=\"\(n(y))\" width=\"\(n(max(length, 0.5)))\" height=\"\(n(barHeight))\" fill=\"\(colour)\"/>")
                body.append("<line x1=\"\(n(labelWidth + p99))\" y1=\"\(n(y - 1))\" x2=\"\(n(labelWidth + p99))\" y2=\"\(n(y + barHeight + 1))\" "
                            + "stroke=\"#c53030\" stroke-width=\"2\"/>")
                var value = "\(Table.format(summary.median)) \(row.unit) (p99 \(Table.format(summary.p99)))"
                if let ratio = row.ratio { value += String(format: " %.2fx", ratio) }
                if row.target != nil { value += " " + row.verdict }
                body.append(text(x: labelWidth + plot + 10, y: y + 12, value, fill: row.targetMet == false ? "#c53030" : "#222"))
                y += barHeight + gap
            }
            y += 10
        }
        let legend = text(x: 10, y: y + 12, "bars: median; red mark: p99; ratio: median over the reference measured in the same run; [VM]: emulated kernel-tier VM")
        y += 24
        return """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(y))" viewBox="0 0 \(Int(width)) \(Int(y))" \
        font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        \((body + [legend]).joined(separator: "\n"))
        </svg>

        """
    }

    static func text(x: Double, y: Double, _ content: String, weight: String = "normal", fill: String = "#222") -> String {
        let escaped = content.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        return "<text x=\"\(n(x))\" y=\"\(n(y))\" font-weight=\"\(weight)\" fill=\"\(fill)\">\(escaped)</text>"
    }

    /// A coordinate with one decimal.
    static func n(_ value: Double) -> String { String(format: "%.1f", value) }
}
