import Foundation
import Testing
@testable import Config

/// `include` with relative paths and globs, missing files and loops, on real files.
@Suite struct IncludeTests {
    let directory: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-include-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/conf.d", withIntermediateDirectories: true)
    }

    func write(_ name: String, _ text: String) throws {
        try text.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
    }

    @Test func relativeIncludesAndGlobsKeepTheirOwnLocations() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write("main.conf", "global_defs {\n  router_id main\n}\ninclude conf.d/*.conf\n")
        try write("conf.d/a.conf", "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n}\n")
        try write("conf.d/b.conf", "vrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n  priority 300\n}\n")
        let report = ConfigurationLoader.load(path: directory + "/main.conf")
        #expect(report.configuration.instances.map(\.name) == ["A", "B"])
        #expect(report.files.count == 3)
        let error = try #require(report.diagnostics.first)
        #expect(error.description == "\(directory)/conf.d/b.conf:4:12: error: priority 300 is out of range 1-255")
    }

    @Test func aMissingIncludeIsAnErrorAtTheIncludeLine() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write("main.conf", "! header\ninclude nothere.conf\ninclude conf.d/none-*.conf\n")
        let report = ConfigurationLoader.load(path: directory + "/main.conf")
        #expect(report.diagnostics.map(\.description) == [
            "\(directory)/main.conf:2:9: error: included file \(directory)/nothere.conf does not exist",
            "\(directory)/main.conf:3:9: warning: include pattern conf.d/none-*.conf matches no file",
        ])
    }

    @Test func anIncludeLoopIsReportedOnceAndReadingStops() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write("a.conf", "include b.conf\n")
        try write("b.conf", "include a.conf\n")
        let report = ConfigurationLoader.load(path: directory + "/a.conf")
        #expect(report.diagnostics.count == 1)
        #expect(report.diagnostics[0].message.hasPrefix("include loop: "))
        #expect(report.diagnostics[0].location.file == directory + "/b.conf")
    }

    @Test func unreadableInputsGiveOneClearError() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try write("empty.conf", "")
        #expect(ConfigurationLoader.load(path: directory + "/empty.conf").diagnostics.isEmpty)
        #expect(ConfigurationLoader.load(path: directory + "/none.conf").diagnostics.map(\.message)
                == ["cannot read \(directory)/none.conf: no such file"])
        #expect(ConfigurationLoader.load(path: directory).diagnostics.map(\.message)
                == ["\(directory) is a directory, not a configuration file"])
        let binary = Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) })
        try binary.write(to: URL(fileURLWithPath: directory + "/binary.conf"))
        let report = ConfigurationLoader.load(path: directory + "/binary.conf")
        #expect(report.diagnostics.contains { $0.message == "binary data or invalid UTF-8; is this a keepalived.conf?" })
        #expect(!report.isValid)
    }

    /// A 10 MB configuration is read completely (no limit hit, no quadratic blow-up).
    @Test func aTenMegabyteFileIsRead() throws {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var text = ""
        var n = 0
        while text.utf8.count < 10_000_000 {
            n += 1
            text += "vrrp_script chk_\(n) {\n  script \"/usr/bin/true \(n)\"\n  interval 2\n  weight -10\n}\n"
        }
        try write("big.conf", text)
        let report = ConfigurationLoader.load(path: directory + "/big.conf")
        #expect(report.isValid)
        #expect(report.configuration.vrrpScripts.count == n)
    }
}

/// Parameters and `include`, as keepalived reads them: one table of definitions through
/// every file, in the order the lines are read.
@Suite struct IncludedParameterTests {
    @Test func definitionsFlowIntoAndOutOfIncludedFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-param-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/conf.d", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "$ID=1\n$PART=conf.d\ninclude ${PART}/vrrp.conf\n$ID=3\nvrrp_instance C {\n interface eth0\n virtual_router_id $ID\n priority $PRIO\n}\n"
            .write(toFile: directory + "/main.conf", atomically: true, encoding: .utf8)
        try "vrrp_instance A {\n interface eth0\n virtual_router_id $ID\n}\n$PRIO=300\n"
            .write(toFile: directory + "/conf.d/vrrp.conf", atomically: true, encoding: .utf8)
        let report = ConfigurationLoader.load(path: directory + "/main.conf")
        #expect(report.configuration.instances.map(\.name) == ["A", "C"])
        #expect(report.configuration.instances.map(\.virtualRouterID) == [1, 3])
        #expect(report.files.count == 2)
        // The bad priority was written in the included file and used in main.conf.
        #expect(report.diagnostics.map(\.description)
                == ["\(directory)/conf.d/vrrp.conf:5:7: error: priority 300 is out of range 1-255 (through $PRIO at \(directory)/main.conf:8:11)"])
    }
}
