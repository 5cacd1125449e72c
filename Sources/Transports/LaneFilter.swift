import CLinux
import LinuxNet
import VRRP

/// Which packets a socket lane takes (see `ReceiveLanes`), as the classic BPF program
/// the kernel runs on each packet from its IP header on.
public enum LaneFilter: Sendable {
    /// Only what could be an advertisement of `policy` from a peer.
    case expected(ReceivePolicy)
    /// Everything else, except the VRIDs of sibling instances (theirs to read).
    case unexpected(ReceivePolicy, siblings: [UInt8])

    /// The in-kernel prefilter of an instance's advertisements: at least a VRRP header
    /// after the IP header, this instance's version and type, its VRID, the TTL its
    /// receive checks require, and (when peers are configured) a peer's source address.
    /// These are the checks a flood from anywhere fails; the checksum, lengths and
    /// authentication stay with the full receive checks in the daemon, which every packet
    /// of either lane still goes through.
    public var program: [sock_filter] {
        let policy: ReceivePolicy, siblings: [UInt8], takesExpected: Bool
        switch self {
        case .expected(let p): (policy, siblings, takesExpected) = (p, [], true)
        case .unexpected(let p, let s): (policy, siblings, takesExpected) = (p, Array(Set(s)).filter { $0 != p.virtualRouterID }.sorted(), false)
        }
        var sources = policy.allowedSources.map { Array($0).map(\.value).sorted() } ?? []
        if sources.count > 200 { sources = [] }   // jumps are 8-bit: beyond that, no source test
        var b = ProgramBuilder()
        b.add(SocketFilter.statement(BPF_LDX | BPF_B | BPF_MSH, 0))                      // X = IP header length
        b.add(SocketFilter.statement(BPF_LD | BPF_W | BPF_LEN, 0))                       // A = packet length
        b.add(SocketFilter.statement(BPF_ALU | BPF_SUB | BPF_X, 0))                      // A = VRRP message length
        b.branch(BPF_JGE, 8, true: .next, false: .unexpected)
        b.add(SocketFilter.statement(BPF_LD | BPF_B | BPF_IND, 1))                       // A = VRID
        for id in siblings { b.branch(BPF_JEQ, UInt32(id), true: .sibling, false: .next) }
        b.branch(BPF_JEQ, UInt32(policy.virtualRouterID), true: .next, false: .unexpected)
        b.add(SocketFilter.statement(BPF_LD | BPF_B | BPF_IND, 0))                       // A = version << 4 | type
        b.branch(BPF_JEQ, UInt32(policy.version.rawValue) << 4 | 1, true: .next, false: .unexpected)
        if let ttl = policy.requiredTTL {
            b.add(SocketFilter.statement(BPF_LD | BPF_B | BPF_ABS, 8))                   // A = TTL
            b.branch(BPF_JEQ, UInt32(ttl), true: .next, false: .unexpected)
        }
        if !sources.isEmpty {
            b.add(SocketFilter.statement(BPF_LD | BPF_W | BPF_ABS, 12))                  // A = source address
            for (i, source) in sources.enumerated() {
                b.branch(BPF_JEQ, source, true: .expected, false: i == sources.count - 1 ? .unexpected : .next)
            }
        }
        let accept: UInt32 = 0xFFFF_FFFF
        return b.finish(expected: takesExpected ? accept : 0, unexpected: takesExpected ? 0 : accept, sibling: 0)
    }
}

/// Assembles a straight-line classic BPF program whose conditional jumps go forward to
/// the next instruction or to one of three final returns.
private struct ProgramBuilder {
    enum Target { case next, expected, unexpected, sibling }
    private var instructions: [(sock_filter, Target, Target)] = []

    mutating func add(_ instruction: sock_filter) { instructions.append((instruction, .next, .next)) }

    mutating func branch(_ test: Int32, _ k: UInt32, true whenTrue: Target, false whenFalse: Target) {
        instructions.append((SocketFilter.statement(BPF_JMP | test | BPF_K, k), whenTrue, whenFalse))
    }

    /// The program followed by `ret expected`, `ret unexpected`, `ret sibling`; falling
    /// off the last test means expected.
    func finish(expected: UInt32, unexpected: UInt32, sibling: UInt32) -> [sock_filter] {
        let end = instructions.count
        func offset(_ target: Target, from index: Int) -> UInt8 {
            let destination: Int
            switch target {
            case .next: return 0
            case .expected: destination = end
            case .unexpected: destination = end + 1
            case .sibling: destination = end + 2
            }
            return UInt8(clamping: destination - index - 1)
        }
        var program = instructions.enumerated().map { index, entry in
            var instruction = entry.0
            instruction.jt = offset(entry.1, from: index)
            instruction.jf = offset(entry.2, from: index)
            return instruction
        }
        program += [SocketFilter.statement(BPF_RET | BPF_K, expected), SocketFilter.statement(BPF_RET | BPF_K, unexpected),
                    SocketFilter.statement(BPF_RET | BPF_K, sibling)]
        return program
    }
}
