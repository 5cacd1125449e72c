import Foundation
import NetworkTypes

/// The soak's floods: bad VRRP packets sent at a node from a stranger on the VPC, each
/// on a thread of its own for the fault's length, and the rule that every one is
/// dropped and counted by the node under a reason (its `rejected` counters, or its
/// sockets' queue drops).
final class SoakFloods: @unchecked Sendable {
    /// How long after a flood its victim's counters are read: the last packets are still
    /// in its socket queue when the sender stops.
    static let settle = 0.5

    private final class Run: @unchecked Sendable {
        let fault: FaultSchedule.Fault
        let before: Count?
        let done = DispatchSemaphore(value: 0)
        var sent = 0
        var endedAt: Double?
        init(fault: FaultSchedule.Fault, before: Count?) {
            self.fault = fault
            self.before = before
        }
    }

    private let sender: NetworkLab.Node?
    private let nodes: [NetworkLab.Node]
    private let addresses: [String]
    private let stranger: String
    /// Packets a second: on this host 5,000, 500 times what a peer sends at VRRPv3's
    /// 0.1 s and well inside the second lane's budget (docs/flood-resistance.md), so that
    /// a node that counts less than it was sent has lost track of some.
    private let rate: Int
    /// A node's count of dropped packets (nil: it did not answer); nil when no count can
    /// be matched to a flood (the floods are sent all the same).
    private let counted: ((Int) -> Count?)?
    private var runs: [Int: Run] = [:]
    /// Floods finished and checked: packets sent, and counted by their victims.
    private(set) var sent = 0
    private(set) var countedTotal = 0
    private(set) var checked = 0
    /// Floods whose victim reloaded meanwhile, so that its counts cannot be matched.
    private(set) var unmatched = 0

    /// A node's dropped packets under every reason and in its sockets' queues, and its
    /// daemon's count of reloads.
    struct Count: Sendable {
        var packets: Int
        var reloads: Int
    }

    init(sender: NetworkLab.Node?, nodes: [NetworkLab.Node], addresses: [String], stranger: String, rate: Int,
         counted: ((Int) -> Count?)?) {
        self.rate = rate
        self.sender = sender
        self.nodes = nodes
        self.addresses = addresses
        self.stranger = stranger
        self.counted = counted
    }

    func start(_ fault: FaultSchedule.Fault, victim: Int, at time: Double) throws {
        guard let sender, let target = IPv4Address(addresses[victim]), let from = IPv4Address(stranger),
              let peer = IPv4Address(addresses[(victim + 1) % addresses.count]) else {
            throw ChildProcessError("no flood sender in this soak")
        }
        // A victim that does not answer now cannot be matched later: sent, not checked.
        let run = Run(fault: fault, before: counted?(victim))
        runs[fault.id] = run
        let packets = PacketFlood.badAdvertisements(to: target, peer: peer, stranger: from)
        let seconds = fault.end - fault.start, namespace = sender.namespace, rate = rate
        Thread {
            run.sent = (try? PacketFlood.send(from: namespace, to: target, packets, seconds: seconds, rate: rate)) ?? 0
            run.done.signal()
        }.start()
    }

    func end(_ fault: FaultSchedule.Fault, at time: Double) {
        runs[fault.id]?.endedAt = time
    }

    /// The floods whose victims can be read now: a violation for each that counted fewer
    /// packets than were sent at it.
    func check(at time: Double) -> [SoakChecker.Violation] {
        var violations: [SoakChecker.Violation] = []
        for (id, run) in runs {
            guard let ended = run.endedAt, time >= ended + Self.settle else { continue }
            guard run.done.wait(timeout: .now()) == .success else { continue }
            runs[id] = nil
            guard let before = run.before, let after = counted?(run.fault.node) else { continue }
            // A reload that ended just before the flood (its SIGHUP carried out a moment
            // later) may have started the instance again, counters and all: not matched.
            guard after.reloads == before.reloads else {
                unmatched += 1
                continue
            }
            let count = after.packets - before.packets
            sent += run.sent
            countedTotal += count
            checked += 1
            if count < run.sent {
                violations.append(SoakChecker.Violation(
                    time: time, what: "n\(run.fault.node + 1) counted \(count) of the \(run.sent) bad packets flood #\(id) sent it"))
            }
        }
        return violations
    }
}
