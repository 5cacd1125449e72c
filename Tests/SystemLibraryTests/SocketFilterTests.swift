import CLinux
import NetworkTypes
import Testing
import Transports
import VRRP
@testable import LinuxNet

/// The in-kernel prefilter, run on a classic BPF interpreter written from the kernel's
/// documentation (filter.txt), so each lane's decision is checked without root. The
/// namespace tier checks the same programs in the kernel.
@Suite struct SocketFilterTests {
    /// Runs `program` on `packet` and returns what the kernel would keep (0: drop).
    static func run(_ program: [sock_filter], on packet: [UInt8]) -> UInt32 {
        var a: UInt32 = 0, x: UInt32 = 0, pc = 0
        func load(_ offset: Int, _ size: Int) -> UInt32? {
            guard offset >= 0, offset + size <= packet.count else { return nil }
            return packet[offset..<(offset + size)].reduce(0) { $0 << 8 | UInt32($1) }
        }
        while pc < program.count {
            let i = program[pc]
            pc += 1
            switch Int32(i.code) {
            case BPF_LDX | BPF_B | BPF_MSH:
                guard let b = load(Int(i.k), 1) else { return 0 }
                x = (b & 0x0F) * 4
            case BPF_LD | BPF_W | BPF_LEN: a = UInt32(packet.count)
            case BPF_ALU | BPF_SUB | BPF_X: a = a &- x
            case BPF_LD | BPF_B | BPF_IND:
                guard let b = load(Int(x) + Int(i.k), 1) else { return 0 }
                a = b
            case BPF_LD | BPF_B | BPF_ABS:
                guard let b = load(Int(i.k), 1) else { return 0 }
                a = b
            case BPF_LD | BPF_W | BPF_ABS:
                guard let w = load(Int(i.k), 4) else { return 0 }
                a = w
            case BPF_JMP | BPF_JEQ | BPF_K: pc += a == i.k ? Int(i.jt) : Int(i.jf)
            case BPF_JMP | BPF_JGE | BPF_K: pc += a >= i.k ? Int(i.jt) : Int(i.jf)
            case BPF_RET | BPF_K: return i.k
            default:
                Issue.record("opcode \(i.code) not interpreted")
                return 0
            }
        }
        Issue.record("fell off the end of the program")
        return 0
    }

    static let me = IPv4Address(172, 31, 18, 11), peer = IPv4Address(172, 31, 18, 10), stranger = IPv4Address(172, 31, 18, 99)
    static let policy = ReceivePolicy(version: .v3, virtualRouterID: 51, advertisementInterval: Centiseconds(100),
                                      allowedSources: [peer, IPv4Address(172, 31, 18, 12)])

    static func packet(source: IPv4Address = peer, ttl: UInt8 = 255, vrid: UInt8 = 51, versionType: UInt8 = 0x31,
                       payloadLength: Int? = nil) -> [UInt8] {
        let ad = VRRPAdvertisement(version: .v3, virtualRouterID: vrid, priority: 100, advertisementInterval: Centiseconds(100),
                                   addresses: [IPv4Address(192, 168, 20, 11)])
        var payload = (try? ad.encoded(pseudoHeader: PseudoHeader(source: source, destination: me))) ?? []
        payload[0] = versionType
        if let payloadLength { payload = Array(payload.prefix(payloadLength)) }
        let total = 20 + payload.count
        return [0x45, 0xC0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0, 0, ttl, 112, 0, 0] + source.octets + me.octets + payload
    }

    @Test(arguments: [
        ("a peer's advertisement", packet(), true),
        ("the other peer's", packet(source: IPv4Address(172, 31, 18, 12)), true),
        ("a stranger's", packet(source: stranger), false),
        ("TTL 64", packet(ttl: 64), false),
        ("another VRID", packet(vrid: 52), false),
        ("a sibling's VRID", packet(vrid: 60), false),
        ("VRRPv2", packet(versionType: 0x21), false),
        ("type 2", packet(versionType: 0x32), false),
        ("7 bytes of VRRP", packet(payloadLength: 7), false),
        ("no VRRP at all", packet(payloadLength: 0), false),
        ("exactly a header", packet(payloadLength: 8), true),
    ])
    func eachPacketGoesToExactlyOneLane(name: String, bytes: [UInt8], expected: Bool) {
        let peers = Self.run(LaneFilter.expected(Self.policy).program, on: bytes)
        let other = Self.run(LaneFilter.unexpected(Self.policy, siblings: [60, 51]).program, on: bytes)
        let sibling = name == "a sibling's VRID"
        #expect((peers != 0) == expected, "\(name): peers' lane")
        #expect((other != 0) == (!expected && !sibling), "\(name): other lane")
        // Kept whole: the daemon's checks see the packet as it came.
        for kept in [peers, other] where kept != 0 { #expect(kept == 0xFFFF_FFFF) }
    }

    @Test func withoutPeersAnySourceIsAPeer() {
        var multicast = Self.policy
        multicast.allowedSources = nil
        #expect(Self.run(LaneFilter.expected(multicast).program, on: Self.packet(source: Self.stranger)) != 0)
        #expect(Self.run(LaneFilter.unexpected(multicast, siblings: []).program, on: Self.packet(source: Self.stranger)) == 0)
        // Without a required TTL (peers behind routers) any TTL is a peer's.
        multicast.requiredTTL = nil
        #expect(Self.run(LaneFilter.expected(multicast).program, on: Self.packet(ttl: 3)) != 0)
    }

    @Test func manyPeersStillAssemble() {
        var many = Self.policy
        many.allowedSources = Set((1...150).map { IPv4Address(10, 0, 0, UInt8($0)) } + [Self.peer])
        let program = LaneFilter.expected(many).program
        #expect(Self.run(program, on: Self.packet()) != 0)
        #expect(Self.run(program, on: Self.packet(source: Self.stranger)) == 0)
        #expect(program.count < 4096)   // the kernel's BPF_MAXINSNS
    }
}
