import NetworkTypes
import Testing
import TestSupport
@testable import VRRP

@Suite struct CodecTests {
    let pseudo = PseudoHeader(source: IPv4Address(172, 31, 18, 163), destination: .vrrpMulticastGroup)

    @Test func randomAdvertisementsRoundTrip() throws {
        var rng = SeededRandom(seed: 42)
        for _ in 0..<2000 {
            let version: VRRPVersion = Bool.random(using: &rng) ? .v2 : .v3
            let interval = version == .v2 ? Centiseconds.seconds(Int.random(in: 1...255, using: &rng))
                                          : Centiseconds(Int.random(in: 1...4095, using: &rng))
            let addresses = (0..<Int.random(in: 0...20, using: &rng)).map { _ in IPv4Address(UInt32.random(in: 0...UInt32.max, using: &rng)) }
            let password = String((0..<Int.random(in: 0...10, using: &rng)).map { _ in Character("x") })
            let original = VRRPAdvertisement(
                version: version, virtualRouterID: .random(in: 1...255, using: &rng), priority: .random(in: 0...255, using: &rng),
                advertisementInterval: interval, addresses: addresses,
                authType: version == .v2 && !password.isEmpty ? .simplePassword : .none,
                authenticationData: VRRPAdvertisement.passwordData(password))
            let destination = IPv4Address(UInt32.random(in: 0...UInt32.max, using: &rng))
            let header = PseudoHeader(source: pseudo.source, destination: destination)
            let bytes = try original.encoded(pseudoHeader: header)
            #expect(bytes.count == original.encodedLength)
            let decoded = try VRRPAdvertisement(parsing: bytes, pseudoHeader: header)
            #expect(decoded == original)
        }
    }

    @Test func v3ChecksumDependsOnPseudoHeaderDestinationButV2DoesNot() throws {
        let peer = IPv4Address(172, 31, 18, 164)
        for version in [VRRPVersion.v2, .v3] {
            let ad = VRRPAdvertisement(version: version, virtualRouterID: 1, priority: 100,
                                       advertisementInterval: .seconds(1), addresses: [IPv4Address(10, 0, 0, 1)])
            let bytes = try ad.encoded(pseudoHeader: PseudoHeader(source: pseudo.source, destination: peer))
            let asMulticast = VRRPAdvertisement.checksumIsValid(bytes, version: version, pseudoHeader: pseudo)
            #expect(asMulticast == (version == .v2))
        }
    }

    @Test func malformedPacketsAreRejectedWithTheirReason() {
        let cases: [(String, [UInt8], VRRPRejection)] = [
            ("empty", [], .truncated),
            ("seven bytes", [0x21, 0x33, 0x01, 0x00, 0x01, 0x1c, 0x00], .truncated),
            ("version 1", vrrp(first: 0x11), .badVersion),
            ("version 4", vrrp(first: 0x41), .badVersion),
            ("type 2", vrrp(first: 0x22), .badType),
            ("type 0", vrrp(first: 0x30), .badType),
            ("count 2 with one address", vrrp(count: 2), .badAddressCount),
            ("trailing bytes", vrrp() + [0], .badLength),
            ("v2 interval 0", vrrp(interval: 0), .badInterval),
            ("v3 interval 0", v3(interval: 0), .badInterval),
            ("v2 without auth data", Array(vrrp().dropLast(8)), .badAddressCount),
        ]
        for (name, bytes, reason) in cases {
            do {
                _ = try VRRPAdvertisement(parsingUnchecked: bytes)
                Issue.record("\(name): accepted")
            } catch {
                #expect(error.reason == reason, "\(name): \(error)")
            }
        }
    }

    @Test func everyFlippedBitBreaksTheChecksum() throws {
        for version in [VRRPVersion.v2, .v3] {
            let ad = VRRPAdvertisement(version: version, virtualRouterID: 51, priority: 100, advertisementInterval: .seconds(1),
                                       addresses: [IPv4Address(192, 168, 20, 11)])
            let good = try ad.encoded(pseudoHeader: pseudo)
            for bit in 0..<(good.count * 8) {
                var bad = good
                bad[bit / 8] ^= 1 << UInt8(bit % 8)
                if (try? VRRPAdvertisement(parsingUnchecked: bad)) != nil {
                    #expect(throws: VRRPPacketError.self) { try VRRPAdvertisement(parsing: bad, pseudoHeader: pseudo) }
                }
            }
        }
    }

    @Test func encodeRefusesWhatTheWireCannotCarry() {
        let subSecondV2 = VRRPAdvertisement(version: .v2, virtualRouterID: 1, priority: 1,
                                            advertisementInterval: Centiseconds(50), addresses: [])
        #expect(throws: VRRPPacketError(.badInterval, "VRRPv2 carries whole seconds 1-255, not 500ms")) {
            try subSecondV2.encoded(pseudoHeader: pseudo)
        }
        let tooLongV3 = VRRPAdvertisement(version: .v3, virtualRouterID: 1, priority: 1,
                                          advertisementInterval: Centiseconds(4096), addresses: [])
        #expect(throws: VRRPPacketError.self) { try tooLongV3.encoded(pseudoHeader: pseudo) }
        let tooMany = VRRPAdvertisement(version: .v3, virtualRouterID: 1, priority: 1, advertisementInterval: Centiseconds(100),
                                        addresses: Array(repeating: IPv4Address(1), count: 256))
        #expect(throws: VRRPPacketError.self) { try tooMany.encoded(pseudoHeader: pseudo) }
    }

    @Test func dumpNamesFieldsButNotThePassword() throws {
        let ad = VRRPAdvertisement(version: .v2, virtualRouterID: 51, priority: 100, advertisementInterval: .seconds(1),
                                   addresses: [IPv4Address(192, 168, 20, 11)], authType: .simplePassword,
                                   authenticationData: VRRPAdvertisement.passwordData("secret"))
        #expect(ad.description == "VRRPv2, Advertisement, vrid 51, prio 100, authtype simple, intvl 1s, length 20, addrs(1): 192.168.20.11 auth <6 bytes>")
        let dump = ad.dump(pseudoHeader: pseudo)
        #expect(dump.contains("2: priority 100"))
        #expect(!dump.contains("secret"))
    }

    // MARK: helpers: a v2 message with VRID 51, one address, no auth.
    func vrrp(first: UInt8 = 0x21, count: UInt8 = 1, interval: UInt8 = 1) -> [UInt8] {
        [first, 51, 100, count, 0, interval, 0, 0, 192, 168, 20, 11] + Array(repeating: 0, count: 8)
    }
    func v3(interval: UInt16) -> [UInt8] {
        [0x31, 51, 100, 1, UInt8(interval >> 8), UInt8(interval & 0xFF), 0, 0, 192, 168, 20, 11]
    }
}
