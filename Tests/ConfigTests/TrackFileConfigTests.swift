import Config
import Testing

/// `track_file` blocks, the lines that track them (instance, sync group) and FILE_CHECK,
/// read with keepalived's meaning, each mistake at its token.
@Suite struct TrackFileConfigTests {
    static let instance = """
        vrrp_instance VI_1 {
          interface eth0
          virtual_router_id 51
          priority 150
        """

    @Test func blocksAndTheirLinesAreRead() throws {
        let report = ConfigurationLoader.load(text: """
            track_file health {
              file /run/overcast/health
              weight -10 reverse
              init_file 3 overwrite
            }
            vrrp_track_file plain {
              file plain
            }
            \(Self.instance)
              track_file {
                health
                plain weight 5 noreverse
              }
              track_script {
                chk weight -20 reverse
              }
              track_interface {
                eth1 weight 7 reverse
              }
            }
            vrrp_script chk {
              script /bin/true
              weight 3
            }
            vrrp_sync_group G {
              group {
                VI_1
              }
              sync_group_tracking_weight
              track_file {
                plain weight 2
              }
            }
            virtual_server 10.0.0.1 80 {
              real_server 10.0.1.1 80 {
                FILE_CHECK {
                  track_file health
                  weight 1000
                }
                FILE_CHECK {
                  track_file plain
                }
              }
            }
            """, file: "t.conf")
        #expect(report.diagnostics.map(\.description) == ["t.conf:6:1: warning: vrrp_track_file is deprecated (keepalived too); read as track_file"])
        let c = report.configuration
        #expect(c.trackFiles.map(\.name) == ["health", "plain"])
        let health = try #require(c.trackFiles.first)
        #expect(health.path == "/run/overcast/health" && health.weight == -10 && health.reverse)
        #expect(health.initialValue == 3 && health.initialOverwrite)
        #expect(c.trackFiles[1].weight == 1 && !c.trackFiles[1].reverse && c.trackFiles[1].initialValue == nil)
        let lines = try #require(c.instances.first).trackFiles
        #expect(lines.map { $0.resolved(health) } .first! == (-10, true))
        #expect(lines.map(\.name) == ["health", "plain"] && lines[1].weight == 5 && lines[1].reverse == false)
        #expect(c.instances.first?.trackScripts.first?.reverse == true)
        #expect(c.instances.first?.trackInterfaces.first?.reverse == true)
        #expect(c.syncGroups.first?.trackFiles.map(\.name) == ["plain"])
        let checks = try #require(c.virtualServers.first?.realServers.first).fileChecks
        #expect(checks.map(\.name) == ["health", "plain"])
        // A weight written in FILE_CHECK comes without the block's reverse, as keepalived.
        #expect(checks[0].resolved(health) == (1000, false))
        #expect(checks[1].resolved(c.trackFiles[1]) == (1, false))
    }

    @Test(arguments: [
        ("track_file f {\n  weight 3\n}\n", "t.conf:1:1: error: track_file f has no 'file PATH'"),
        ("track_file f {\n  file /x\n  weight 300\n}\n", "t.conf:3:10: error: weight 300 is out of range -254-254"),
        ("track_file f {\n  file /x\n  weight 3 backwards\n}\n", "t.conf:3:12: error: weight: 'backwards' is not 'reverse'"),
        ("track_file f {\n  file /x\n  init_file 999\n}\n", "t.conf:3:13: error: init_file value 999 is out of range -254-254"),
        ("track_file f {\n  file /x\n  file /y\n}\n", "t.conf:3:3: error: track_file f: file is already /x"),
        ("track_file f {\n  file /x\n}\ntrack_file f {\n  file /y\n}\n", "t.conf:4:1: error: track_file f is defined twice (first at t.conf:1:1)"),
    ])
    func badBlocksAreErrorsWhereTheyAre(_ text: String, _ expected: String) {
        #expect(ConfigurationLoader.load(text: text, file: "t.conf").diagnostics.map(\.description) == [expected])
    }

    @Test func linesNamingNoBlockAreWarnedAndDropped() {
        let report = ConfigurationLoader.load(text: """
            track_file f {
              file /x
            }
            \(Self.instance)
              track_file {
                nope
                f weight 2 sideways
                f
                f
              }
            }
            virtual_server 10.0.0.1 80 {
              real_server 10.0.1.1 80 {
                FILE_CHECK {
                  weight 3
                }
                FILE_CHECK {
                  track_file missing
                }
              }
            }
            """, file: "t.conf")
        #expect(report.diagnostics.map(\.description) == [
            "t.conf:9:5: warning: vrrp_instance VI_1: track_file nope is not defined by any track_file block; ignored",
            "t.conf:10:16: error: expected 'reverse' or 'noreverse', not 'sideways'",
            "t.conf:11:5: warning: vrrp_instance VI_1: track_file f is listed twice; the first line counts",
            "t.conf:12:5: warning: vrrp_instance VI_1: track_file f is listed twice; the first line counts",
            "t.conf:17:5: error: FILE_CHECK has no 'track_file NAME'",
            "t.conf:20:5: warning: real_server 10.0.1.1 FILE_CHECK: track_file missing is not defined by any track_file block; ignored",
        ])
        #expect(report.configuration.instances.first?.trackFiles.map(\.name) == ["f"])
        #expect(report.configuration.virtualServers.first?.realServers.first?.fileChecks.isEmpty == true)
    }

    @Test func dumpConfigShowsTheWeightsInEffect() {
        let report = ConfigurationLoader.load(text: """
            track_file f {
              file /x
              weight -4 reverse
            }
            \(Self.instance)
              track_file {
                f
              }
            }
            """)
        let text = ConfigurationSummary.text(report.configuration)
        #expect(text.contains("track_file f: /x weight -4 reverse"))
        #expect(text.contains("  track_file f weight -4 reverse"))
    }
}
