import Config
import Foundation
import Logging
import Nftables
import NetworkTypes

/// keepalived's nftables table for Accept Mode off, on this host: installed at start
/// when an instance needs it (replacing a crashed daemon's residue), the VIPs of each
/// non-accepting MASTER put into its set before they are added to the interface and
/// taken out after they are removed, the table deleted at stop. Errors are logged with
/// nft's message, never fatal (VRRP runs on), as for the other kernel state.
final class VIPFirewall: @unchecked Sendable {
    private let logger: Logger
    /// Held for every nft command: instances' loops, the reload and the stop share it.
    private let lock = NSLock()
    private var context: NftablesContext?
    private var ruleset: VIPFirewallRuleset?

    init(logger: Logger) { self.logger = logger }

    /// Installs the table when `needed` and it is not in yet (a reload that newly needs it).
    func prepare(_ settings: VIPFirewallSettings, needed: Bool) {
        lock.lock()
        defer { lock.unlock() }
        guard needed, ruleset == nil else { return }
        let ruleset = VIPFirewallRuleset(table: settings.table, priority: settings.priority, counters: settings.counters)
        do {
            let context = try NftablesContext()
            try context.run(ruleset.installCommands)
            self.context = context
            self.ruleset = ruleset
            logger.info("nftables table for accept mode off installed", metadata: ["nft.table": "ip \(settings.table)"])
        } catch {
            logger.error("cannot install the nftables table for no_accept; VIP traffic is not dropped",
                         metadata: ["nft.table": "ip \(settings.table)", "error": "\(error)"])
        }
    }

    func add(_ addresses: [IPv4Address]) { run({ $0.addCommands(addresses) }, "add VIPs to") }

    func remove(_ addresses: [IPv4Address]) { run({ $0.deleteCommands(addresses) }, "remove VIPs from") }

    /// At stop: the table goes.
    func uninstall() {
        run({ $0.removeCommands }, "delete")
        lock.withLock {
            ruleset = nil
            context = nil
        }
    }

    private func run(_ commands: (VIPFirewallRuleset) -> String, _ what: String) {
        lock.lock()
        defer { lock.unlock() }
        guard let ruleset, let context else { return }
        let commands = commands(ruleset)
        guard !commands.isEmpty else { return }
        do { try context.run(commands) } catch {
            logger.error("cannot \(what) the nftables table for no_accept", metadata: ["error": "\(error)"])
        }
    }
}
