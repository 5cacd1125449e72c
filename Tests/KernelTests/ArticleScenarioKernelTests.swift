import Foundation
import Testing
import Lab

/// Kernel tier: the article's whole setup end to end, for each transport, exactly as
/// `scripts/demo.sh` runs it (see `ArticleScenario`). Every bound is derived from the
/// configured timers: VRRPv2 advert_int 1 (Master_Down_Interval 3.61 s for the backup),
/// delay_loop 2 with connect_timeout 1, retry 1, delay_before_retry 1.
@Suite(.serialized, .enabled(if: KernelTier.inside, "runs only inside the kernel-tier VM (scripts/kernel-tier.sh)"))
struct ArticleScenarioKernelTests {
    static let mdi = ArticleLab.masterDownInterval
    /// Observation slack in the emulated VM: status is polled every 50 ms, and two
    /// emulated CPUs run six namespaces' processes.
    static let slack = 1.5

    func check(_ r: ScenarioReport, master: String) {
        let timeline = r.timeline.map(\.line).joined(separator: "\n")
        #expect(r.problems.isEmpty, "\(r.transport): \(r.problems)\n\(timeline)")
        #expect(r.answersAtStart == ["web1", "web2"], "\(r.transport): DR round robin over both web servers")
        // The backup waits Master_Down_Interval after the last advertisement it heard
        // (sent at most advert_int before the kill), never longer.
        if let takeover = r.takeover {
            #expect(takeover >= Self.mdi - 1 - 0.2 && takeover <= Self.mdi + Self.slack, "\(r.transport): takeover \(takeover) s\n\(timeline)")
        }
        // The route follows within a few EC2 calls; the client's requests resume once it has.
        if let takeover = r.takeover, let moved = r.routeMoved {
            #expect(moved <= takeover + 3, "\(r.transport): route moved \(moved) s after the kill\n\(timeline)")
        }
        if let moved = r.routeMoved, let gap = r.clientGap {
            #expect(gap <= moved + 1 + 2, "\(r.transport): client gap \(gap) s\n\(timeline)")
        }
        #expect(r.answersAfterFailover == ["web1", "web2"])
        #expect(r.masterAfterReturn == master && r.routeAfterReturn == master, "\(r.transport)\n\(timeline)")
        // Out after at most delay_loop + connect_timeout + retry x (delay_before_retry + timeout).
        if let removed = r.webRemoved { #expect(removed <= 2 + 1 + 1 * (1 + 1) + 2 * Self.slack + 3, "\(r.transport): web2 out after \(removed) s") }
        #expect(r.answersWithoutWeb2 == ["web1"])
        #expect(r.answersAtEnd == ["web1", "web2"])
        print("article scenario \(r.transport)\(r.nopreempt ? " nopreempt" : ""): takeover \(r.takeover ?? -1) s, route \(r.routeMoved ?? -1) s, "
              + "client gap \(r.clientGap ?? -1) s, web2 out \(r.webRemoved ?? -1) s, back \(r.webRestored ?? -1) s")
    }

    @Test func theArticlesSetupSurvivesFailoverReturnAndAWebServerFailureOnEveryTransport() throws {
        try Prerequisites.require(commands: ["ip", "python3"], pythonModules: ["moto", "boto3", "flask_cors"])
        let bed = try ArticleLab()
        defer { bed.teardown() }
        try bed.startWebServer(0)
        try bed.startWebServer(1)
        for transport in ["unicast", "gre", "replicate"] {
            check(ArticleScenario(bed: bed).run(transport: transport), master: "lvs1")
        }
        check(ArticleScenario(bed: bed).run(transport: "unicast", nopreempt: true), master: "lvs2")
    }
}
