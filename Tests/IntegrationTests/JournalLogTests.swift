import Foundation
import Lab
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The daemon under systemd: with JOURNAL_STREAM naming its stderr, every line starts with
/// its syslog priority and has no timestamp; with the same stderr and no JOURNAL_STREAM, the
/// terminal format (a timestamp first).
@Suite struct JournalLogTests {
    @Test(.enabled(if: Prerequisites.available(commands: ["ip"], test: "journal log format")))
    func underTheJournalEachLineCarriesItsPriority() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "10.9.0.10/24")
        let log = lab.path("n1journal.log")
        #expect(FileManager.default.createFile(atPath: log, contents: Data()))
        var info = stat()
        #expect(stat(log, &info) == 0)
        let config = LabInstance(priority: 150, advertInt: "0.2").text
        _ = try lab.startOvercast(n1, config: config, tag: "journal", environment: ["JOURNAL_STREAM=\(info.st_dev):\(info.st_ino)"],
                                  logLevel: "info")
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" }, "\(lab.log(n1, tag: "journal"))")
        let lines = lab.log(n1, tag: "journal").split(separator: "\n")
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.hasPrefix("<") && ["<2>", "<3>", "<4>", "<5>", "<6>", "<7>"].contains(String($0.prefix(3))) }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<6>overcast ") && $0.contains("running") }, "\(lines)")
        #expect(!lines.contains { $0.dropFirst(3).prefix(4).allSatisfy(\.isNumber) }, "no timestamp: \(lines)")

        let n2 = try lab.addNode("n2", address: "10.9.0.11/24")
        var other = LabInstance(priority: 100, advertInt: "0.2")
        other.vrid = 52
        _ = try lab.startOvercast(n2, config: other.text, logLevel: "info")
        #expect(waitUntil(timeout: 10) { lab.state(n2) != nil })
        let plain = lab.log(n2).split(separator: "\n")
        #expect(plain.first?.prefix(4).allSatisfy(\.isNumber) == true, "a timestamp first: \(plain)")
    }
}
