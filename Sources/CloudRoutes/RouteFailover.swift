import MonotonicTime
import EC2
import Foundation
import LinuxNet
import Logging

/// Keeps an instance's VIP routes pointing at this node while it is MASTER, on a thread
/// of its own: an EC2 call that is slow, throttled or hanging never delays VRRP.
///
/// At start it finds its identity (instance id or ENI, region) and credentials, so a
/// failover costs only the writes and one read. On becoming MASTER it writes at once
/// (ReplaceRoute is atomic: the route never disappears) and reads the routes back; while
/// MASTER it re-reads every `refresh` seconds and puts back any route a stale writer
/// moved. A BACKUP never writes, and a write in progress stops retrying the moment the
/// node stops being MASTER. Failures are counted, logged with AWS's own error code, and
/// retried with backoff.
public final class RouteFailover: @unchecked Sendable {
    public let settings: RouteFailoverSettings
    private let logger: Logger
    private let environment: [String: String]

    // Shared with the VRRP loop and status readers, under `condition`.
    private let condition = MonotonicCondition()
    private var master = false
    /// When this node last became MASTER (`MonotonicClock.seconds`).
    private var masterSince = MonotonicClock.seconds
    private var generation = 0
    private var stopping = false
    private var published: RouteFailoverStatus

    // Worker-thread state.
    private var client: EC2Client?
    private var target: RouteTarget?
    private var failures = 0

    /// Each API call as it finishes (the metrics endpoint's latency histogram).
    private let onCall: @Sendable (EC2Client.Call) -> Void

    /// `onCall` hears each API call as it finishes (on the worker thread); the credential
    /// chain and region read the process's environment.
    public convenience init(settings: RouteFailoverSettings, logger: Logger,
                            onCall: @escaping @Sendable (EC2Client.Call) -> Void = { _ in }) {
        self.init(settings: settings, logger: logger, environment: ProcessInfo.processInfo.environment, onCall: onCall)
    }

    init(settings: RouteFailoverSettings, logger: Logger, environment: [String: String],
         onCall: @escaping @Sendable (EC2Client.Call) -> Void) {
        self.settings = settings
        self.onCall = onCall
        var logger = logger
        logger[metadataKey: "ec2.route_tables"] = "\(settings.tables.joined(separator: ","))"
        self.logger = logger
        self.environment = environment
        published = RouteFailoverStatus(routeTables: settings.tables, destinations: settings.destinations, refresh: settings.refresh)
    }

    public func start() {
        let thread = Thread.named("ec2-routes") { [self] in run() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Called by the VRRP loop on every transition; never blocks on the network.
    public func setMaster(_ isMaster: Bool) {
        condition.withLock {
            guard isMaster != master else { return }
            master = isMaster
            if isMaster { masterSince = MonotonicClock.seconds }
            generation += 1
            condition.signal()
        }
    }

    public func stop() {
        condition.withLock { stopping = true; condition.signal() }
    }

    public var status: RouteFailoverStatus { condition.withLock { published } }

    private func update(_ change: (inout RouteFailoverStatus) -> Void) { condition.withLock { change(&published) } }

    /// True while this node is MASTER in the same term as `generation`.
    private func mayWrite(_ term: Int) -> Bool { condition.withLock { master && !stopping && generation == term } }

    // MARK: - The worker thread

    private func run() {
        // When to look again (`MonotonicClock.seconds`); nil: only when woken.
        var deadline: Double? = MonotonicClock.seconds
        var handled = -1
        // A first assertion that failed is retried as a first one (writes first).
        var retryFresh = false
        while true {
            let (stop, isMaster, term, since) = condition.withLock { () -> (Bool, Bool, Int, Double) in
                while !stopping && generation == handled && (deadline.map { MonotonicClock.seconds < $0 } ?? true) {
                    if let deadline { _ = condition.wait(until: deadline) } else { condition.wait() }
                }
                return (stopping, master, generation, masterSince)
            }
            if stop { break }
            if client == nil {
                do { try prepare() } catch {
                    fail(error, doing: "finding identity and credentials")
                    deadline = MonotonicClock.seconds + backoff()
                    continue
                }
            }
            guard isMaster else {
                handled = term
                deadline = nil
                retryFresh = false
                update { $0.state = "standby" }
                continue
            }
            let fresh = term != handled || retryFresh
            handled = term
            (deadline, retryFresh) = assertRoutes(fresh: fresh, term: term, since: since)
        }
        logger.debug("route failover stopped")
    }

    /// One assertion; returns when to look again and whether that is to be a first one.
    private func assertRoutes(fresh: Bool, term: Int, since: Double) -> (Double, Bool) {
        guard let client, let target else { return (MonotonicClock.seconds, fresh) }
        update { $0.state = "asserting" }
        do {
            let report = try client.assertRoutes(tables: settings.tables, destinations: settings.destinations, target: target,
                                                 writeFirst: fresh, mayWrite: { mayWrite(term) })
            update { $0.routeWrites += report.changes.count }
            for change in report.changes where !fresh {
                logger.warning("route pointed elsewhere; put back", metadata: [
                    "ec2.route_table": "\(change.table)", "ec2.destination": "\(change.destination)",
                    "ec2.was": "\(change.previous ?? "missing")", "ec2.target": "\(target)"])
                update { $0.corrections += 1 }
            }
            guard mayWrite(term) else { return (MonotonicClock.seconds, false) }
            guard report.confirmed else {
                fail(EC2Failure.configuration("routes written but not read back pointing at \(target)"), doing: "confirming")
                return (MonotonicClock.seconds + backoff(), fresh)
            }
            failures = 0
            let elapsed = (MonotonicClock.seconds - since) * 1000
            update {
                $0.state = "confirmed"
                $0.lastConfirmed = ISO8601DateFormatter().string(from: Date())
                if fresh { $0.lastFailoverMilliseconds = elapsed }
            }
            if fresh {
                logger.info("routes point here", metadata: [
                    "ec2.destinations": "\(settings.destinations.joined(separator: ","))", "ec2.target": "\(target)",
                    "ec2.ms_since_master": "\(String(format: "%.1f", elapsed))", "ec2.calls": "\(report.calls)"])
            }
            return (MonotonicClock.seconds + settings.refresh, false)
        } catch {
            fail(error, doing: fresh ? "moving the routes here" : "checking the routes")
            return (MonotonicClock.seconds + backoff(), fresh)
        }
    }

    /// Counts a failure and says how long to pause before trying again.
    private func backoff() -> Double {
        failures += 1
        return Self.backoff(failures: failures, refresh: settings.refresh)
    }

    /// The pause after `failures` consecutive failures: 0.5 s doubling to `refresh` (at
    /// least 1 s, at most 30 s), so a returning API is noticed soon without hammering it.
    static func backoff(failures: Int, refresh: Double) -> Double {
        min(max(refresh, 1), 30, 0.5 * Double(1 << min(max(failures, 1) - 1, 10)))
    }

    private func fail(_ error: Error, doing what: String) {
        let text = "\(error)"
        update { $0.state = client == nil ? "starting" : "failing"; $0.lastError = "\(what): \(text)" }
        logger.error("route failover: \(what) failed", metadata: ["error": "\(text)"])
    }

    /// Identity, region, credentials and the client; then the source/dest check warning.
    private func prepare() throws {
        let metadata = try InstanceMetadata(endpoint: settings.imdsEndpoint, timeoutMilliseconds: Int(settings.apiTimeout * 1000))
        let fromEnvironment = ["AWS_REGION", "AWS_DEFAULT_REGION"].compactMap { environment[$0] }.first { !$0.isEmpty }
        let region = try settings.region ?? fromEnvironment ?? metadata.region()
        let target: RouteTarget
        switch settings.target {
        case .instance: target = .instance(try settings.instanceID ?? metadata.instanceID())
        case .eni: target = .networkInterface(try metadata.interfaceID(mac: settings.mac))
        }
        let chain = CredentialChain(environment: environment, metadata: metadata)
        let credentials = try chain.current()
        let client = try EC2Client(endpoint: settings.endpoint, region: region, credentials: chain,
                                   timeoutMilliseconds: Int(settings.apiTimeout * 1000),
                                   onCall: { [weak self] call in self?.record(call) })
        update {
            $0.region = region
            $0.target = target.description
            $0.credentials = credentials.description
        }
        logger.info("route failover ready", metadata: ["ec2.target": "\(target)", "ec2.region": "\(region)",
                                                       "ec2.endpoint": "\(client.endpoint)", "ec2.credentials": "\(credentials)"])
        self.client = client
        self.target = target
        failures = 0
        if case .instance(let id) = target {
            do {
                let check = try client.sourceDestCheck(instance: id)
                update { $0.sourceDestCheck = check }
                if check {
                    logger.warning("source/dest check is enabled on \(id): EC2 drops traffic for the VIP that arrives through the route; disable it (aws ec2 modify-instance-attribute --instance-id \(id) --no-source-dest-check)")
                }
            } catch {
                logger.warning("cannot read the source/dest check of \(id)", metadata: ["error": "\(error)"])
            }
        }
    }

    private func record(_ call: EC2Client.Call) {
        onCall(call)
        update {
            $0.apiCalls += 1
            $0.lastCallMilliseconds = call.seconds * 1000
            $0.apiCallMillisecondsTotal += call.seconds * 1000
            $0.apiCallMillisecondsMax = max($0.apiCallMillisecondsMax, call.seconds * 1000)
            if let failure = call.failure {
                $0.apiErrors += 1
                $0.errors[failure.label, default: 0] += 1
            }
        }
        if let failure = call.failure {
            logger.warning("EC2 \(call.action) failed", metadata: ["error": "\(failure)", "ec2.ms": "\(Int(call.seconds * 1000))"])
        } else {
            logger.debug("EC2 \(call.action)", metadata: ["ec2.ms": "\(String(format: "%.1f", call.seconds * 1000))"])
        }
    }
}
