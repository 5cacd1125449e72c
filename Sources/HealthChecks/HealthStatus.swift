// What `overcast status` shows of the health checks (the daemon's status embeds these).

/// A real server as the health checks see it.
public struct RealServerStatus: Codable, Sendable, Hashable {
    public var virtualServer: String
    public var address: String
    public var port: Int
    public var up: Bool
    public var lastFailure: String?
    /// The weight misc_dynamic or FILE_CHECK gives it; nil: its configured weight.
    public var weight: Int?
    public init(virtualServer: String, address: String, port: Int, up: Bool, lastFailure: String?, weight: Int? = nil) {
        self.virtualServer = virtualServer
        self.address = address
        self.port = port
        self.up = up
        self.lastFailure = lastFailure
        self.weight = weight
    }
}

/// The health checker itself: how much it does and whether it keeps up. A checker that
/// falls behind starts checks late (`startLagSeconds` grows by more than a few
/// milliseconds per run) and pays for every transfer in flight on each pass
/// (`transfersVisited` over `passes`).
public struct HealthCheckerStatus: Codable, Sendable, Hashable {
    /// Checker runs started (one per checker and delay_loop; a run asks every `url`).
    public var runsStarted = 0
    /// How late runs started after they were due, summed over the runs.
    public var startLagSeconds = 0.0
    /// HTTP and TCP transfers (one per `url`, or one connect) finished, and how many failed.
    public var transfersFinished = 0
    public var transfersFailed = 0
    /// Transfers that timed out: no connection or nothing heard for connect_timeout (or a
    /// trickling answer cut off at three timeouts).
    public var timeouts = 0
    public var inFlight = 0
    /// Passes over the transfers in flight, and the transfers they visited.
    public var passes = 0
    public var transfersVisited = 0
    /// The most checker runs started between two passes: never above the cap (64), which
    /// a checker that keeps up does not reach.
    public var mostStartsInOnePass = 0
    public init() {}
}
