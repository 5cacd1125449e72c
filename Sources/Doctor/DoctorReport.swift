import Foundation

/// The report as a user reads it (one line per check, the fix indented below it, a
/// count at the end) or as a script reads it (a JSON array of {check, status, detail, fix}).
public enum DoctorReport {
    public static func text(_ findings: [DoctorFinding]) -> String {
        let width = max(8, findings.map(\.check.count).max() ?? 0)
        var lines: [String] = []
        for finding in findings {
            let name = finding.check.padding(toLength: width, withPad: " ", startingAt: 0)
            lines.append("\(finding.status.rawValue)  \(name)  \(finding.detail)")
            if let fix = finding.fix { lines.append(String(repeating: " ", count: width + 8) + "fix: \(fix)") }
        }
        let counts = [DoctorFinding.Status.pass, .warn, .fail].map { status in
            "\(findings.filter { $0.status == status }.count) \(status.rawValue)"
        }
        lines.append(counts.joined(separator: ", ") + (findings.worst == .fail ? ": not ready for a failover" : ": ready"))
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ findings: [DoctorFinding]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and optionals cannot fail; an empty array is the safe answer anyway.
        let data = (try? encoder.encode(findings)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
