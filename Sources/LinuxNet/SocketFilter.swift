import CLinux

/// Classic BPF programs for raw IPv4 sockets (the program sees the packet from its IP
/// header on): the instructions, and the sibling-VRID filter. The lane programs, which
/// follow an instance's receive checks, are the transports' (`LaneFilter`).
public enum SocketFilter {
    public static func statement(_ code: Int32, _ k: UInt32) -> sock_filter {
        sock_filter(code: UInt16(code), jt: 0, jf: 0, k: k)
    }

    public static func jump(_ code: Int32, _ k: UInt32, _ jt: UInt8, _ jf: UInt8) -> sock_filter {
        sock_filter(code: UInt16(code), jt: jt, jf: jf, k: k)
    }

    /// Drops VRRP packets whose VRID (the byte after version/type) is one of `ids`;
    /// passes everything else whole. Too short to hold a VRID: dropped by the load.
    public static func droppingRouterIDs(_ ids: [UInt8]) -> [sock_filter] {
        let unique = Array(Set(ids)).sorted()
        // X = IP header length; A = packet[X + 1], the VRID.
        var program = [statement(BPF_LDX | BPF_B | BPF_MSH, 0), statement(BPF_LD | BPF_B | BPF_IND, 1)]
        // For the i-th id: equal -> jump to the final "drop"; otherwise fall through.
        for (index, id) in unique.enumerated() {
            let remaining = unique.count - index - 1
            program.append(jump(BPF_JMP | BPF_JEQ | BPF_K, UInt32(id), UInt8(clamping: remaining + 1), 0))
        }
        program.append(statement(BPF_RET | BPF_K, 0xFFFF_FFFF))   // accept whole packet
        program.append(statement(BPF_RET | BPF_K, 0))             // drop
        return program
    }
}
