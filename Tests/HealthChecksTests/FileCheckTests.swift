import Config
import Testing
@testable import HealthChecks

/// FILE_CHECK: keepalived's arithmetic for checkers, and what the table does when a
/// tracked file's number changes.
@Suite struct FileCheckTests {
    static let web = HealthPlan.Server(id: .init(virtualServer: 0, address: "10.0.1.1", port: 80), label: "TCP 10.0.0.1:80", weight: 10)
    static let db = HealthPlan.Server(id: .init(virtualServer: 0, address: "10.0.1.2", port: 80), label: "TCP 10.0.0.1:80", weight: 3)

    @Test(arguments: [
        (0, 0, false, FileCheck.Effect.weight(0)),
        (2, 0, false, .down),
        (0, 0, true, .down),
        (2, 0, true, .weight(0)),
        (4, 5, false, .weight(20)),
        (4, 5, true, .weight(-20)),
        (Int(Int32.max), 2, false, .weight(Int(Int32.max))),
        (Int(Int32.min), 1, false, .down),
        (-3, Int(Int32.max), false, .down),
        (Int.max, Int.max, false, .weight(Int(Int32.max))),
    ])
    func keepalivedsRules(_ value: Int, _ weight: Int, _ reverse: Bool, _ expected: FileCheck.Effect) {
        #expect(FileCheck(server: 0, file: "f", weight: weight, reverse: reverse).effect(of: value) == expected)
    }

    @Test func aFilesNumberMovesWeightsAndTakesServersDownAtOnce() throws {
        let plan = HealthPlan(servers: [Self.web, Self.db], fileChecks: [
            FileCheck(server: 0, file: "load", weight: -2, reverse: false, notifyUp: "/bin/up", notifyDown: "/bin/down"),
            FileCheck(server: 1, file: "gate", weight: 0, reverse: false),
            FileCheck(server: 1, file: "load", weight: 1, reverse: false),
        ])
        var table = CheckerTable()
        // A number told before the checks exist counts once they do (start: files first).
        _ = table.recordFile("load", value: 2)
        table.replace(with: plan, now: 0, warmupDraw: { 0 })
        #expect(table.checkedFiles == ["load", "gate"])
        #expect(table.dynamicWeight(Self.web.id) == 6 && table.dynamicWeight(Self.db.id) == 5)
        var (changes, weightChanged) = table.recordFile("load", value: 0)
        #expect(changes.isEmpty && weightChanged)
        #expect(table.dynamicWeight(Self.web.id) == nil, "no offset: the configured weight")
        (changes, weightChanged) = table.recordFile("gate", value: 1)
        #expect(changes.map(\.server.id) == [Self.db.id] && changes.first?.isUp == false && !weightChanged)
        #expect(changes.first?.reason == "tracked file gate reads 1")
        #expect(!table.isAlive(Self.db.id) && table.isAlive(Self.web.id))
        #expect(table.states.first { $0.address == "10.0.1.2" }?.lastFailure == "tracked file gate reads 1")
        (changes, _) = table.recordFile("gate", value: 0)
        #expect(changes.first?.isUp == true && table.isAlive(Self.db.id))
        // Down through its own weight: -2 × a huge number is Int32.min.
        (changes, _) = table.recordFile("load", value: Int(Int32.max))
        #expect(changes.map(\.server.id) == [Self.web.id] && changes.first?.notify == "/bin/down")
        #expect(table.states.first { $0.address == "10.0.1.2" }?.weight == Int(Int32.max) + 3)
        (changes, weightChanged) = table.recordFile("other", value: 5)
        #expect(changes.isEmpty && !weightChanged)
    }

    @Test func thePlanTakesEachFileCheckWithItsBlocksWeight() {
        let report = ConfigurationLoader.load(text: """
            track_file f {
              file /x
              weight 4 reverse
            }
            track_file g {
              file /y
            }
            virtual_server 10.0.0.1 80 {
              real_server 10.0.1.1 80 {
                weight 7
                FILE_CHECK {
                  track_file f
                }
                FILE_CHECK {
                  track_file g
                  weight 2
                }
              }
            }
            """)
        let plan = HealthPlan(report.configuration)
        #expect(plan.fileChecks == [FileCheck(server: 0, file: "f", weight: 4, reverse: true),
                                    FileCheck(server: 0, file: "g", weight: 2, reverse: false)])
        #expect(plan.servers.first?.weight == 7 && plan.checkers.isEmpty)
    }
}
