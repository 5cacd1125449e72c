import Config
import Foundation
import IPVS
import Logging

/// The IPVS side of the daemon: the `virtual_server` blocks become kernel services,
/// reconciled with the smallest set of netlink changes at start and on every reload.
/// A kernel without IPVS, or no permission, is one clear error at start; VRRP runs on.
final class LoadBalancer: @unchecked Sendable {
    private let logger: Logger
    private let lock = NSLock()
    /// Services this daemon programmed: only these are ever deleted.
    private var owned: Set<IPVSServiceKey> = []
    private var quorum: [Int: Bool] = [:]
    private var config: OvercastConfiguration?
    private var alive: @Sendable (DesiredTable.RealServerID) -> Bool = { _ in true }
    private(set) var changesApplied = 0
    private(set) var lastError: String?

    init(logger: Logger) { self.logger = logger }

    /// A new configuration (start, reload).
    func apply(_ config: OvercastConfiguration) {
        lock.withLock { self.config = config }
        reconcile()
    }

    /// Real servers went up or down.
    func update(alive: @escaping @Sendable (DesiredTable.RealServerID) -> Bool) {
        lock.withLock { self.alive = alive }
        reconcile()
    }

    private func reconcile() {
        lock.withLock {
            guard let config, !config.virtualServers.isEmpty || !owned.isEmpty else { return }
            let (desired, quorumUp) = DesiredTable.build(config, alive: alive, quorumWasUp: quorum)
            do {
                let client = try IPVSClient()
                let actual = try client.read()
                // At start, services matching the configuration are adopted as ours.
                let mine = owned.union(desired.services.keys)
                let changes = IPVSReconciler.changes(desired: desired, actual: actual, owned: mine)
                try client.apply(changes)
                owned = Set(desired.services.keys)
                quorum = quorumUp
                changesApplied += changes.count
                lastError = nil
                logger.info("IPVS programmed", metadata: ["ipvs.services": "\(desired.services.count)",
                                                          "ipvs.destinations": "\(desired.destinationCount)",
                                                          "ipvs.changes": "\(changes.count)"])
            } catch {
                lastError = "\(error)"
                logger.error("IPVS not programmed; VRRP keeps running", metadata: ["error": "\(error)"])
            }
        }
    }
}
