import Foundation
import Logging

/// systemd's watchdog (`WatchdogSec=`): `WATCHDOG=1` goes out only while every VRRP loop
/// answers. Each round posts a ping to each instance's loop, which the loop answers
/// itself; a loop that has not answered the previous round's ping is stuck, and then no
/// `WATCHDOG=1` goes out, so systemd restarts the daemon (and the peers take the VIP)
/// instead of a MASTER that still holds the VIP but no longer advertises or follows the
/// peers. Rounds run at a third of the interval, so a loop stuck for one round is seen
/// well before systemd's deadline, and one slow round alone never trips it.
final class Watchdog: @unchecked Sendable {
    private let interval: Double
    private let logger: Logger
    private let runtimes: @Sendable () -> [InstanceRuntime]
    private let send: @Sendable (String) -> Void

    init(interval: Double, logger: Logger, runtimes: @escaping @Sendable () -> [InstanceRuntime],
         send: @escaping @Sendable (String) -> Void = { SystemdNotify.send($0) }) {
        self.interval = interval
        self.logger = logger
        self.runtimes = runtimes
        self.send = send
    }

    /// systemd's WATCHDOG_USEC, in seconds, when it is meant for this process
    /// (WATCHDOG_PID unset or ours); nil without a watchdog.
    static func interval(environment: [String: String], pid: Int32) -> Double? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty, Int32(owner) != pid { return nil }
        return Double(usec) / 1e6
    }

    /// The loops (by name) that have not answered the ping sent to them; a loop that has
    /// ended is not asked.
    static func stuck(sent: [String: UInt64], answers: [String: (ping: UInt64, exited: Bool)]) -> [String] {
        sent.compactMap { name, ping in
            guard let answer = answers[name], !answer.exited, answer.ping < ping else { return nil }
            return name
        }.sorted()
    }

    func start() {
        let thread = Thread.named("watchdog") { [self] in run() }
        thread.start()
    }

    private func run() {
        let round = max(0.05, interval / 3)
        logger.info("systemd watchdog on: WATCHDOG=1 every \(String(format: "%.2f", round)) s while every VRRP loop answers")
        var sent: [String: UInt64] = [:]
        var token: UInt64 = 0
        var reported: Set<String> = []
        while true {
            let loops = runtimes()
            let answers = Dictionary(loops.map { ($0.setup.name, $0.watchdogAnswer) }, uniquingKeysWith: { a, _ in a })
            let stuck = Self.stuck(sent: sent, answers: answers)
            if stuck.isEmpty {
                send("WATCHDOG=1")
                if !reported.isEmpty { logger.notice("watchdog: every VRRP loop answers again") }
                reported = []
            } else if Set(stuck) != reported {
                reported = Set(stuck)
                logger.critical("watchdog: VRRP loop not answering; WATCHDOG=1 withheld, systemd restarts the daemon after WatchdogSec",
                                metadata: ["vrrp.instance": "\(stuck.joined(separator: ","))"])
            }
            token += 1
            var next: [String: UInt64] = [:]
            for runtime in loops {
                let name = runtime.setup.name
                // A stuck loop keeps its unanswered ping; it is not sent more.
                if stuck.contains(name), let old = sent[name] {
                    next[name] = old
                    continue
                }
                next[name] = token
                runtime.post(.ping(token))
            }
            sent = next
            usleep(UInt32(round * 1_000_000))
        }
    }
}

extension Daemon {
    /// Starts the watchdog when systemd asked for one (WATCHDOG_USEC for this pid).
    func startWatchdogIfAsked() {
        guard let interval = Watchdog.interval(environment: ProcessInfo.processInfo.environment, pid: getpid()) else { return }
        Watchdog(interval: interval, logger: logger) { [weak self] in
            guard let self else { return [] }
            return self.lock.withLock { Array(self.runtimes.values) }
        }.start()
    }
}
