import NetworkTypes
import Testing
@testable import VRRP

/// Packets captured from stock keepalived (see scripts/capture-keepalived-vectors.sh)
/// must decode to what keepalived was configured with and re-encode byte for byte.
@Suite struct KeepalivedVectorTests {
    @Test(arguments: keepalivedVectors.map(\.name))
    func decodesAndReencodesByteForByte(name: String) throws {
        let vector = try #require(keepalivedVectors.first { $0.name == name })
        let bytes = try #require(hexDecode(vector.ipv4Hex))
        let packet = try IPv4Packet(parsing: bytes)
        #expect(packet.header.protocolNumber == VRRPAdvertisement.ipProtocolNumber)
        #expect(packet.header.timeToLive == 255)
        #expect(packet.header.destination == (vector.unicast ? IPv4Address(172, 31, 18, 164) : .vrrpMulticastGroup))

        let pseudo = PseudoHeader(source: packet.header.source, destination: packet.header.destination)
        let advertisement = try VRRPAdvertisement(parsing: packet.payload, pseudoHeader: pseudo)
        #expect(advertisement.version.rawValue == UInt8(vector.version))
        #expect(advertisement.virtualRouterID == 51)
        #expect(Int(advertisement.priority) == vector.priority)
        #expect(advertisement.advertisementInterval == Centiseconds(vector.advertIntervalCentiseconds))
        #expect(advertisement.addresses.map(\.description) == vector.virtualAddresses)
        if let password = vector.authPass {
            #expect(advertisement.authType == .simplePassword)
            #expect(advertisement.authenticationData == VRRPAdvertisement.passwordData(password))
        } else {
            #expect(advertisement.authType == .none)
        }

        #expect(try advertisement.encoded(pseudoHeader: pseudo) == packet.payload)
        #expect(packet.encoded() == bytes)
    }

    /// keepalived 2.2.7 puts the unicast peer, not the group, in the v3 pseudo-header.
    @Test func keepalivedV3UnicastChecksumUsesThePeerAddress() throws {
        let vector = try #require(keepalivedVectors.first { $0.name == "v3-unicast-none" })
        let packet = try IPv4Packet(parsing: try #require(hexDecode(vector.ipv4Hex)))
        #expect(VRRPAdvertisement.checksumIsValid(packet.payload, version: .v3,
            pseudoHeader: PseudoHeader(source: packet.header.source, destination: packet.header.destination)))
        #expect(!VRRPAdvertisement.checksumIsValid(packet.payload, version: .v3,
            pseudoHeader: PseudoHeader(source: packet.header.source, destination: .vrrpMulticastGroup)))
    }

    @Test func everyCaseWasCaptured() {
        let names = Set(keepalivedVectors.map(\.name))
        for base in ["v2-multicast-none", "v2-multicast-pass", "v2-unicast-none", "v2-unicast-pass",
                     "v3-multicast-none", "v3-unicast-none", "v3-multicast-none-int50cs", "v2-multicast-none-3vips"] {
            #expect(names.contains(base), "missing \(base)")
            #expect(names.contains(base + "-shutdown"), "missing \(base)-shutdown")
        }
    }

    @Test func shutdownAdvertisementsCarryPriorityZero() throws {
        for vector in keepalivedVectors where vector.name.hasSuffix("-shutdown") {
            let packet = try IPv4Packet(parsing: try #require(hexDecode(vector.ipv4Hex)))
            #expect(try VRRPAdvertisement(parsingUnchecked: packet.payload).priority == 0)
        }
    }
}
