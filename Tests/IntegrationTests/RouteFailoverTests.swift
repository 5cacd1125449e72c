import EC2
import Foundation
import Lab
import Testing

/// EC2 route-table failover in a namespace lab: two Overcast nodes and an "aws" node
/// running moto behind the signature-checking, fault-injecting proxy and the IMDSv2
/// emulator. One node is told its instance id and keys in the configuration and the
/// environment; the other finds both through IMDS (instance role).
@Suite(.serialized) struct RouteFailoverTests {
    static let vip = "192.168.20.11"
    static let destination = vip + "/32"
    static func address(_ n: Int) -> String { "172.31.18.\(10 + n)" }

    struct Bed {
        var vpc: VPCLab
        var nodes: [NetworkLab.Node]
        var lab: NetworkLab { vpc.network }
        var ec2: EC2Lab { vpc.ec2 }
        var table: String { vpc.routeTables[0] }
        func instance(_ n: Int) -> String { vpc.instances[n].id }
    }

    /// Two load balancers launched in a lab VPC; its EC2 endpoint and IMDS are the VPC's.
    static func bed(sourceDestCheck: Bool = false) throws -> Bed {
        try Prerequisites.require(commands: VPCLab.fabricCommands, pythonModules: ["moto", "boto3", "flask_cors"])
        let vpc = try VPCLab()
        do {
            let nodes = try (0..<2).map { try vpc.launch("lvs\($0 + 1)", address: address($0), sourceDestCheck: sourceDestCheck).node }
            return Bed(vpc: vpc, nodes: nodes)
        } catch {
            vpc.teardown()
            throw error
        }
    }

    /// Node 0 is configured with its instance id and region and gets keys from the
    /// environment; node 1 learns everything from IMDS and signs with role credentials.
    static func start(_ bed: Bed, _ n: Int, priority: Int, tag: String = "") throws -> ChildProcess {
        try bed.lab.startOvercast(bed.nodes[n], config: config(bed, n, priority: priority), tag: tag,
                                  environment: n == 0 ? EC2Lab.environment
                                      : ["AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_PROFILE=", "AWS_REGION=",
                                         "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"])
    }

    static func config(_ bed: Bed, _ n: Int, priority: Int, refresh: Int = 1) -> String {
        var block = ["ec2_route_failover {", "  route_table \(bed.table)", "  endpoint \(bed.ec2.endpoint)",
                     "  imds_endpoint \(bed.ec2.imdsEndpoint)", "  refresh \(refresh)", "  api_timeout 1"]
        if n == 0 { block += ["  instance_id \(bed.instance(0))", "  region \(EC2Lab.region)"] }
        block.append("}")
        // Node 1 also serves metrics: the EC2 calls seen by Prometheus and by status agree.
        return (n == 1 ? "global_defs {\n  metrics_listen 127.0.0.1:9650\n}\n" : "") + LabInstance(priority: priority, version: 3, advertInt: "0.2", source: address(n),
                           peers: [address(1 - n)], extra: block).text
    }

    static func route(_ bed: Bed, _ n: Int) -> [String: Any]? { bed.lab.instance(bed.nodes[n])?["routeFailover"] as? [String: Any] }

    static func logs(_ bed: Bed) -> String { bed.nodes.map { "--- \($0.name)\n\(bed.lab.log($0))" }.joined(separator: "\n") }

    static func writes(_ calls: [[String: Any]], from client: String) -> [[String: Any]] {
        calls.filter { ["ReplaceRoute", "CreateRoute"].contains($0["action"] as? String) && $0["client"] as? String == client }
    }

    static let enabled = Prerequisites.available(commands: VPCLab.fabricCommands, pythonModules: ["moto", "boto3", "flask_cors"],
                                                 test: "EC2 route failover lab")

    @Test(.enabled(if: enabled))
    func theRouteFollowsTheMasterAndNeverDisappears() throws {
        let bed = try Self.bed(sourceDestCheck: true)
        defer { bed.lab.teardown() }
        // The MASTER-to-be starts alone first: a node started alone is MASTER (and
        // writes) until it hears a peer, and this test checks that a BACKUP never writes.
        var first = try Self.start(bed, 0, priority: 150)
        #expect(waitUntil(timeout: 20) { Self.route(bed, 0)?["state"] as? String == "confirmed" }, "\(Self.logs(bed))")
        _ = try Self.start(bed, 1, priority: 100)
        #expect(waitUntil(timeout: 20) {
            bed.lab.state(bed.nodes[0]) == "MASTER" && Self.route(bed, 0)?["state"] as? String == "confirmed"
                && Self.route(bed, 1)?["state"] as? String == "standby"
        }, "\(Self.logs(bed))")
        #expect(try bed.ec2.routeTarget(table: bed.table, destination: Self.destination) == bed.instance(0))
        // The backup found its own identity through IMDS.
        #expect(Self.route(bed, 1)?["target"] as? String == bed.instance(1))
        #expect((Self.route(bed, 1)?["credentials"] as? String)?.contains("instance role") == true)
        // Source/dest check is on in this lab: both warn, and status says so.
        #expect(bed.lab.log(bed.nodes[0]).contains("source/dest check is enabled"))
        #expect(Self.route(bed, 0)?["sourceDestCheck"] as? Bool == true)

        let sampler = bed.ec2.sampler(table: bed.table, destination: Self.destination, interval: 0.01)
        usleep(200_000)
        let killedAt = Date().timeIntervalSince1970
        first.stop(signal: SIGKILL)
        let moved = waitUntil(timeout: 15) {
            (try? bed.ec2.routeTarget(table: bed.table, destination: Self.destination)) == bed.instance(1)
                && Self.route(bed, 1)?["state"] as? String == "confirmed"
        }
        usleep(200_000)
        let samples = sampler.stop().map(\.target)
        #expect(moved, "\(Self.logs(bed))")
        #expect(bed.lab.state(bed.nodes[1]) == "MASTER")
        // Sampled all along: the route always existed and only ever pointed at a node.
        #expect(samples.count > 10)
        #expect(!samples.contains { $0 == nil }, "the route disappeared during failover")
        #expect(Set(samples.compactMap { $0 }) == [bed.instance(0), bed.instance(1)])
        let failover = Self.route(bed, 1)?["lastFailoverMilliseconds"] as? Double
        #expect(failover != nil)
        print("route failover: MASTER to route confirmed in \(failover ?? -1) ms (\(samples.count) samples)")
        // The backup wrote nothing while it was BACKUP.
        let early = Self.writes(try bed.ec2.calls(), from: Self.address(1)).filter { ($0["time"] as? Double ?? 0) < killedAt }
        #expect(early.isEmpty, "\(early)")

        // The first node comes back, preempts, and takes the route back.
        first = try Self.start(bed, 0, priority: 150, tag: "-again")
        #expect(waitUntil(timeout: 15) {
            (try? bed.ec2.routeTarget(table: bed.table, destination: Self.destination)) == bed.instance(0)
                && bed.lab.state(bed.nodes[1]) == "BACKUP"
        }, "\(Self.logs(bed))")
    }

    @Test(.enabled(if: enabled))
    func staleWritersLoseAndAPIFaultsNeverTouchVRRP() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        // The MASTER signs with instance-role credentials that live 6 s: they must be
        // renewed before they expire, all through the test.
        try bed.ec2.control(["role_ttl": 6])
        func confirmed() -> Bool { Self.route(bed, 1)?["state"] as? String == "confirmed" }
        func errors(_ label: String) -> Int { (Self.route(bed, 1)?["errors"] as? [String: Int])?[label] ?? 0 }
        let master = try Self.start(bed, 1, priority: 150)
        #expect(waitUntil(timeout: 20) { bed.lab.state(bed.nodes[1]) == "MASTER" && confirmed() }, "\(Self.logs(bed))")
        let backup = try Self.start(bed, 0, priority: 100)
        #expect(waitUntil(timeout: 20) { bed.lab.state(bed.nodes[0]) == "BACKUP" }, "\(Self.logs(bed))")
        let becameMaster = bed.lab.instance(bed.nodes[1])?["becameMaster"] as? Int

        // A stale writer points the route at the backup: put back within `refresh` (1 s).
        try bed.ec2.setRoute(table: bed.table, destination: Self.destination, target: .instance(bed.instance(0)))
        #expect(waitUntil(timeout: 4) {
            (try? bed.ec2.routeTarget(table: bed.table, destination: Self.destination)) == bed.instance(1)
        }, "\(Self.logs(bed))")
        #expect(waitUntil(timeout: 2) { (Self.route(bed, 1)?["corrections"] as? Int ?? 0) >= 1 })
        #expect(bed.lab.log(bed.nodes[1]).contains("route pointed elsewhere; put back"))

        // Faults on the refresh reads: each retried within the cycle and counted by code.
        for (kind, label, count, seconds) in [("throttle", "RequestLimitExceeded", 2, 0.0), ("unavailable", "HTTP 503", 2, 0),
                                              ("hang", "timeout", 1, 3), ("malformed", "malformed", 2, 0),
                                              ("expired", "ExpiredToken", 2, 0)] {
            try bed.ec2.control(["fault": ["kind": kind, "count": count, "seconds": seconds, "actions": ["DescribeRouteTables"]]])
            #expect(waitUntil(timeout: 10) { errors(label) >= count && confirmed() }, "\(kind): \(String(describing: Self.route(bed, 1)))")
        }

        // Prometheus sees the same calls and errors as status, each call in the latency
        // histogram (recorded as it finishes, so a scrape may count one the status did not yet).
        let metrics = try MetricsEndpointTests.scrape(bed.lab, from: bed.nodes[1], "http://127.0.0.1:9650/metrics").samples
        let calls = metrics[#"overcast_ec2_api_calls_total{instance="VI_1"}"#] ?? -1
        let observed = metrics.filter { $0.key.hasPrefix("overcast_ec2_api_call_duration_seconds_count{") }.values.reduce(0, +)
        #expect(calls >= 10 && observed >= calls && observed <= calls + 2, "\(calls) calls, \(observed) observed")
        #expect(metrics[#"overcast_ec2_api_errors_by_code_total{code="ExpiredToken",instance="VI_1"}"#] == 2)
        #expect(metrics[#"overcast_ec2_api_errors_by_code_total{code="RequestLimitExceeded",instance="VI_1"}"#] == Double(errors("RequestLimitExceeded")))
        #expect(metrics[#"overcast_ec2_route_state{instance="VI_1",state="confirmed"}"#] == 1)
        #expect(metrics[#"overcast_ec2_route_corrections_total{instance="VI_1"}"#] ?? 0 >= 1)
        // And `overcast status` prints them for a person.
        let text = try bed.lab.exec(bed.nodes[1], [Binaries.overcast, "status"])
        #expect(text.contains("ec2 routes confirmed: \(Self.destination) in \(bed.table) -> \(bed.instance(1))"), "\(text)")
        #expect(text.contains("ExpiredToken 2") && text.contains("ec2 api: ") && text.contains("metrics: http://127.0.0.1:9650/metrics"),
                "\(text)")

        // Refused outright (not retryable): failing, AWS's code in status, and a route moved
        // meanwhile stays wrong until the API answers again, then is fixed at once.
        try bed.ec2.control(["fault": ["kind": "denied", "count": 100_000, "actions": ["DescribeRouteTables"]]])
        #expect(waitUntil(timeout: 5) { Self.route(bed, 1)?["state"] as? String == "failing" })
        #expect((Self.route(bed, 1)?["lastError"] as? String)?.contains("UnauthorizedOperation") == true)
        try bed.ec2.setRoute(table: bed.table, destination: Self.destination, target: .instance(bed.instance(0)))
        usleep(1_500_000)
        try bed.ec2.control(["fault": ["kind": "none", "count": 0]])
        #expect(waitUntil(timeout: 5) {
            (try? bed.ec2.routeTarget(table: bed.table, destination: Self.destination)) == bed.instance(1) && confirmed()
        }, "\(Self.logs(bed))")

        // VRRP never noticed; the daemons are alive; the role's credentials were renewed
        // in time (the only ExpiredToken errors are the two injected); the backup never
        // wrote; no secret reached status or logs.
        #expect(master.isRunning && backup.isRunning)
        #expect(bed.lab.state(bed.nodes[1]) == "MASTER" && bed.lab.state(bed.nodes[0]) == "BACKUP")
        #expect(bed.lab.instance(bed.nodes[1])?["becameMaster"] as? Int == becameMaster)
        #expect(errors("ExpiredToken") == 2)
        #expect(Self.writes(try bed.ec2.calls(), from: Self.address(0)).isEmpty)

        // A reload that changes only ec2_route_failover swaps the route worker: VRRP
        // keeps running (no transition), and the routes stay confirmed here.
        let transitions = bed.lab.instance(bed.nodes[1])?["transitions"] as? Int
        try Self.config(bed, 1, priority: 150, refresh: 2).write(toFile: bed.lab.path("lvs2.conf"), atomically: true, encoding: .utf8)
        kill(master.pid, SIGHUP)
        #expect(waitUntil(timeout: 10) { Self.route(bed, 1)?["refresh"] as? Double == 2 && confirmed() }, "\(Self.logs(bed))")
        #expect(bed.lab.instance(bed.nodes[1])?["transitions"] as? Int == transitions)
        #expect(bed.lab.state(bed.nodes[1]) == "MASTER")
        let status = String(decoding: try JSONSerialization.data(withJSONObject: bed.lab.overcastStatus(bed.nodes[0]) ?? [:]), as: UTF8.self)
        for text in [status, Self.logs(bed)] { #expect(!text.contains(EC2Lab.secretAccessKey)) }
    }
}
