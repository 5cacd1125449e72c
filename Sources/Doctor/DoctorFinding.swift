/// One line of `overcast doctor`'s report: which check, how it went, what was seen, and
/// for a WARN or FAIL the exact command that fixes it (an `aws ...`, `sysctl` or
/// `modprobe` line), so a user can act on the report without reading documentation.
public struct DoctorFinding: Sendable, Hashable, Codable, CustomStringConvertible {
    public enum Status: String, Sendable, Hashable, Codable, Comparable {
        case pass = "PASS", warn = "WARN", fail = "FAIL"

        private var rank: Int {
            switch self {
            case .pass: 0
            case .warn: 1
            case .fail: 2
            }
        }

        public static func < (a: Status, b: Status) -> Bool { a.rank < b.rank }
    }

    /// A short stable name ("source-dest-check", "security-group"...), for scripts and JSON.
    public var check: String
    public var status: Status
    public var detail: String
    public var fix: String?

    public init(_ check: String, _ status: Status, _ detail: String, fix: String? = nil) {
        self.check = check
        self.status = status
        self.detail = detail
        self.fix = fix
    }

    public static func pass(_ check: String, _ detail: String) -> DoctorFinding { DoctorFinding(check, .pass, detail) }
    public static func warn(_ check: String, _ detail: String, fix: String? = nil) -> DoctorFinding {
        DoctorFinding(check, .warn, detail, fix: fix)
    }
    public static func fail(_ check: String, _ detail: String, fix: String? = nil) -> DoctorFinding {
        DoctorFinding(check, .fail, detail, fix: fix)
    }

    public var description: String { "\(status.rawValue) \(check): \(detail)\(fix.map { " (fix: \($0))" } ?? "")" }

    // `fix` is written as null when there is none, so every JSON object has the same keys.
    private enum CodingKeys: String, CodingKey { case check, status, detail, fix }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(check, forKey: .check)
        try container.encode(status, forKey: .status)
        try container.encode(detail, forKey: .detail)
        try container.encode(fix, forKey: .fix)
    }
}

extension Array where Element == DoctorFinding {
    /// The worst status among the findings (PASS when there are none).
    public var worst: DoctorFinding.Status { map(\.status).max() ?? .pass }

    /// `overcast doctor`'s exit status: 0 unless something FAILs.
    public var exitStatus: Int32 { worst == .fail ? 1 : 0 }
}
