import CloudRoutes
import EC2
import Foundation
import HealthChecks
import Testing
import VRRP
@testable import OvercastDaemon

/// The Prometheus exposition read back line by line: `name{labels} value`.
struct Exposition {
    var samples: [String: Double] = [:]
    var types: [String: String] = [:]

    init(_ bytes: [UInt8]) {
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) }
                continue
            }
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            samples[String(line[..<space])] = value
        }
    }
}

@Suite struct MetricsExpositionTests {
    static func instance(_ name: String, state: String) -> InstanceStatus {
        var counters = VRRPCounters()
        counters.advertisementsSent = 1234
        counters.advertisementsReceived = 7
        counters.priorityZeroSent = 1
        counters.priorityZeroReceived = 2
        counters.transitions = 3
        counters.becameMaster = 2
        counters.rejected = [.authFailure: 5, .unknownSource: 6]
        var status = InstanceStatus(name: name, virtualRouterID: 51, interface: "eth0", transport: "unicast", version: 3, state: state,
                                    basePriority: 150, effectivePriority: 90, masterAddress: nil, virtualAddresses: ["192.168.20.11/32"],
                                    counters: counters, sendErrors: 4, secondsInState: 12.5, faults: [])
        status.transportCounters = ["copies": 9]
        return status
    }

    static func status(_ instances: [InstanceStatus]) -> DaemonStatus {
        DaemonStatus(version: "9.9.9", pid: 1, configFile: "/etc/keepalived/keepalived.conf", uptimeSeconds: 60, reloads: 2,
                     instances: instances,
                     realServers: [RealServerStatus(virtualServer: "TCP 10.0.0.1:80", address: "10.0.1.1", port: 80, up: false,
                                                    lastFailure: "HTTP 503")],
                     healthChecker: { var c = HealthCheckerStatus(); c.runsStarted = 12; c.startLagSeconds = 0.5
                                      c.transfersFinished = 11; c.transfersFailed = 2; c.timeouts = 1; c.inFlight = 3
                                      c.passes = 8; c.transfersVisited = 20; c.mostStartsInOnePass = 5; return c }(),
                     ipvs: IPVSStatus(services: 10, destinations: 40, changesApplied: 41, reconciliations: 3, lastChanges: 1,
                                      lastMilliseconds: 250, lastError: nil))
    }

    @Test func everyValueOfTheStatusIsExposedWithItsType() {
        let metrics = DaemonMetrics()
        let e = Exposition(metrics.exposition(Self.status([Self.instance("VI_1", state: "MASTER")])))
        #expect(e.samples[#"overcast_vrrp_state{instance="VI_1",state="MASTER"}"#] == 1)
        #expect(e.samples[#"overcast_vrrp_state{instance="VI_1",state="BACKUP"}"#] == 0)
        #expect(e.samples[#"overcast_vrrp_state{instance="VI_1",state="FAULT"}"#] == 0)
        #expect(e.samples[#"overcast_vrrp_priority{instance="VI_1"}"#] == 90)
        #expect(e.samples[#"overcast_vrrp_base_priority{instance="VI_1"}"#] == 150)
        #expect(e.samples[#"overcast_vrrp_adverts_sent_total{instance="VI_1"}"#] == 1234)
        #expect(e.samples[#"overcast_vrrp_adverts_received_total{instance="VI_1"}"#] == 7)
        #expect(e.samples[#"overcast_vrrp_transitions_total{instance="VI_1"}"#] == 3)
        #expect(e.samples[#"overcast_vrrp_send_errors_total{instance="VI_1"}"#] == 4)
        #expect(e.samples[#"overcast_vrrp_dropped_total{instance="VI_1",reason="auth_failure"}"#] == 5)
        #expect(e.samples[#"overcast_vrrp_dropped_total{instance="VI_1",reason="unknown_source"}"#] == 6)
        #expect(e.samples[#"overcast_transport_events_total{event="copies",instance="VI_1"}"#] == 9)
        #expect(e.samples[#"overcast_vrrp_info{instance="VI_1",interface="eth0",transport="unicast",version="3",vrid="51"}"#] == 1)
        #expect(e.samples[#"overcast_real_server_up{address="10.0.1.1",port="80",virtual_server="TCP 10.0.0.1:80"}"#] == 0)
        #expect(e.samples["overcast_ipvs_changes_total"] == 41)
        #expect(e.samples["overcast_health_check_runs_total"] == 12)
        #expect(e.samples["overcast_health_check_start_lag_seconds_total"] == 0.5)
        #expect(e.samples["overcast_health_check_transfers_total"] == 11)
        #expect(e.samples["overcast_health_check_transfer_failures_total"] == 2)
        #expect(e.samples["overcast_health_check_timeouts_total"] == 1)
        #expect(e.samples["overcast_health_check_in_flight"] == 3)
        #expect(e.samples["overcast_health_checker_passes_total"] == 8)
        #expect(e.samples["overcast_health_checker_most_starts_per_pass"] == 5)
        #expect(e.samples["overcast_health_checker_transfers_visited_total"] == 20)
        #expect(e.types["overcast_health_check_timeouts_total"] == "counter")
        #expect(e.types["overcast_health_check_start_lag_seconds_total"] == "counter")
        #expect(e.samples["overcast_ipvs_last_reconcile_seconds"] == 0.25)
        #expect(e.samples["overcast_reloads_total"] == 2)
        #expect(e.samples[#"overcast_build_info{version="9.9.9"}"#] == 1)
        #expect(e.types["overcast_vrrp_adverts_sent_total"] == "counter")
        #expect(e.types["overcast_vrrp_state"] == "gauge")
        // No route failover configured: no EC2 series at all.
        #expect(!e.samples.keys.contains { $0.hasPrefix("overcast_ec2") })
    }

    @Test func anInstanceRemovedByAReloadLeavesNoSeriesBehind() {
        let metrics = DaemonMetrics()
        let before = Exposition(metrics.exposition(Self.status([Self.instance("VI_1", state: "MASTER"),
                                                                Self.instance("VI_2", state: "BACKUP")])))
        #expect(before.samples[#"overcast_vrrp_state{instance="VI_2",state="BACKUP"}"#] == 1)
        let after = Exposition(metrics.exposition(Self.status([Self.instance("VI_1", state: "FAULT")])))
        #expect(!after.samples.keys.contains { $0.contains(#"instance="VI_2""#) })
        #expect(after.samples[#"overcast_vrrp_state{instance="VI_1",state="FAULT"}"#] == 1)
        #expect(after.samples[#"overcast_vrrp_state{instance="VI_1",state="MASTER"}"#] == 0)
    }

    @Test func routeFailoverCountersAndCallLatencies() {
        let metrics = DaemonMetrics()
        var instance = Self.instance("VI_1", state: "MASTER")
        var ec2 = RouteFailoverStatus(routeTables: ["rtb-1"], destinations: ["192.168.20.11/32"], refresh: 5)
        ec2.state = "confirmed"
        ec2.apiCalls = 12
        ec2.apiErrors = 2
        // An error code is text from outside: quotes, backslashes and newlines are escaped.
        ec2.errors = ["RequestLimitExceeded": 1, "odd\"code\\\nx": 1]
        ec2.routeWrites = 3
        ec2.lastFailoverMilliseconds = 8
        instance.routeFailover = ec2
        metrics.recordEC2Call(instance: "VI_1", EC2Client.Call(action: "ReplaceRoute", seconds: 0.007, failure: nil))
        metrics.recordEC2Call(instance: "VI_1", EC2Client.Call(action: "ReplaceRoute", seconds: 0.3, failure: nil))
        metrics.recordEC2Call(instance: "VI_1", EC2Client.Call(action: "DescribeRouteTables", seconds: 3.5,
                                                               failure: .http(status: 503, detail: "unavailable")))
        let text = metrics.exposition(Self.status([instance]))
        let e = Exposition(text)
        #expect(e.samples[#"overcast_ec2_route_state{instance="VI_1",state="confirmed"}"#] == 1)
        #expect(e.samples[#"overcast_ec2_route_state{instance="VI_1",state="failing"}"#] == 0)
        #expect(e.samples[#"overcast_ec2_api_calls_total{instance="VI_1"}"#] == 12)
        #expect(e.samples[#"overcast_ec2_api_errors_by_code_total{code="RequestLimitExceeded",instance="VI_1"}"#] == 1)
        #expect(e.samples[#"overcast_ec2_api_errors_by_code_total{code="odd\"code\\\nx",instance="VI_1"}"#] == 1)
        #expect(e.samples[#"overcast_ec2_route_writes_total{instance="VI_1"}"#] == 3)
        #expect(e.samples[#"overcast_ec2_last_failover_seconds{instance="VI_1"}"#] == 0.008)
        let ok = #"instance="VI_1",action="ReplaceRoute",outcome="ok""#
        #expect(e.samples["overcast_ec2_api_call_duration_seconds_bucket{\(ok),le=\"0.01\"}"] == 1)
        #expect(e.samples["overcast_ec2_api_call_duration_seconds_bucket{\(ok),le=\"0.5\"}"] == 2)
        #expect(e.samples["overcast_ec2_api_call_duration_seconds_count{\(ok)}"] == 2)
        let failed = #"instance="VI_1",action="DescribeRouteTables",outcome="error""#
        #expect(e.samples["overcast_ec2_api_call_duration_seconds_bucket{\(failed),le=\"2.5\"}"] == 0)
        #expect(e.samples["overcast_ec2_api_call_duration_seconds_bucket{\(failed),le=\"+Inf\"}"] == 1)
        #expect(e.types["overcast_ec2_api_call_duration_seconds"] == "histogram")
        // Every line is a comment or `name{...} value`: nothing a newline broke apart.
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") where !line.hasPrefix("#") {
            #expect(line.hasPrefix("overcast_"), "\(line)")
        }
    }
}

@Suite struct MetricsHTTPTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    static func ask(_ request: String, body: () -> [UInt8] = { Array("x 1\n".utf8) }) -> String {
        text(MetricsHTTP.respond(to: Array(request.utf8), body: body))
    }

    @Test func getMetricsAnswersTheExpositionWithItsContentType() {
        let answer = Self.ask("GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n")
        #expect(answer.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(answer.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        #expect(answer.contains("Content-Length: 4\r\n"))
        #expect(answer.hasSuffix("\r\n\r\nx 1\n"))
        #expect(Self.ask("GET /metrics?name[]=x HTTP/1.0\r\n\r\n").hasSuffix("\r\n\r\nx 1\n"))
        let head = Self.ask("HEAD /metrics HTTP/1.1\r\n\r\n")
        #expect(head.contains("Content-Length: 4\r\n") && head.hasSuffix("\r\n\r\n"))
    }

    @Test(arguments: [
        ("POST /metrics HTTP/1.1\r\n\r\n", "405"),
        ("GET /secret HTTP/1.1\r\n\r\n", "404"),
        ("GET /metrics\r\n\r\n", "400"),
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n", "400"),
        ("", "400"),
        ("GET  /metrics HTTP/1.1\r\n\r\n", "400"),
    ])
    func anythingElseIsRefusedWithoutBuildingTheMetrics(request: String, code: String) {
        var built = false
        let answer = Self.ask(request) { built = true; return [] }
        #expect(answer.hasPrefix("HTTP/1.1 \(code) "), "\(answer)")
        #expect(!built)
    }

    @Test func aRequestLineThatIsNotUTF8IsRefused() {
        let answer = Self.text(MetricsHTTP.respond(to: [0xFF, 0xFE] + Array(" /metrics HTTP/1.1\r\n\r\n".utf8)) { [] })
        #expect(answer.hasPrefix("HTTP/1.1 400 "))
    }
}

/// `overcast status --json` keeps one flat object per instance: the core's counters
/// beside the other fields, as scripts reading it expect.
@Suite struct InstanceStatusJSONTests {
    @Test func theCountersAreFlatAndRoundTrip() throws {
        let status = MetricsExpositionTests.instance("VI_1", state: "BACKUP")
        let data = try JSONEncoder().encode(status)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["advertisementsSent"] as? Int == 1234)
        #expect(object["priorityZeroReceived"] as? Int == 2)
        #expect(object["rejected"] as? [String: Int] == ["auth_failure": 5, "unknown_source": 6])
        #expect(object["sendErrors"] as? Int == 4 && object["state"] as? String == "BACKUP")
        #expect(object["counters"] == nil && object["masterAddress"] == nil)
        #expect(try JSONDecoder().decode(InstanceStatus.self, from: data) == status)
    }
}
