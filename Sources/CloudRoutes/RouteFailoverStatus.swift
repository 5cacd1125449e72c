import Foundation

/// What `overcast status` shows of an instance's EC2 route failover. Counters only and
/// redacted credentials: no secret ever reaches the status socket.
public struct RouteFailoverStatus: Codable, Sendable, Hashable {
    /// starting (finding identity and credentials), standby (BACKUP: never writes),
    /// asserting, confirmed, failing (retrying after an error).
    public var state = "starting"
    public var routeTables: [String]
    public var destinations: [String]
    /// Seconds between re-reads while MASTER.
    public var refresh: Double
    /// The instance or ENI id the routes must point at.
    public var target: String?
    public var region: String?
    /// Where the credentials came from, with the access key redacted.
    public var credentials: String?
    /// The instance's source/dest check (it must be off for the VIP's traffic to arrive).
    public var sourceDestCheck: Bool?
    public var apiCalls = 0
    public var apiErrors = 0
    /// Failed calls by AWS error code (or "timeout", "HTTP 503", "malformed").
    public var errors: [String: Int] = [:]
    public var lastError: String?
    /// ReplaceRoute/CreateRoute calls that changed a route.
    public var routeWrites = 0
    /// Routes found pointing elsewhere while MASTER and put back.
    public var corrections = 0
    /// From becoming MASTER to every route read back pointing here, the last time.
    public var lastFailoverMilliseconds: Double?
    /// Wall-clock time of the last confirmation, ISO 8601.
    public var lastConfirmed: String?
    public var lastCallMilliseconds: Double?
    /// Time spent in API calls, all of them and the slowest (mean = total / apiCalls).
    public var apiCallMillisecondsTotal = 0.0
    public var apiCallMillisecondsMax = 0.0

    public init(routeTables: [String], destinations: [String], refresh: Double) {
        self.routeTables = routeTables
        self.destinations = destinations
        self.refresh = refresh
    }
}
