import NetworkTypes
import Testing
import Transports
import VRRP
import VRRPAuthentication

/// The replicator's packets, pure: l3 copies of stock keepalived's own multicast
/// advertisements, and the restorer's way back to the multicast they were.
@Suite struct ReplicatorPacketTests {
    /// Captured from keepalived 2.2.7 (Tests/VRRPTests/KeepalivedVectors.swift): VRRPv2 and v3 to 224.0.0.18.
    static let advertisements = [
        "45c0002800010000ff701bd0ac1f12a3e00000122133960100017416c0a8140b0000000000000000",
        "45c0002000010000ff701bd8ac1f12a3e0000012313396010064c461c0a8140b",
    ]
    static let peer = IPv4Address(172, 31, 18, 164)
    static let peerMAC: [UInt8] = [2, 0, 0, 0, 0, 2]

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return out
    }

    static func frame(_ ip: [UInt8]) -> [UInt8] { Replicator.vrrpMulticastMAC + [2, 0, 0, 0, 0, 1, 0x08, 0x00] + ip }

    @Test(arguments: advertisements)
    func anL3CopyIsAddressedToThePeerWithValidChecksumsAndRestoresByteForByte(hex: String) throws {
        let original = Self.bytes(hex)
        let copy = try #require(Replicator.copies(of: Self.frame(original), mode: .l3, peers: [(Self.peer, Self.peerMAC)])?.first)
        #expect(Array(copy[0..<6]) == Self.peerMAC)
        let ip = Array(copy[14...])
        let packet = try IPv4Packet(parsing: ip)
        #expect(packet.header.destination == Self.peer)
        #expect(InternetChecksum.of(ip[0..<20]) == 0, "the IP header checksum holds for the new destination")
        if packet.payload[0] >> 4 == 3 {
            let sum = VRRPAdvertisement.checksum(packet.payload[...], version: .v3,
                                                 pseudoHeader: PseudoHeader(source: packet.header.source, destination: Self.peer))
            #expect(sum == 0, "VRRPv3's checksum covers the peer's address")
        }
        #expect(Replicator.restored(ip) == original)
    }

    /// HMAC over VRRPv3 with l3 copies: the HMAC covers the checksum, which the new
    /// destination changes, so each copy is sealed again and opens at the peer; the
    /// captured trailer alone does not (soak seed 202: no node heard another, three
    /// MASTERs).
    @Test func anL3CopyOfAnHMACAdvertisementIsSealedAgainAndOpensAtThePeer() throws {
        let key = Array("soak-key-shared-by-every-node-0123".utf8)
        let source = IPv4Address(172, 31, 18, 163)
        let ad = VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 150, advertisementInterval: Centiseconds(20),
                                   addresses: [IPv4Address(192, 168, 20, 11)])
        let message = try ad.encoded(pseudoHeader: PseudoHeader(source: source, destination: .vrrpMulticastGroup))
        let sealer = AdvertisementSealer(HMACAuthenticator(key: key, replayWindowSeconds: 30))
        let header = IPv4Header(timeToLive: 255, protocolNumber: VRRPAdvertisement.ipProtocolNumber, source: source,
                                destination: .vrrpMulticastGroup)
        let multicast = IPv4Packet(header: header, payload: sealer.seal(message, source: source)).encoded()
        func opened(_ copy: [UInt8]?) throws -> Result<ReceivedPacket, VRRPPacketError> {
            let packet = try IPv4Packet(parsing: Array(try #require(copy)[14...]))
            var receiver = HMACAuthenticator(key: key, replayWindowSeconds: 30)
            return receiver.open(ReceivedPacket(payload: packet.payload, source: source, destination: Self.peer, timeToLive: 255),
                                 now: AdvertisementSealer.wallClockMicroseconds())
        }
        let resealed = Replicator.copies(of: Self.frame(multicast), mode: .l3, peers: [(Self.peer, Self.peerMAC)],
                                         reseal: { sealer.seal($0, source: $1) })?.first
        let vrrp = try opened(resealed).get().payload
        #expect(try VRRPAdvertisement(parsing: vrrp, pseudoHeader: PseudoHeader(source: source, destination: Self.peer)) == ad)
        let kept = Replicator.copies(of: Self.frame(multicast), mode: .l3, peers: [(Self.peer, Self.peerMAC)])?.first
        guard case .failure(let error) = try opened(kept) else { Issue.record("the captured trailer verified"); return }
        #expect(error.reason == .authFailure)
    }

    @Test func onlyUnicastVRRPIsRestored() {
        #expect(Replicator.restored(Self.bytes(Self.advertisements[1])) == nil, "already multicast")
        var udp = Self.bytes(Self.advertisements[1])
        udp[9] = 17
        #expect(Replicator.restored(udp) == nil)
        #expect(Replicator.restored([0x45, 0, 0]) == nil)
        #expect(Replicator.restored([]) == nil)
    }

    @Test func l2CopiesKeepTheGroupAddress() throws {
        let original = Self.bytes(Self.advertisements[0])
        let copy = try #require(Replicator.copies(of: Self.frame(original), mode: .l2, peers: [(Self.peer, Self.peerMAC)])?.first)
        #expect(Array(copy[14...]) == original)
    }
}
