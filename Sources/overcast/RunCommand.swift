import ArgumentParser
import CloudRoutes
import Foundation
import Logging
import OvercastDaemon
import OvercommitExecutor

/// `overcast run -f FILE`: the daemon, in the foreground (systemd Type=notify).
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon in the foreground. SIGTERM stops it gracefully, SIGHUP reloads the configuration.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: '\(logLevel)' is not a log level")
        }
        // Under systemd, lines with their syslog priority for the journal; else today's format.
        let journal = JournalLogHandler.standardErrorIsJournal()
        LoggingSystem.bootstrap { label in
            if journal {
                var handler = JournalLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "overcast")
        if !OvercommitExecutor.isInstalled { logger.notice("tasks run on Swift's default executor: libdispatch's 1 Hz workqueue monitor will wake this idle daemon") }
        let daemon = Daemon(configPath: options.file, configID: options.configID, version: overcastVersion, logger: logger)
        do {
            try await daemon.run()
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(1)
        }
    }
}

/// `overcast status [--json]`: the running daemon's instances, from its status socket.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the state of the daemon running in this network namespace (root only).")

    @Flag(help: "Print the daemon's JSON reply.")
    var json = false

    func run() throws {
        let data: Data
        do { data = try StatusSocket.query() } catch {
            FileHandle.standardError.write(Data("overcast status: \(error)\n".utf8))
            throw ExitCode(1)
        }
        if json {
            print(String(decoding: data, as: UTF8.self))
            return
        }
        let status = try JSONDecoder().decode(DaemonStatus.self, from: data)
        print("overcast \(status.version), pid \(status.pid), \(status.configFile), up \(Int(status.uptimeSeconds)) s, \(status.reloads) reload(s)")
        for i in status.instances {
            print("\(i.name): \(i.state) for \(Int(i.secondsInState)) s, vrid \(i.virtualRouterID) on \(i.interface) (\(i.transport), VRRPv\(i.version)), "
                  + "priority \(i.effectivePriority)/\(i.basePriority), master \(i.masterAddress ?? "-")")
            let c = i.counters
            print("  adverts sent \(c.advertisementsSent) received \(c.advertisementsReceived), priority 0 sent \(c.priorityZeroSent) "
                  + "received \(c.priorityZeroReceived), transitions \(c.transitions), send errors \(i.sendErrors)")
            if !c.rejected.isEmpty {
                print("  dropped: " + c.rejected.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key) \($0.value)" }
                    .joined(separator: ", "))
            }
            if !i.faults.isEmpty { print("  faults: \(i.faults.joined(separator: ", "))") }
            if !i.transportCounters.isEmpty {
                print("  \(i.transport): " + i.transportCounters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            }
            if let r = i.routeFailover { print(Self.describe(r)) }
        }
        if let ipvs = status.ipvs {
            print("ipvs: \(ipvs.services) services, \(ipvs.destinations) real servers; \(ipvs.changesApplied) changes in "
                  + "\(ipvs.reconciliations) reconciliations, last \(ipvs.lastChanges) in \(String(format: "%.1f", ipvs.lastMilliseconds)) ms"
                  + (ipvs.lastError.map { "; error: \($0)" } ?? ""))
        }
        if let c = status.healthChecker {
            let lag = c.runsStarted > 0 ? c.startLagSeconds / Double(c.runsStarted) * 1000 : 0
            let visited = c.passes > 0 ? Double(c.transfersVisited) / Double(c.passes) : 0
            print("health checker: \(c.runsStarted) runs started (\(String(format: "%.1f", lag)) ms late on average), "
                  + "\(c.transfersFinished) transfers done, \(c.transfersFailed) failed, \(c.timeouts) timed out, \(c.inFlight) in flight; "
                  + "\(c.passes) passes of \(String(format: "%.1f", visited)) transfers, at most \(c.mostStartsInOnePass) runs started in one")
        }
        for r in status.realServers {
            print("real server \(r.address):\(r.port) of \(r.virtualServer): \(r.up ? "UP" : "DOWN")"
                  + (r.weight.map { " weight \($0)" } ?? "") + (r.lastFailure.map { " (\($0))" } ?? ""))
        }
        if let metrics = status.metrics { print("metrics: \(metrics)") }
    }

    /// The route failover in two lines: where the routes point and what the API cost.
    static func describe(_ r: RouteFailoverStatus) -> String {
        let mean = r.apiCalls > 0 ? r.apiCallMillisecondsTotal / Double(r.apiCalls) : 0
        var lines = ["  ec2 routes \(r.state): \(r.destinations.joined(separator: ", ")) in \(r.routeTables.joined(separator: ", "))"
                     + " -> \(r.target ?? "?") (\(r.region ?? "?")), \(r.routeWrites) write(s), \(r.corrections) correction(s)"
                     + (r.lastFailoverMilliseconds.map { String(format: ", last failover %.1f ms", $0) } ?? "")]
        lines.append("  ec2 api: \(r.apiCalls) call(s), mean \(String(format: "%.1f", mean)) ms, max \(String(format: "%.1f", r.apiCallMillisecondsMax)) ms, "
                     + "\(r.apiErrors) error(s)"
                     + (r.errors.isEmpty ? "" : " (" + r.errors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ")")
                     + (r.lastError.map { "; last: \($0)" } ?? ""))
        return lines.joined(separator: "\n")
    }
}
