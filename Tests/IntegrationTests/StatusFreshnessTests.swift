import Foundation
import Lab
import Testing

/// Status shows a transition a timer made at once. It used to be published only after
/// the loop's next wake-up: a node made MASTER by its Master_Down_Timer read as BACKUP
/// for up to an advertisement interval while its route was already being written (found
/// by the soak, seed 9: "wrote the route while BACKUP").
@Suite struct StatusFreshnessTests {
    @Test(.enabled(if: Prerequisites.available(commands: ["ip"], test: "status freshness")))
    func aMasterMadeByItsTimerShowsAsMasterAtOnce() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "10.9.0.10/24")
        // advert_int 2: the MASTER's next wake-up is 2 s after it took over.
        _ = try lab.startOvercast(n1, config: LabInstance(priority: 150, version: 3, advertInt: "2").text, logLevel: "info")
        var seen: [String: Any]?
        #expect(waitUntil(timeout: 15, interval: 0.02) {
            seen = lab.instance(n1)
            return seen?["state"] as? String == "MASTER"
        }, "\(lab.log(n1))")
        let inState = try #require(seen?["secondsInState"] as? Double)
        #expect(inState < 0.5, "first seen as MASTER \(inState) s after it became MASTER")
    }
}
