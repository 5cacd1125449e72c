import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Log lines for systemd's journal: each line starts with its syslog priority (`<3>` for
/// an error ... `<7>` for debug), which journald reads from a service's stderr, and
/// carries no timestamp of its own (the journal stamps every line). So `journalctl -p err
/// -u overcast` filters as it does for keepalived, whose lines go through syslog.
public struct JournalLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, write: @escaping @Sendable (String) -> Void = JournalLogHandler.standardError) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        write(Self.line(level: event.level, label: label, message: "\(event.message)", metadata: merged))
    }

    /// `<PRIORITY>[LABEL: ]MESSAGE key=value ...`, one line (newlines in the text would
    /// start lines of the journal's default priority, so they are escaped).
    static func line(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var text = label == "overcast" ? message : "\(label): \(message)"
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        return "<\(priority(level))>" + text.replacingOccurrences(of: "\n", with: "\\n") + "\n"
    }

    /// syslog(3)'s priorities: swift-log's trace and debug are both LOG_DEBUG.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Whether stderr is the journal's stream: systemd sets JOURNAL_STREAM to the device
    /// and inode of the stream it connected, so a redirected stderr (a file, a pipe the
    /// user made) keeps the terminal format.
    public static func standardErrorIsJournal(environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let stream = environment["JOURNAL_STREAM"] else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return stream == "\(info.st_dev):\(info.st_ino)"
    }

    public static let standardError: @Sendable (String) -> Void = { text in
        text.utf8CString.withUnsafeBufferPointer { buffer in
            // One write per line: lines of several threads never interleave.
            _ = Glibc.write(2, buffer.baseAddress, buffer.count - 1)
        }
    }
}
