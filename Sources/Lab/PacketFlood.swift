import Foundation
import NetworkTypes
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// Bad VRRP packets, and a raw-socket sender for them: what the packet torture tests and
/// the soak's `flood` fault throw at a node, every one of which it must drop and count
/// under the reason given here.
public enum PacketFlood {
    public struct Packet: Sendable {
        public var source: IPv4Address
        public var ttl: UInt8
        public var payload: [UInt8]
        /// The reason the receiver counts it under (`rejected` in `overcast status`).
        public var reason: String
    }

    /// One of each kind of bad VRRPv3 packet for VRID 51 at `target`, most of them forged
    /// from its `peer` (truncations, bad version, type, count, length, checksum, TTL,
    /// interval, another VRID), one from a `stranger` that is not a peer.
    public static func badAdvertisements(to target: IPv4Address, peer: IPv4Address, stranger: IPv4Address,
                                         vip: IPv4Address = IPv4Address(192, 168, 20, 11)) -> [Packet] {
        func advert(vrid: UInt8 = 51, from source: IPv4Address = peer) -> [UInt8] {
            let ad = VRRPAdvertisement(version: .v3, virtualRouterID: vrid, priority: 255,
                                       advertisementInterval: Centiseconds(10), addresses: [vip])
            return (try? ad.encoded(pseudoHeader: PseudoHeader(source: source, destination: target))) ?? []
        }
        let good = advert()
        var list: [Packet] = []
        func add(_ payload: [UInt8], _ reason: String, from source: IPv4Address = peer, ttl: UInt8 = 255) {
            list.append(Packet(source: source, ttl: ttl, payload: payload, reason: reason))
        }
        for length in 0..<8 { add(Array(good.prefix(length)), "truncated") }
        for version: UInt8 in [0, 1, 4, 15] {
            var b = good; b[0] = version << 4 | 1; add(b, "bad_version")
        }
        for type: UInt8 in [0, 2, 15] { var b = good; b[0] = 0x30 | type; add(b, "bad_type") }
        var count = good; count[3] = 200; add(count, "bad_address_count")
        add(good + [0, 0, 0, 0], "bad_length")
        var checksum = good; checksum[7] ^= 0xFF; add(checksum, "bad_checksum")
        add(good, "bad_ttl", ttl: 64)
        add(good, "bad_ttl", ttl: 1)
        add(advert(from: stranger), "unknown_source", from: stranger)
        add(advert(vrid: 52), "other_vrid")
        var interval = good; interval[4] = 0; interval[5] = 0; add(interval, "bad_interval")
        add([UInt8](repeating: 0x31, count: 1400), "bad_length")
        return list
    }

    /// Sends `packets` round robin from a raw socket inside `namespace` for `seconds`, at
    /// most `rate` a second (nil: as fast as it can); returns how many were sent.
    public static func send(from namespace: String, to destination: IPv4Address, _ packets: [Packet],
                            seconds: Double, rate: Int? = nil) throws -> Int {
        try inNetworkNamespace(namespace) {
            let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_RAW))
            guard fd >= 0 else { throw ChildProcessError("raw socket: \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            let frames: [[UInt8]] = packets.map { packet in
                let total = 20 + packet.payload.count
                var header: [UInt8] = [0x45, 0xC0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0, 0, packet.ttl, 112, 0, 0]
                header += packet.source.octets + destination.octets
                return header + packet.payload
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(destination.octets[0]) | UInt32(destination.octets[1]) << 8
                | UInt32(destination.octets[2]) << 16 | UInt32(destination.octets[3]) << 24
            let start = Date()
            let end = start.addingTimeInterval(seconds)
            var sent = 0
            while Date() < end {
                if let rate, Double(sent) >= Date().timeIntervalSince(start) * Double(rate) { usleep(200); continue }
                for frame in frames {
                    let n = frame.withUnsafeBytes { bytes in
                        withUnsafePointer(to: &address) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                sendto(fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                            }
                        }
                    }
                    if n > 0 { sent += 1 }
                }
            }
            return sent
        }
    }
}
