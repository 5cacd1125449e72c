import EC2
import Foundation
import HTTPClient

extension AccountGatherer {
    /// The daemon's writes, as DryRun: ReplaceRoute and CreateRoute of each VIP in each
    /// configured table of this VPC. An endpoint that does not honour DryRun (not AWS)
    /// would carry them out, so each is chosen to change as little as possible there:
    /// ReplaceRoute names the route's current instance or ENI when it has one (replacing
    /// a route with itself), CreateRoute of an existing route is refused. After the first
    /// answer that shows DryRun was ignored, no further write is sent.
    func probeWrites(_ client: EC2Client) {
        guard let node = facts.node.value, let tables = facts.routeTables.value else { return }
        var ignoredDryRun = false
        for instance in config.instances {
            guard let failover = instance.routeFailover else { continue }
            let own: RouteTarget = failover.target == .eni ? .networkInterface(node.id)
                : .instance(facts.instanceID.value ?? node.instanceID ?? "")
            for id in failover.routeTables {
                guard let table = tables.first(where: { $0.id == id }), table.vpcID == nil || table.vpcID == node.vpcID else { continue }
                for vip in instance.vips {
                    let destination = "\(vip)/32"
                    let current = table.route(to: destination)
                    let replaceTarget = current.flatMap { route in
                        route.instanceID.map(RouteTarget.instance) ?? route.networkInterfaceID.map(RouteTarget.networkInterface)
                    } ?? own
                    for request in [EC2Request.replaceRoute(table: id, destination: destination, target: replaceTarget),
                                    EC2Request.createRoute(table: id, destination: destination, target: own)] {
                        let outcome: DryRunProbe.Outcome
                        if ignoredDryRun {
                            outcome = .skipped("the endpoint does not honour DryRun")
                        } else {
                            switch probe(client, request) {
                            case .value(.allowed): outcome = .allowed
                            case .value(.performed): outcome = .performed; ignoredDryRun = true
                            case .failed(let error): outcome = .failed(error)
                            case .skipped(let reason): outcome = .skipped(reason)
                            }
                        }
                        facts.dryRuns.append(DryRunProbe(action: request.action, table: id, destination: destination, outcome: outcome))
                    }
                }
            }
        }
    }

    private func probe(_ client: EC2Client, _ request: EC2Request) -> Fetched<DryRunAnswer> {
        call(request.action) { () throws(EC2Failure) in try client.dryRun(request) }
    }

    /// Seconds the endpoint's clock is ahead of this host's, from the `Date` header of a
    /// plain GET (any answer has one; no signature is needed to read it). `Date` has whole
    /// seconds, so the server's time is taken as the middle of its second, against the
    /// middle of the exchange here.
    static func clockSkew(endpoint: String, timeoutMilliseconds: Int) -> Fetched<Double> {
        let started = Date()
        let response: HTTPResponse
        do { response = try CurlEasyRequest().get(endpoint, timeoutMilliseconds: timeoutMilliseconds) } catch {
            return .failed(APIError(action: "GET \(endpoint)", .transport(error)))
        }
        let finished = Date()
        guard let text = response.header("Date"), let date = parseHTTPDate(text) else {
            return .failed(APIError(action: "GET \(endpoint)", kind: .malformed,
                                    message: "the answer (HTTP \(response.status)) has no readable Date header"))
        }
        let local = started.addingTimeInterval(finished.timeIntervalSince(started) / 2)
        return .value(date.addingTimeInterval(0.5).timeIntervalSince(local))
    }

    /// An HTTP date (RFC 9110's IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT").
    static func parseHTTPDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text.trimmingCharacters(in: .whitespaces))
    }
}
