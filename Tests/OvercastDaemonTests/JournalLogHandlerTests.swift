import Foundation
import Logging
import Testing
@testable import OvercastDaemon
#if canImport(Glibc)
import Glibc
#endif

/// journald's format: the syslog priority first, no timestamp, one line per event.
@Suite struct JournalLogHandlerTests {
    @Test func eachLevelCarriesItsSyslogPriority() {
        let levels: [(Logger.Level, Int)] = [(.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2)]
        for (level, priority) in levels { #expect(JournalLogHandler.priority(level) == priority) }
        #expect(JournalLogHandler.line(level: .error, label: "overcast", message: "cannot start",
                                       metadata: ["vrrp.instance": "VI_1", "error": "no such device"])
                == "<3>cannot start error=no such device vrrp.instance=VI_1\n")
        // A message of several lines stays one journal entry of its priority.
        #expect(JournalLogHandler.line(level: .warning, label: "lab", message: "a\nb", metadata: [:]) == "<4>lab: a\\nb\n")
    }

    @Test func aLoggerWritesThroughTheHandler() {
        final class Lines: @unchecked Sendable { var all: [String] = []; let lock = NSLock() }
        let lines = Lines()
        var handler = JournalLogHandler(label: "overcast") { text in lines.lock.withLock { lines.all.append(text) } }
        handler.logLevel = .info
        handler[metadataKey: "node"] = "lb1"
        let logger = Logger(label: "overcast") { _ in handler }
        logger.debug("not written")
        logger.notice("running", metadata: ["instances": "2"])
        #expect(lines.all == ["<5>running instances=2 node=lb1\n"])
    }

    /// Only a stderr that is the stream systemd named: a user's redirection to a file
    /// keeps the terminal format.
    @Test func theJournalIsRecognisedByItsDeviceAndInode() {
        var info = stat()
        #expect(fstat(2, &info) == 0)
        #expect(JournalLogHandler.standardErrorIsJournal(environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino)"]))
        #expect(!JournalLogHandler.standardErrorIsJournal(environment: ["JOURNAL_STREAM": "\(info.st_dev):\(info.st_ino &+ 1)"]))
        #expect(!JournalLogHandler.standardErrorIsJournal(environment: [:]))
    }
}
