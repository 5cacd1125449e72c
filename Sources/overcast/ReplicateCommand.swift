import ArgumentParser
import NetworkTypes
import Foundation
import Transports
import UnixSignals
import VRRP

/// `overcast replicate -i IFACE --peer ADDR ...`: the replicator alone, so stock
/// keepalived in multicast mode works on a network without multicast.
struct Replicate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy this node's outgoing VRRP multicast to each peer's MAC (for keepalived on a network without multicast).")

    @Option(name: .shortAndLong, help: "The interface keepalived sends VRRP on.")
    var interface: String

    @Option(name: .customLong("peer"), help: "A peer's address (repeat for each peer).")
    var peers: [String]

    @Option(help: "l2 keeps 224.0.0.18 as the IP destination (stock keepalived needs this); l3 rewrites it to the peer's address.")
    var mode: String = "l2"

    @Option(name: .customLong("peer-mac"), help: "ADDR=MAC for a peer whose MAC should not be learned (repeatable).")
    var peerMACs: [String] = []

    @Flag(help: """
        Hand the peers' l3 copies to the local keepalived as the multicast they were (224.0.0.18, through \
        the multicast loopback): stock keepalived then works on a VPC that delivers by IP. Needs --mode l3 on every node.
        """)
    var restore = false

    @Option(help: "Seconds between counter lines on stderr (0: only at exit).")
    var reportInterval: Double = 10

    func run() async throws {
        let addresses = try peers.map { text -> IPv4Address in
            guard let address = IPv4Address(text) else { throw ValidationError("--peer: '\(text)' is not an IPv4 address") }
            return address
        }
        guard let replicateMode = Replicator.Mode(rawValue: mode) else { throw ValidationError("--mode must be l2 or l3") }
        if restore && replicateMode != .l3 {
            throw ValidationError("--restore needs --mode l3: every node sends copies addressed to its peers and restores the ones it gets")
        }
        var macs: [IPv4Address: [UInt8]] = [:]
        for entry in peerMACs {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            let bytes = parts.count == 2 ? parts[1].split(separator: ":").compactMap { UInt8($0, radix: 16) } : []
            guard parts.count == 2, let address = IPv4Address(parts[0]), bytes.count == 6 else {
                throw ValidationError("--peer-mac: '\(entry)' is not ADDR=aa:bb:cc:dd:ee:ff")
            }
            macs[address] = bytes
        }
        let replicator: Replicator
        let restorer: GroupRestorer?
        do {
            replicator = try Replicator(interface: interface, peers: addresses, mode: replicateMode, staticMACs: macs,
                                        ownSourceOnly: restore) { message in
                FileHandle.standardError.write(Data((message + "\n").utf8))
            }
            restorer = restore ? try GroupRestorer(interface: interface, peers: addresses) : nil
        } catch {
            FileHandle.standardError.write(Data("overcast replicate: \(error)\n".utf8))
            throw ExitCode(1)
        }
        replicator.start()
        restorer?.start()
        FileHandle.standardError.write(Data("overcast replicate: copying VRRP on \(interface) to \(peers.joined(separator: ", ")) (\(mode))\n".utf8))
        let report = Task {
            while reportInterval > 0 && !Task.isCancelled {
                try await Task.sleep(for: .seconds(reportInterval))
                Self.printCounters(replicator, restorer)
            }
        }
        for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) { break }
        report.cancel()
        replicator.stop()
        restorer?.stop()
        Self.printCounters(replicator, restorer)
    }

    static func printCounters(_ replicator: Replicator, _ restorer: GroupRestorer?) {
        let c = replicator.snapshot
        let unknown = c.peerUnknown.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ",")
        let restored = restorer.map { " restored \($0.snapshot.restored) restore_ignored \($0.snapshot.ignored) restore_errors \($0.snapshot.sendErrors)" } ?? ""
        FileHandle.standardError.write(Data("overcast replicate: captured \(c.captured) copies \(c.copiesSent) inject_errors \(c.injectErrors) peer_unknown [\(unknown)]\(restored)\n".utf8))
    }
}
