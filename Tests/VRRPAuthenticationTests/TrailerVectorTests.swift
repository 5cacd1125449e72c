import NetworkTypes
import Testing
import VRRP
@testable import VRRPAuthentication

/// The test vectors of docs/hmac-trailer.md, computed once by Python's hmac module (the
/// command is in the doc), not by this code: the trailer is a wire format, and these
/// pin it byte for byte.
@Suite struct TrailerVectorTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var keyHex: String
        var source: IPv4Address
        /// The VRRP message as the codec encodes `advertisement` for `destination`.
        var messageHex: String
        var advertisement: VRRPAdvertisement
        var destination: IPv4Address
        var sequence: UInt64
        var trailerHex: String
        var testDescription: String { name }
    }

    static let vectors = [
        Vector(name: "v3 unicast, 32-byte ASCII key",
               keyHex: "3031323334353637383961626364656630313233343536373839616263646566",
               source: IPv4Address(172, 31, 18, 164), messageHex: "313396010064e5b0c0a8140b",
               advertisement: VRRPAdvertisement(version: .v3, virtualRouterID: 51, priority: 150, advertisementInterval: Centiseconds(100),
                                                addresses: [IPv4Address(192, 168, 20, 11)]),
               destination: IPv4Address(172, 31, 18, 163), sequence: 1_800_000_000_000_000,
               trailerHex: "4f5648010006651728988000ae65b0d7c6861122fe31df02a261a6188fc937a10a6261a782edd3b568287ab1"),
        Vector(name: "v2 priority 0, 16-byte key",
               keyHex: "000102030405060708090a0b0c0d0e0f",
               source: IPv4Address(10, 0, 0, 2), messageHex: "2101000100010a49c0a8140b0000000000000000",
               advertisement: VRRPAdvertisement(version: .v2, virtualRouterID: 1, priority: 0, advertisementInterval: .seconds(1),
                                                addresses: [IPv4Address(192, 168, 20, 11)]),
               destination: .vrrpMulticastGroup, sequence: 1_767_225_600_000_001,
               trailerHex: "4f56480100064748462040010a70b3c3c10dfaaa4b884c311295ffa86ea7799ba1e4d8468749cdbcde17af7d"),
        Vector(name: "v3 multicast, 100-byte key (hashed first, RFC 2104)",
               keyHex: String(repeating: "aa", count: 100),
               source: IPv4Address(172, 31, 18, 10), messageHex: "3107ff0300327b95c0a8140bc0a8140c0a010203",
               advertisement: VRRPAdvertisement(version: .v3, virtualRouterID: 7, priority: 255, advertisementInterval: Centiseconds(50),
                                                addresses: [IPv4Address(192, 168, 20, 11), IPv4Address(192, 168, 20, 12), IPv4Address(10, 1, 2, 3)]),
               destination: .vrrpMulticastGroup, sequence: 1,
               trailerHex: "4f5648010000000000000001fc57cf7a43b40fc8d9ba5dac83e4c2eebf655a901d5a495121a80b2a2efad0fc"),
    ]

    @Test(arguments: vectors)
    func sealingGivesTheTrailerOfTheVector(_ vector: Vector) throws {
        let key = try #require(hexDecode(vector.keyHex))
        let message = try #require(hexDecode(vector.messageHex))
        let sealed = HMACAuthenticator(key: key, replayWindowSeconds: 30).seal(message, source: vector.source, sequence: vector.sequence)
        #expect(hexEncode(sealed) == vector.messageHex + vector.trailerHex)
    }

    @Test(arguments: vectors)
    func theVectorOpensToItsMessage(_ vector: Vector) throws {
        let key = try #require(hexDecode(vector.keyHex))
        let payload = try #require(hexDecode(vector.messageHex + vector.trailerHex))
        var receiver = HMACAuthenticator(key: key, replayWindowSeconds: 30)
        let packet = ReceivedPacket(payload: payload, source: vector.source, destination: vector.destination, timeToLive: 255)
        let opened = try receiver.open(packet, now: vector.sequence).get()
        #expect(hexEncode(opened.payload) == vector.messageHex)
    }

    /// The messages are real advertisements: what the codec encodes (Python built them
    /// on its own, checksum included).
    @Test(arguments: vectors)
    func theMessageIsTheAdvertisementTheCodecEncodes(_ vector: Vector) throws {
        let encoded = try vector.advertisement.encoded(pseudoHeader: PseudoHeader(source: vector.source, destination: vector.destination))
        #expect(hexEncode(encoded) == vector.messageHex)
    }
}
