import Config
import InstanceConfiguration
import NetworkTypes
@testable import OvercastDaemon
import Testing
import VRRP

/// A tracked file's content read as keepalived's strtol(buf, NULL, 0) reads it.
@Suite struct TrackedFileContentTests {
    @Test(arguments: [
        ("", TrackedFileContent.value(0)),
        ("7\n", .value(7)),
        ("  -12 and then words", .value(-12)),
        ("+3", .value(3)),
        ("0x1F", .value(31)),
        ("0X1f\n", .value(31)),
        ("010", .value(8)),
        ("09", .value(0)),
        ("0x", .value(0)),
        ("0xg", .value(0)),
        ("words", .value(0)),
        ("-", .value(0)),
        ("2147483647", .value(2147483647)),
        ("-2147483648", .value(-2147483648)),
        ("2147483648", .invalid("2147483648")),
        ("99999999999999999999999999", .invalid("99999999999999999999999999")),
    ])
    func strtolsReading(_ text: String, _ expected: TrackedFileContent) {
        #expect(TrackedFileContent.parse(Array(text.utf8)) == expected)
    }

    @Test func onlyTheFirst127BytesAreRead() {
        let digits = String(repeating: " ", count: 126) + "42"
        #expect(TrackedFileContent.parse(Array(digits.utf8)) == .value(4))
    }

    @Test func aFileIsFoundByItsDirectoryAndName() {
        #expect(TrackedFileWatch.location("/run/x") == ("/run", "/run/x"))
        #expect(TrackedFileWatch.location("/x") == ("/", "/x"))
        #expect(TrackedFileWatch.location("rel/x") == ("rel", "rel/x"))
        #expect(TrackedFileWatch.location("x") == (".", "./x"))
        #expect(TrackedFileWatch.path("/", "x") == "/x")
    }

    @Test func instancesTrackTheirFilesAndTheirGroupsWithKeepalivedsWeights() throws {
        let report = ConfigurationLoader.load(text: """
            track_file f {
              file /x
              weight -10 reverse
            }
            track_file g {
              file /y
            }
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 51
              track_file {
                f
                g weight 4
              }
            }
            vrrp_instance VI_2 {
              interface eth0
              virtual_router_id 52
            }
            vrrp_sync_group G {
              group {
                VI_2
              }
              track_file {
                g weight 9
              }
            }
            """)
        try #require(report.isValid, "\(report.diagnostics)")
        let c = report.configuration
        let first = try InstanceCore.Configuration(c.instances[0], in: c, source: IPv4Address(10, 0, 0, 1))
        #expect(first.tracked.filter { $0.kind == .file } == [TrackedItem(.file, "f", weight: -10, reverse: true),
                                                              TrackedItem(.file, "g", weight: 4)])
        // A sync group member tracks the group's file with weight 0 (no sync_group_tracking_weight).
        let second = try InstanceCore.Configuration(c.instances[1], in: c, source: IPv4Address(10, 0, 0, 1))
        #expect(second.tracked.filter { $0.kind == .file } == [TrackedItem(.file, "g", weight: 0)])
        #expect(report.diagnostics.contains { "\($0)".contains("track_file g: weight ignored") })
    }
}
