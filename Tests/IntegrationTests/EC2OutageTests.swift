import Foundation
import Testing
import Lab

extension RouteFailoverTests {
    /// The EC2 API answers nothing but 503 for two minutes, and the MASTER dies at its
    /// start: VRRP fails over on time regardless and never moves again, the new MASTER
    /// keeps trying (backing off to at most `refresh`, never a storm), and when the API
    /// is back the route follows within `refresh`.
    @Test(.enabled(if: enabled))
    func anAPIOutageDelaysOnlyTheRouteAndItIsFixedWhenTheAPIReturns() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        let master = try bed.lab.startOvercast(bed.nodes[1], config: Self.config(bed, 1, priority: 150, refresh: 3), tag: "-o",
                                               environment: ["AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=",
                                                             "AWS_REGION=", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"])
        #expect(waitUntil(timeout: 20) {
            bed.lab.state(bed.nodes[1]) == "MASTER" && Self.route(bed, 1)?["state"] as? String == "confirmed"
        }, "\(Self.logs(bed))")
        _ = try bed.lab.startOvercast(bed.nodes[0], config: Self.config(bed, 0, priority: 100, refresh: 3), tag: "-o",
                                      environment: EC2Lab.environment)
        #expect(waitUntil(timeout: 20) { bed.lab.state(bed.nodes[0]) == "BACKUP" }, "\(Self.logs(bed))")

        try bed.ec2.control(["fault": ["kind": "unavailable", "count": 1_000_000]])
        let outage = Date()
        master.stop(signal: SIGKILL)
        // VRRP does not wait for EC2: Master_Down_Interval at 0.2 s is about 0.7 s.
        #expect(waitUntil(timeout: 3, interval: 0.05) { bed.lab.state(bed.nodes[0]) == "MASTER" })
        #expect(Date().timeIntervalSince(outage) < 2.5)
        #expect(waitUntil(timeout: 10) { Self.route(bed, 0)?["state"] as? String == "failing" },
                "\(String(describing: Self.route(bed, 0)))")
        let transitions = bed.lab.instance(bed.nodes[0])?["transitions"] as? Int
        var failedAtOneMinute = 0
        while Date().timeIntervalSince(outage) < 120 {
            usleep(500_000)
            if failedAtOneMinute == 0 && Date().timeIntervalSince(outage) >= 60 {
                failedAtOneMinute = (Self.route(bed, 0)?["errors"] as? [String: Int])?["HTTP 503"] ?? 0
            }
        }
        #expect(bed.lab.state(bed.nodes[0]) == "MASTER")
        #expect(bed.lab.instance(bed.nodes[0])?["becameMaster"] as? Int == 1)
        #expect(bed.lab.instance(bed.nodes[0])?["transitions"] as? Int == transitions)
        let failed = (Self.route(bed, 0)?["errors"] as? [String: Int])?["HTTP 503"] ?? 0
        // Backing off: an attempt at most every `refresh` (3 s, up to 4 requests each) once
        // at the cap, and still trying in the second minute.
        #expect(failed >= 20 && failed < 400, "\(failed) failed requests in 120 s")
        #expect(failed - failedAtOneMinute >= 10 && failed - failedAtOneMinute <= 4 * 60 / 3 + 8,
                "\(failed - failedAtOneMinute) failed requests in the second minute")

        try bed.ec2.control(["fault": ["kind": "none", "count": 0]])
        let back = Date()
        #expect(waitUntil(timeout: 8, interval: 0.1) {
            (try? bed.ec2.routeTarget(table: bed.table, destination: Self.destination)) == bed.instance(0)
        }, "\(Self.logs(bed))")
        #expect(Date().timeIntervalSince(back) <= 3 + 2, "route fixed \(Date().timeIntervalSince(back)) s after the API returned")
        #expect(waitUntil(timeout: 5) { Self.route(bed, 0)?["state"] as? String == "confirmed" })
    }
}

extension RouteFailoverTests {
    /// SIGHUP with the same file while VRRP runs at 0.2 s: no transition, and not one
    /// route write (the MASTER's route is already right).
    @Test(.enabled(if: enabled))
    func aReloadWithTheSameFileWritesNoRoute() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        let master = try Self.start(bed, 1, priority: 150)
        #expect(waitUntil(timeout: 20) {
            bed.lab.state(bed.nodes[1]) == "MASTER" && Self.route(bed, 1)?["state"] as? String == "confirmed"
        }, "\(Self.logs(bed))")
        _ = try Self.start(bed, 0, priority: 100)
        #expect(waitUntil(timeout: 20) { bed.lab.state(bed.nodes[0]) == "BACKUP" })
        usleep(1_500_000)
        let writes = Self.writes(try bed.ec2.calls(), from: Self.address(1)).count
        let transitions = bed.nodes.map { bed.lab.instance($0)?["transitions"] as? Int }
        for round in 1...3 {
            kill(master.pid, SIGHUP)
            #expect(waitUntil(timeout: 10) { bed.lab.overcastStatus(bed.nodes[1])?["reloads"] as? Int == round })
        }
        usleep(2_500_000)   // past a refresh (1 s): reads only
        #expect(Self.writes(try bed.ec2.calls(), from: Self.address(1)).count == writes)
        #expect(bed.nodes.map { bed.lab.instance($0)?["transitions"] as? Int } == transitions)
        #expect(Self.route(bed, 1)?["state"] as? String == "confirmed")
    }
}
