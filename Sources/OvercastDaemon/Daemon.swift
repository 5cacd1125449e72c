import Config
import Foundation
import LinuxNet
import Overlay
import Logging
import ServiceLifecycle
import Transports
import VRRP
import UnixSignals
#if canImport(Glibc)
import Glibc
#endif

/// `overcast run`: reads the configuration, starts one service per VRRP instance plus
/// the status socket and the reload handler, and runs them until SIGTERM. SIGHUP
/// reloads: instances whose resolved setup did not change keep running untouched (no
/// flap, no address churn); changed ones are replaced, removed ones stop cleanly.
public final class Daemon: @unchecked Sendable {
    public struct StartError: Error, CustomStringConvertible {
        public var description: String
    }

    let configPath: String
    let configID: String?
    let logger: Logger
    let started = Date()
    let version: String

    let lock = NSLock()
    /// Held while a sync group's transitions are computed and their notifies and FIFO
    /// lines go out (never taken under `lock`).
    let groupOutputLock = NSLock()
    var runtimes: [String: InstanceRuntime] = [:]
    private var reloads = 0
    var scripts: ScriptRunner
    private var group: ServiceGroup?
    private var tracker: Tracker?
    /// Deleted VIPs, virtual and static routes, rules and addresses (`no_track` aside).
    private let kernelWatch: KernelWatch
    private let loadBalancer: LoadBalancer
    private let health: HealthMonitor
    /// `track_file` numbers, for VRRP tracking and FILE_CHECK.
    private let trackedFiles: TrackedFileWatch
    let alerts: AlertMailer
    var syncGroups: [SyncGroup] = []
    /// The static addresses, routes and rules last put into the kernel.
    private var staticState = KernelState()
    /// Interfaces whose `promote_secondaries` the daemon set, with the value it found.
    private var promotedInterfaces: [String: Bool] = [:]
    /// Each sync group's own state and notifies, by name (members that run here only).
    var groupCores: [String: SyncGroupCore] = [:]
    let notifyFIFO: NotifyFIFOWriter
    /// The virtual servers in effect, for the health-check FIFO lines.
    let configuredVirtualServers = VirtualServerTable()
    /// keepalived's nftables table for instances with Accept Mode off.
    let vipFirewall: VIPFirewall
    /// The `shutdown_script` of the configuration last read (a reload may change it).
    private var shutdownScript: LifecycleScript?
    let metrics = DaemonMetrics()
    /// The Prometheus endpoint while `metrics_listen` is set, and what status says of it.
    private var metricsServer: (listen: ListenAddress, server: SocketServer?, state: String)?

    public init(configPath: String, configID: String?, version: String, logger: Logger) {
        self.configPath = configPath
        self.configID = configID
        self.version = version
        self.logger = logger
        self.scripts = ScriptRunner(policy: .init(enforceSecurity: false, user: nil, group: nil, timeout: 15), logger: logger)
        self.loadBalancer = LoadBalancer(logger: logger, scripts: scripts)
        self.health = HealthMonitor(scripts: scripts, logger: logger)
        self.trackedFiles = TrackedFileWatch(logger: logger)
        let monitor = health
        trackedFiles.subscribe { name, value in monitor.fileChanged(name, value: value) }
        self.notifyFIFO = NotifyFIFOWriter(logger: logger)
        self.kernelWatch = KernelWatch(logger: logger)
        self.vipFirewall = VIPFirewall(logger: logger)
        let balancer = loadBalancer
        health.onChange = { alive, weight in balancer.update(alive: alive, weight: weight) }
        let alerts = AlertMailer(logger: logger)
        self.alerts = alerts
        let fifo = notifyFIFO
        let configured = configuredVirtualServers
        health.onServerChange = { change in
            alerts.realServer(change)
            let id = change.server.id
            if let vs = configured.value(at: id.virtualServer) {
                fifo.writeChecker(CheckerFIFOLines.realServer(address: "\(id.address)", port: Int(id.port), of: vs, up: change.isUp))
            }
        }
        loadBalancer.onQuorumChange = { index, up in
            alerts.virtualServer(index, up: up)
            if let vs = configured.value(at: index) { fifo.writeChecker(CheckerFIFOLines.virtualServer(vs, up: up)) }
        }
    }

    /// Reads and resolves the configuration; errors name the file and line.
    func prepare() throws -> (OvercastConfiguration, [InstanceSetup], KernelState) {
        let netlink = try NetlinkSocket(.route)
        let report = ConfigurationLoader.load(path: configPath, configID: configID,
                                              hostInterfaces: (try? netlink.links()).map { Set($0.map(\.name)) })
        for d in report.diagnostics { d.severity == .error ? logger.error("\(d)") : logger.warning("\(d)") }
        guard report.isValid else {
            throw StartError(description: "\(configPath): \(report.diagnostics.filter { $0.severity == .error }.count) error(s); see overcast check-config")
        }
        let config = report.configuration
        // The daemon brings its overlays up itself (idempotent: nothing changes when
        // `overcast overlay up` or an earlier start already built them).
        for overlay in config.overlays {
            let changes = try OverlayManager().up(overlay)
            for change in changes { logger.info("overlay \(overlay.name): \(change)") }
        }
        let setups = try config.instances.map { try InstanceSetup.resolve($0, in: config, netlink: netlink) }
        let (staticState, skipped) = KernelState.available(
            addresses: config.staticAddresses, routes: config.staticRoutes, rules: config.staticRules,
            defaultDevice: config.globalDefs.defaultInterface, links: try netlink.links(), what: "static")
        for line in skipped { logger.error("static entry left out: \(line)") }
        return (config, setups, staticState)
    }

    /// keepalived's static addresses, routes and rules: put in at start and on every
    /// reload (re-asserted), what a reload dropped from the file taken out; never removed
    /// at stop, so the host keeps its own plumbing while the daemon is down.
    func applyStaticState(_ next: KernelState) {
        let previous = lock.withLock { () -> KernelState in defer { staticState = next }; return staticState }
        guard !(previous.isEmpty && next.isEmpty) else { return }
        // Under the watch's record: what a reload drops is not a deletion to undo.
        kernelWatch.staticOwnership.changing { () -> KernelState? in
            do {
                let netlink = try NetlinkSocket(.route)
                previous.subtracting(next).withdraw(through: netlink, logger: logger, what: "static")
                return next.apply(through: netlink, logger: logger, what: "static")
            } catch {
                logger.error("cannot apply static addresses, routes and rules", metadata: ["error": "\(error)"])
                return nil
            }
        }
    }

    /// An HMAC instance's sealer, its sequence floor kept in /run/overcast so that a
    /// restart never sends behind its last life (docs/hmac-trailer.md); without the file
    /// (a read-only /run) it still seals, and says what a restart after a clock step costs.
    func sealer(for setup: InstanceSetup, _ authenticator: any AdvertisementAuthenticator) -> AdvertisementSealer {
        let file = AdvertisementSealer.floorFile(interface: setup.interfaceName, virtualRouterID: setup.router.virtualRouterID,
                                                 source: setup.source)
        do {
            return try AdvertisementSealer(authenticator, floorFile: file)
        } catch {
            logger.warning("HMAC sequence floor not kept: after a restart that follows a step back of the clock, peers refuse this node until its clock passes its old sequences",
                           metadata: ["file": "\(file)", "error": "\(error)", "vrrp.instance": "\(setup.name)"])
            return AdvertisementSealer(authenticator)
        }
    }

    /// The instance's runtime and transport. `all` are every instance of the
    /// configuration: the VRIDs of the others on the same interface are filtered out in
    /// the kernel, so each instance decodes only what may concern it.
    func makeRuntime(_ setup: InstanceSetup, among all: [InstanceSetup]) throws -> InstanceRuntime {
        let own = setup.router.virtualRouterID
        let siblings = all.filter { $0.name != setup.name && $0.interfaceName == setup.interfaceName }
            .map(\.router.virtualRouterID).filter { $0 != own }
        let logger = self.logger
        if setup.promoteSecondaries { promoteSecondaries(on: setup.interfaceName, instance: setup.name) }
        var settings = TransportSettings(
            kind: setup.transportKind, interfaceName: setup.interfaceName, interfaceIndex: setup.interfaceIndex,
            source: setup.source, peers: setup.router.unicastPeers ?? [], unicastTTL: setup.unicastTTL,
            replicateMode: setup.replicateMode, siblingRouterIDs: siblings, sealer: setup.authenticator.map { sealer(for: setup, $0) },
            expected: setup.router.receivePolicy)
        settings.unicastChecksum = setup.router.unicastChecksum
        let transport = try settings.open(log: { logger.warning("\($0)") })
        let metrics = self.metrics, name = setup.name
        let runtime = try InstanceRuntime(setup: setup, transport: transport, netlink: try NetlinkSocket(.route),
                                      scripts: scripts, logger: logger,
                                      onEC2Call: { metrics.recordEC2Call(instance: name, $0) })
        runtime.onSyncGroupNotice = { [weak self] notice in self?.tellSyncGroups(notice) }
        runtime.notifyFIFO = notifyFIFO
        runtime.vipFirewall = vipFirewall
        let alerts = self.alerts
        runtime.onTransition = { state in alerts.vrrpTransition(instance: name, to: state) }
        return runtime
    }

    /// Sets `promote_secondaries` on `interface`, remembering the value found there the
    /// first time so that `restorePromoteSecondaries` can put it back at stop.
    func promoteSecondaries(on interface: String, instance: String) {
        let original = PromoteSecondaries.isEnabled(on: interface)
        do {
            try PromoteSecondaries.set(true, on: interface)
            lock.withLock { if promotedInterfaces[interface] == nil { promotedInterfaces[interface] = original } }
        } catch {
            logger.error("promote_secondaries: cannot set the sysctl", metadata: ["vrrp.instance": "\(instance)", "error": "\(error)"])
        }
    }

    func restorePromoteSecondaries() {
        let changed = lock.withLock { () -> [String: Bool] in defer { promotedInterfaces = [:] }; return promotedInterfaces }
        for (interface, original) in changed where !original {
            do { try PromoteSecondaries.set(false, on: interface) } catch {
                logger.warning("promote_secondaries: cannot restore the sysctl", metadata: ["interface": "\(interface)", "error": "\(error)"])
            }
        }
    }

    /// `startup_script` / `shutdown_script`: waited for, killed at their timeout.
    private func runLifecycleScript(_ script: LifecycleScript?, _ what: String) async {
        guard let script, !script.command.isEmpty else { return }
        let status = await scripts.run(script.command, timeout: script.timeout, user: script.user, group: script.group)
        logger.info("\(what) finished", metadata: ["script": "\(script.command)",
                                                   "status": "\(status.map(String.init) ?? "killed or not started")"])
    }

    private func applyScriptPolicy(_ config: OvercastConfiguration) {
        ScriptRunner.learnAccounts(of: config.scriptUsers)
        scripts.policy = .init(enforceSecurity: config.globalDefs.enableScriptSecurity, user: config.globalDefs.scriptUser,
                               group: config.globalDefs.scriptGroup, timeout: config.globalDefs.scriptTimeout)
    }

    /// Runs until SIGTERM or SIGINT. Throws when the configuration cannot start.
    /// How long a stopping daemon waits for its last alert mails ("Stopping") to leave.
    static let alertDrainSeconds = 5.0

    public func run() async throws {
        // SIGHUP's default action ends the process: trapped before anything else, so a
        // reload asked for while the daemon starts (its startup_script, a slow network)
        // waits, buffered, and is carried out once it runs.
        let reloads = await UnixSignalsSequence(trapping: .sighup)
        // First: systemd's watchdog may be counting from the start of the process.
        startWatchdogIfAsked()
        // The status socket first: it is also what keeps a second daemon out of this
        // network namespace, before anything touches the network.
        let status = try StatusServer.make(logger: logger) { [weak self] in self?.statusJSON() ?? Data() }
        let (config, setups, staticState) = try prepare()
        applyStaticState(staticState)
        applyScriptPolicy(config)
        lock.withLock { shutdownScript = config.globalDefs.shutdownScript }
        notifyFIFO.configure(config.globalDefs.notifyFIFOs, scriptUser: config.globalDefs.scriptUser,
                             scriptGroup: config.globalDefs.scriptGroup)
        defer { notifyFIFO.stop() }
        vipFirewall.prepare(config.globalDefs.vipFirewall, needed: setups.contains(where: \.dropsVIPTraffic))
        // After the instances have stopped (and taken their VIPs out of the set).
        defer { vipFirewall.uninstall() }
        await runLifecycleScript(config.globalDefs.startupScript, "startup_script")
        alerts.configure(config)
        // Before the first instance sets promote_secondaries: an instance that fails to
        // start must not leave the sysctl changed.
        defer { restorePromoteSecondaries() }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        for setup in setups {
            let runtime = try makeRuntime(setup, among: setups)
            runtime.startupDelay = config.globalDefs.vrrpStartupDelay
            lock.withLock { runtimes[setup.name] = runtime }
            services.append(.init(service: InstanceService(runtime: runtime), successTerminationBehavior: .ignore))
        }
        configuredVirtualServers.set(config.virtualServers)
        // The files first, so FILE_CHECK and tracking start from their numbers; the checks
        // before IPVS, so a server a file took down is never programmed.
        trackedFiles.configure(config.trackFiles, initialize: true)
        health.configure(config)
        loadBalancer.apply(config)
        let tracker = Tracker(runner: scripts, files: trackedFiles, logger: logger)
        lock.withLock { self.tracker = tracker }
        configureSyncGroups(config)
        tracker.configure(config, runtimes: lock.withLock { Array(runtimes.values) })
        kernelWatch.configure(instances: lock.withLock { Array(runtimes.values) })
        status.start()
        defer { status.stop() }
        configureMetrics(config.globalDefs.metricsListen)
        defer { configureMetrics(nil) }
        services.append(.init(service: ReloadService(daemon: self, signals: reloads), successTerminationBehavior: .ignore))
        services.append(.init(service: StartupPagesService(logger: logger), successTerminationBehavior: .ignore))

        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint],
                                                      logger: logger))
        lock.withLock { self.group = group }
        logger.info("overcast \(version) running", metadata: ["config": "\(configPath)", "instances": "\(setups.count)"])
        SystemdNotify.send("READY=1\nSTATUS=\(setups.count) VRRP instance(s)")
        var failure: (any Error)?
        do { try await group.run() } catch { failure = error }
        SystemdNotify.send("STOPPING=1")
        for name in lock.withLock({ runtimes.keys.sorted() }) { alerts.instanceLeft(name, deleted: false) }
        // omega: the virtual servers' down notifiers, before the shutdown script.
        await health.runOmegaNotifiers()
        // The instances have stopped either way: the shutdown script runs also after a failure.
        await runLifecycleScript(lock.withLock { shutdownScript }, "shutdown_script")
        alerts.drain(timeout: Self.alertDrainSeconds)
        if let failure { throw failure }
        logger.info("overcast stopped")
    }

    /// SIGHUP: re-read the configuration and change only what changed.
    func reload() async {
        SystemdNotify.send("RELOADING=1")
        defer { SystemdNotify.send("READY=1") }
        let prepared: (OvercastConfiguration, [InstanceSetup], KernelState)
        do { prepared = try prepare() } catch {
            logger.error("reload failed; the running configuration stays", metadata: ["error": "\(error)"])
            return
        }
        applyStaticState(prepared.2)
        vipFirewall.prepare(prepared.0.globalDefs.vipFirewall, needed: prepared.1.contains(where: \.dropsVIPTraffic))
        applyScriptPolicy(prepared.0)
        lock.withLock { shutdownScript = prepared.0.globalDefs.shutdownScript }
        notifyFIFO.configure(prepared.0.globalDefs.notifyFIFOs, scriptUser: prepared.0.globalDefs.scriptUser,
                             scriptGroup: prepared.0.globalDefs.scriptGroup)
        configureMetrics(prepared.0.globalDefs.metricsListen)
        let wanted = Dictionary(prepared.1.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let current = lock.withLock { runtimes }
        var kept = 0
        for (name, runtime) in current where wanted[name]?.restartKey != runtime.setup.restartKey {
            logger.info("reload: stopping instance", metadata: ["vrrp.instance": "\(name)",
                                                                "reason": "\(wanted[name] == nil ? "removed" : "changed")"])
            runtime.post(.event(.stop))
            await runtime.waitUntilStopped()
            lock.withLock { runtimes[name] = nil }
            if wanted[name] == nil { alerts.instanceLeft(name, deleted: true) }
        }
        for (name, setup) in wanted.sorted(by: { $0.key < $1.key }) {
            if let running = current[name], running.setup.restartKey == setup.restartKey {
                running.reconfigure(setup)
                kept += 1
                continue
            }
            do {
                let runtime = try makeRuntime(setup, among: prepared.1)
                lock.withLock { runtimes[name] = runtime }
                await lock.withLock { group }?.addServiceUnlessShutdown(
                    .init(service: InstanceService(runtime: runtime), successTerminationBehavior: .ignore))
                logger.info("reload: started instance", metadata: ["vrrp.instance": "\(name)"])
            } catch {
                logger.error("reload: cannot start instance", metadata: ["vrrp.instance": "\(name)", "error": "\(error)"])
            }
        }
        alerts.configure(prepared.0)
        configuredVirtualServers.set(prepared.0.virtualServers)
        trackedFiles.configure(prepared.0.trackFiles, initialize: false)
        health.configure(prepared.0)
        loadBalancer.apply(prepared.0)
        lock.withLock { reloads += 1 }
        configureSyncGroups(prepared.0)
        if prepared.0.globalDefs.fifoWriteStatesOnReload { writeStatesToFIFOs() }
        lock.withLock { tracker }?.configure(prepared.0, runtimes: lock.withLock { Array(runtimes.values) })
        kernelWatch.configure(instances: lock.withLock { Array(runtimes.values) })
        logger.info("reloaded", metadata: ["unchanged": "\(kept)", "instances": "\(wanted.count)"])
        StartupPagesService.release(logger: logger)
    }

    /// Starts, moves or stops the Prometheus endpoint. A port that cannot be bound is
    /// logged and shown in status, and the daemon runs on: keeping the VIP matters more.
    func configureMetrics(_ listen: ListenAddress?) {
        let current = lock.withLock { metricsServer }
        guard current?.listen != listen else { return }
        current?.server?.stop()
        guard let listen else {
            lock.withLock { metricsServer = nil }
            return
        }
        do {
            let server = try MetricsServer.make(listen: listen) { [weak self] in
                guard let self else { return [] }
                return self.metrics.exposition(self.snapshot())
            }
            server.start()
            lock.withLock { metricsServer = (listen, server, "http://\(listen)/metrics") }
            logger.info("metrics endpoint listening", metadata: ["metrics.url": "http://\(listen)/metrics"])
        } catch {
            lock.withLock { metricsServer = (listen, nil, "not serving: \(error)") }
            logger.error("metrics endpoint not started; VRRP runs on", metadata: ["error": "\(error)"])
        }
    }

    func snapshot() -> DaemonStatus {
        let (list, reloadCount, metricsState, groups) = lock.withLock {
            (runtimes.values.map(\.status), reloads, metricsServer?.state,
             groupCores.mapValues { $0.state == .initialize ? "INIT" : NotifyScripts.word($0.state) })
        }
        let fifos = notifyFIFO.status
        return DaemonStatus(version: version, pid: getpid(), configFile: configPath,
                                  uptimeSeconds: Date().timeIntervalSince(started), reloads: reloadCount,
                                  instances: list.sorted { $0.name < $1.name },
                                  realServers: health.states,
                                  healthChecker: health.checkerStatus, ipvs: loadBalancer.status, metrics: metricsState,
                                  notifyFIFOs: fifos.isEmpty ? nil : fifos, syncGroups: groups.isEmpty ? nil : groups)
    }

    func statusJSON() -> Data {
        let status = snapshot()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(status)) ?? Data()
    }
}

/// Releases the start-up pages (`StartupPages`) once the instances have started.
struct StartupPagesService: Service {
    let logger: Logger

    func run() async throws {
        // Long enough for every instance to open its sockets and send or hear a first
        // advertisement; what runs later is mapped back as it runs.
        guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: .seconds(2)) })) != nil else { return }
        Self.release(logger: logger)
    }

    static func release(logger: Logger) {
        let outcome = StartupPages.release()
        logger.debug("released start-up pages", metadata: ["objects": "\(outcome.objects)", "ranges": "\(outcome.ranges)",
                                                           "kib": "\(outcome.bytes / 1024)", "failures": "\(outcome.failures)"])
    }
}

/// Turns SIGHUP into `Daemon.reload()`; `signals` was trapped at the daemon's start.
struct ReloadService: Service {
    let daemon: Daemon
    let signals: UnixSignalsSequence

    func run() async throws {
        for await _ in signals.cancelOnGracefulShutdown() {
            await daemon.reload()
        }
    }
}
