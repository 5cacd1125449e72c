import CloudRoutes
import EC2
import HealthChecks
import Prometheus

/// The Prometheus view of the daemon (`metrics_listen`). Everything except the EC2 call
/// latencies is read from the same `DaemonStatus` that `overcast status` prints, so the
/// two can never disagree: each scrape builds a fresh registry from one status snapshot
/// (counters are the daemon's own running totals, gauges its current values). Instances
/// removed by a reload vanish from the next scrape instead of lingering as stale series.
///
/// EC2 call latencies are the exception: a histogram needs every observation, so calls
/// are recorded as they finish into a registry that lives as long as the daemon.
public final class DaemonMetrics: Sendable {
    private let events = PrometheusCollectorRegistry()

    /// From a fast regional endpoint (a few ms) to the client's 3-s default timeout.
    static let ec2Buckets: [Duration] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000].map { .milliseconds($0) }

    public init() {}

    /// Records one EC2 API call of `instance`'s route failover (called on its thread).
    func recordEC2Call(instance: String, _ call: EC2Client.Call) {
        let histogram = events.makeDurationHistogram(
            descriptor: Self.descriptor("overcast_ec2_api_call_duration_seconds",
                                        "EC2 API calls of the route failover, by action and outcome, from request to answer"),
            labels: [("instance", instance), ("action", call.action),
                     ("outcome", call.failure == nil ? "ok" : "error")],
            buckets: Self.ec2Buckets)
        histogram.record(.nanoseconds(Int64(min(max(call.seconds, 0), 1e6) * 1e9)))
    }

    /// The text exposition format for one status snapshot.
    public func exposition(_ status: DaemonStatus) -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        var out = MetricWriter(registry: registry)
        out.gauge("overcast_build_info", "Overcast's version (always 1)", 1, ["version": status.version])
        out.gauge("overcast_uptime_seconds", "Seconds since the daemon started", status.uptimeSeconds)
        out.counter("overcast_reloads_total", "Configuration reloads (SIGHUP)", status.reloads)
        for i in status.instances {
            let id: [String: String] = ["instance": i.name]
            for state in ["INIT", "BACKUP", "MASTER", "FAULT"] {
                out.gauge("overcast_vrrp_state", "1 for the VRRP instance's current state, 0 for the others",
                          i.state == state ? 1 : 0, id.merging(["state": state]) { a, _ in a })
            }
            out.gauge("overcast_vrrp_info", "The VRRP instance's identity (always 1)", 1,
                      id.merging(["vrid": "\(i.virtualRouterID)", "interface": i.interface, "transport": i.transport,
                                  "version": "\(i.version)"]) { a, _ in a })
            out.gauge("overcast_vrrp_priority", "Effective priority (base plus tracking weights)", Double(i.effectivePriority), id)
            out.gauge("overcast_vrrp_base_priority", "Configured priority", Double(i.basePriority), id)
            out.gauge("overcast_vrrp_seconds_in_state", "Seconds since the instance entered its current state", i.secondsInState, id)
            out.gauge("overcast_vrrp_faults", "Fault conditions holding the instance in FAULT", Double(i.faults.count), id)
            out.counter("overcast_vrrp_transitions_total", "State transitions", i.counters.transitions, id)
            out.counter("overcast_vrrp_became_master_total", "Transitions to MASTER", i.counters.becameMaster, id)
            out.counter("overcast_vrrp_adverts_sent_total", "Advertisements sent", i.counters.advertisementsSent, id)
            out.counter("overcast_vrrp_adverts_received_total", "Advertisements received and accepted", i.counters.advertisementsReceived, id)
            out.counter("overcast_vrrp_priority_zero_sent_total", "Priority-0 advertisements sent (stepping down)", i.counters.priorityZeroSent, id)
            out.counter("overcast_vrrp_priority_zero_received_total", "Priority-0 advertisements received", i.counters.priorityZeroReceived, id)
            out.counter("overcast_vrrp_send_errors_total", "Advertisements the transport failed to send", i.sendErrors, id)
            for (reason, count) in i.counters.rejected {
                out.counter("overcast_vrrp_dropped_total", "Received packets dropped, by reason", count,
                            id.merging(["reason": reason.rawValue]) { a, _ in a })
            }
            for (name, count) in i.transportCounters {
                out.counter("overcast_transport_events_total", "The transport's own counters (copies, unknown peers...)", count,
                            id.merging(["event": name]) { a, _ in a })
            }
            if let ec2 = i.routeFailover { Self.write(ec2, id: id, into: &out) }
        }
        for server in status.realServers {
            out.gauge("overcast_real_server_up", "1 while every checker of the real server passes", server.up ? 1 : 0,
                      ["virtual_server": server.virtualServer, "address": server.address, "port": "\(server.port)"])
        }
        if let checker = status.healthChecker {
            out.counter("overcast_health_check_runs_total", "Checker runs started (one per checker and delay_loop)", checker.runsStarted)
            out.counter("overcast_health_check_start_lag_seconds_total", "How late checker runs started after they were due, summed",
                        seconds: checker.startLagSeconds)
            out.counter("overcast_health_check_transfers_total", "HTTP and TCP check transfers finished", checker.transfersFinished)
            out.counter("overcast_health_check_transfer_failures_total", "Check transfers that failed", checker.transfersFailed)
            out.counter("overcast_health_check_timeouts_total", "Check transfers ended because the server sent nothing for connect_timeout",
                        checker.timeouts)
            out.gauge("overcast_health_check_in_flight", "Check transfers in flight", Double(checker.inFlight))
            out.counter("overcast_health_checker_passes_total", "Passes of the checker over its transfers in flight", checker.passes)
            out.counter("overcast_health_checker_transfers_visited_total", "Transfers in flight summed over the checker's passes",
                        checker.transfersVisited)
            out.gauge("overcast_health_checker_most_starts_per_pass", "The most checker runs started between two passes (capped at 64)",
                      Double(checker.mostStartsInOnePass))
        }
        if let ipvs = status.ipvs {
            out.gauge("overcast_ipvs_services", "IPVS virtual services programmed", Double(ipvs.services))
            out.gauge("overcast_ipvs_destinations", "IPVS real servers programmed", Double(ipvs.destinations))
            out.counter("overcast_ipvs_changes_total", "IPVS netlink change requests (adds, updates, deletes)", ipvs.changesApplied)
            out.counter("overcast_ipvs_reconciliations_total", "Reads of the kernel's table compared with the configuration",
                        ipvs.reconciliations)
            out.gauge("overcast_ipvs_last_reconcile_seconds", "Duration of the last reconciliation", ipvs.lastMilliseconds / 1000)
            out.gauge("overcast_ipvs_error", "1 when the last reconciliation failed", ipvs.lastError == nil ? 0 : 1)
        }
        var buffer = registry.emitToBuffer()
        events.emit(into: &buffer)
        return buffer
    }

    private static func write(_ ec2: RouteFailoverStatus, id: [String: String], into out: inout MetricWriter) {
        for state in ["starting", "standby", "asserting", "confirmed", "failing"] {
            out.gauge("overcast_ec2_route_state", "1 for the route failover's current state, 0 for the others",
                      ec2.state == state ? 1 : 0, id.merging(["state": state]) { a, _ in a })
        }
        out.counter("overcast_ec2_api_calls_total", "EC2 API calls", ec2.apiCalls, id)
        out.counter("overcast_ec2_api_errors_total", "Failed EC2 API calls", ec2.apiErrors, id)
        for (code, count) in ec2.errors {
            out.counter("overcast_ec2_api_errors_by_code_total", "Failed EC2 API calls by AWS error code (or timeout, HTTP status)",
                        count, id.merging(["code": code]) { a, _ in a })
        }
        out.counter("overcast_ec2_route_writes_total", "ReplaceRoute/CreateRoute calls that changed a route", ec2.routeWrites, id)
        out.counter("overcast_ec2_route_corrections_total", "Routes found pointing elsewhere while MASTER and put back",
                    ec2.corrections, id)
        if let last = ec2.lastFailoverMilliseconds {
            out.gauge("overcast_ec2_last_failover_seconds", "From becoming MASTER to every route read back pointing here",
                      last / 1000, id)
        }
    }

    /// A metric's full name as one piece (the descriptor would join namespace, subsystem,
    /// name and unit with underscores).
    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}

/// Registers each value in a per-scrape registry, labels sorted by name (swift-prometheus
/// escapes their values: instance names and AWS error codes come from outside).
private struct MetricWriter {
    let registry: PrometheusCollectorRegistry

    private func labels(_ labels: [String: String]) -> [(String, String)] {
        labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    func gauge(_ name: String, _ help: String, _ value: Double, _ labels: [String: String] = [:]) {
        let descriptor = DaemonMetrics.descriptor(name, help)
        let gauge = labels.isEmpty ? registry.makeGauge(descriptor: descriptor)
                                   : registry.makeGauge(descriptor: descriptor, labels: self.labels(labels))
        gauge.set(value)
    }

    private func makeCounter(_ name: String, _ help: String, _ labels: [String: String]) -> Counter {
        let descriptor = DaemonMetrics.descriptor(name, help)
        return labels.isEmpty ? registry.makeCounter(descriptor: descriptor)
                              : registry.makeCounter(descriptor: descriptor, labels: self.labels(labels))
    }

    func counter(_ name: String, _ help: String, _ value: Int, _ labels: [String: String] = [:]) {
        makeCounter(name, help, labels).increment(by: Int64(max(value, 0)))
    }

    /// A counter of seconds (a sum of durations).
    func counter(_ name: String, _ help: String, seconds: Double, _ labels: [String: String] = [:]) {
        let counter = makeCounter(name, help, labels)
        if seconds.isFinite && seconds > 0 { counter.increment(by: seconds) }
    }
}
