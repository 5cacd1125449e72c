import Config
import Foundation

/// What `overcast simulate` prints: text for people, JSON for scripts. The JSON's field
/// names are part of the interface (tests and scripts read them); add, never rename.
public enum ClusterCheckOutput {
    /// One line per finding (`FILE:LINE, FILE:LINE: severity: message [kind]`), then the
    /// virtual routers paired and a summary line.
    public static func text(_ report: ClusterCheckReport) -> String {
        var lines = report.findings.map(\.description)
        for router in report.virtualRouters {
            let label = router.interface.map { "VRID \(router.virtualRouterID) on \($0)" } ?? "VRID \(router.virtualRouterID)"
            lines.append("\(label): " + router.members.map { "\($0.file) \($0.instance)" }.joined(separator: ", "))
        }
        let files = "\(report.files.count) file\(report.files.count == 1 ? "" : "s")"
        let routers = "\(report.virtualRouters.count) virtual router\(report.virtualRouters.count == 1 ? "" : "s")"
        let verdict = report.findings.isEmpty ? "the nodes agree"
            : "\(report.errors) error\(report.errors == 1 ? "" : "s"), \(report.warnings) warning\(report.warnings == 1 ? "" : "s")"
        lines.append("cluster check: \(files), \(routers): \(verdict)")
        return lines.joined(separator: "\n")
    }

    public static func json(_ document: SimulateDocument) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(document), as: UTF8.self)
    }
}

/// The whole `simulate --json` document.
public struct SimulateDocument: Encodable, Sendable {
    /// Every diagnostic of reading the files (`FILE:LINE:COL` each); when one is an
    /// error, `check` is null: the cluster is not checked on half-read files.
    public var diagnostics: [Diagnostic]
    public var check: ClusterCheckReport?
    /// The scenarios' results, as their runner encodes them; null when none ran.
    public var scenarios: (any Encodable & Sendable)?

    public init(diagnostics: [Diagnostic], check: ClusterCheckReport?, scenarios: (any Encodable & Sendable)? = nil) {
        self.diagnostics = diagnostics
        self.check = check
        self.scenarios = scenarios
    }

    private enum CodingKeys: String, CodingKey { case diagnostics, check, scenarios }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(diagnostics, forKey: .diagnostics)
        try container.encode(check, forKey: .check)
        if let scenarios {
            try container.encode(scenarios, forKey: .scenarios)
        } else {
            try container.encodeNil(forKey: .scenarios)
        }
    }
}
