@testable import Config
import Foundation
import Logging
import Testing
import TestSupport
import VRRP
@testable import OvercastDaemon
#if canImport(Glibc)
import Glibc
#endif

/// The notify FIFO on a real FIFO: made when absent, lines queued for a reader that
/// comes later, and a full pipe (no reader takes them) drops lines and counts them
/// instead of blocking the writer.
@Suite struct NotifyFIFOWriterTests {
    /// A writer on a new FIFO in a directory of its own, both gone after `body`.
    func withFIFO(_ body: (NotifyFIFOWriter, String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/vrrp.fifo"
        let writer = NotifyFIFOWriter(logger: Logger(label: "test"))
        writer.configure([NotifyFIFO(keyword: "vrrp_notify_fifo", path: path)], scriptUser: nil, scriptGroup: nil)
        defer { writer.stop() }
        try body(writer, path)
    }

    @Test func aFullFIFODropsAndCountsAndNeverBlocks() throws {
        try withFIFO { writer, path in
            var info = stat()
            #expect(stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO)

            let line = NotifyLine(.instance, name: "VI_1", entering: .master, priority: 100)
            // Far more than a pipe holds (64 KiB by default, 27 bytes a line), with no reader.
            let total = 10_000
            for _ in 0..<total { writer.write(line) }
            let status = try #require(writer.status.first)
            #expect(status.linesDropped > 0 && status.linesWritten > 0)
            #expect(status.linesWritten + status.linesDropped == total)

            // A reader that comes now gets whole lines, in keepalived's format.
            let descriptor = open(path, O_RDONLY | O_NONBLOCK)
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            #expect(n > 0)
            let text = String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
            #expect(text.hasPrefix("INSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_1\" MASTER 100\n"))
            // Room again: the next line is written.
            writer.write(line)
            #expect(writer.status.first?.linesWritten == status.linesWritten + 1)
        }
    }

    /// A line of PIPE_BUF or more (an instance name of kilobytes) could be written in part:
    /// it is dropped and counted, and the reader's stream stays whole lines.
    @Test func aLineTooLongToWriteAtomicallyIsDroppedWhole() throws {
        try withFIFO { writer, path in
            writer.write(NotifyLine(.instance, name: String(repeating: "x", count: 5000), entering: .master, priority: 100))
            writer.write(NotifyLine(.instance, name: "VI_1", entering: .backup, priority: 100))
            #expect(writer.status.first?.linesDropped == 1 && writer.status.first?.linesWritten == 1)
            let descriptor = open(path, O_RDONLY | O_NONBLOCK)
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: 8192)
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            #expect(String(decoding: buffer[0..<max(0, n)], as: UTF8.self) == "INSTANCE \"VI_1\" BACKUP 100\n")
        }
    }

    /// A FIFO the daemon made goes when it stops; one that was there before stays.
    @Test func aFIFOTheWriterMadeIsRemovedAtStopAndAnOldOneKept() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let made = directory + "/made.fifo", old = directory + "/old.fifo"
        #expect(mkfifo(old, 0o600) == 0)
        let writer = NotifyFIFOWriter(logger: Logger(label: "test"))
        writer.configure([NotifyFIFO(keyword: "notify_fifo", path: made), NotifyFIFO(keyword: "vrrp_notify_fifo", path: old)],
                         scriptUser: nil, scriptGroup: nil)
        #expect(writer.status.count == 2 && FileManager.default.fileExists(atPath: made))
        writer.stop()
        #expect(!FileManager.default.fileExists(atPath: made) && FileManager.default.fileExists(atPath: old))
    }

    @Test func aPathThatIsNotAFIFOIsRefused() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("plain-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = NotifyFIFOWriter(logger: Logger(label: "test"))
        writer.configure([NotifyFIFO(keyword: "notify_fifo", path: path)], scriptUser: nil, scriptGroup: nil)
        #expect(writer.status.isEmpty)
        writer.write(NotifyLine(.group, name: "G", entering: .backup, priority: 0))
        #expect((try? Data(contentsOf: URL(fileURLWithPath: path)))?.isEmpty == true)
    }

    /// `notify_fifo PATH USER GROUP`: the FIFO the daemon makes belongs to them, so a
    /// reader running as that user opens it; a user the host lacks leaves it unopened.
    @Test(.enabled(if: TestGate.enabled(missing: geteuid() == 0 ? nil : "chown needs root", test: "notify FIFO owner")))
    func aFIFOIsMadeForItsOwnerAndAnUnknownOwnerRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let nobody = try #require(SystemAccounts.user(named: "nobody"))
        let nogroup = try #require(SystemAccounts.group(named: "nogroup"))
        var owned = NotifyFIFO(keyword: "notify_fifo", path: directory + "/owned.fifo")
        owned.owner = "nobody"
        owned.ownerGroup = "nogroup"
        var defaulted = NotifyFIFO(keyword: "vrrp_notify_fifo", path: directory + "/default.fifo")
        defaulted.owner = nil
        let writer = NotifyFIFOWriter(logger: Logger(label: "test"))
        writer.configure([owned, defaulted], scriptUser: "nobody", scriptGroup: nil)
        defer { writer.stop() }
        var info = stat()
        #expect(stat(owned.path, &info) == 0 && info.st_uid == nobody.uid && info.st_gid == nogroup)
        #expect(info.st_mode & 0o777 == 0o640)
        // No owner of its own: the global script_user, with that user's primary group.
        #expect(stat(defaulted.path, &info) == 0 && info.st_uid == nobody.uid && info.st_gid == nobody.gid)

        var unknown = NotifyFIFO(keyword: "notify_fifo", path: directory + "/unknown.fifo")
        unknown.owner = "no-such-user-overcast"
        let refusing = NotifyFIFOWriter(logger: Logger(label: "test"))
        refusing.configure([unknown], scriptUser: nil, scriptGroup: nil)
        #expect(refusing.status.isEmpty && !FileManager.default.fileExists(atPath: unknown.path))
    }

    /// notify_fifo takes every line; vrrp_notify_fifo the VRRP ones; lvs_notify_fifo the
    /// health-check ones, in keepalived's words.
    @Test func eachFIFOGetsItsOwnStream() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fifo-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let fifos = ["notify_fifo", "vrrp_notify_fifo", "lvs_notify_fifo"].map { NotifyFIFO(keyword: $0, path: directory + "/" + $0) }
        let writer = NotifyFIFOWriter(logger: Logger(label: "test"))
        writer.configure(fifos, scriptUser: nil, scriptGroup: nil)
        defer { writer.stop() }
        var vs = VirtualServer(key: .address("10.0.0.1", port: 80), location: SourceLocation(file: "t", line: 1, column: 1))
        vs.protocolName = "TCP"
        writer.write(NotifyLine(.instance, name: "VI_1", entering: .master, priority: 100))
        writer.writeChecker(CheckerFIFOLines.realServer(address: "10.0.0.2", port: 8080, of: vs, up: false))
        func drain(_ path: String) -> String {
            let descriptor = open(path, O_RDONLY | O_NONBLOCK)
            defer { close(descriptor) }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            return String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
        }
        #expect(drain(fifos[0].path) == "INSTANCE \"VI_1\" MASTER 100\nRS [10.0.0.2]:tcp:8080 [10.0.0.1]:tcp:80 DOWN\n")
        #expect(drain(fifos[1].path) == "INSTANCE \"VI_1\" MASTER 100\n")
        #expect(drain(fifos[2].path) == "RS [10.0.0.2]:tcp:8080 [10.0.0.1]:tcp:80 DOWN\n")
    }

    @Test func checkerLinesAreKeepalivedsFormat() {
        let at = SourceLocation(file: "t", line: 1, column: 1)
        var udp = VirtualServer(key: .address("2001:db8::1", port: 53), location: at)
        udp.protocolName = "UDP"
        #expect(CheckerFIFOLines.virtualServer(udp, up: true) == "VS [2001:db8::1]:udp:53 UP")
        #expect(CheckerFIFOLines.virtualServer(VirtualServer(key: .fwmark(3), location: at), up: false) == "VS FWM 3 DOWN")
        let group = VirtualServer(key: .group("web"), location: at)
        #expect(CheckerFIFOLines.realServer(address: "10.0.0.2", port: 80, of: group, up: true) == "RS [10.0.0.2]:tcp:80 [web]:0 UP")
    }
}
