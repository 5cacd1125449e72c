import ArgumentParser
import NetworkTypes
import VRRP

/// `overcast decode HEX`: dump a captured VRRP packet (IPv4 header + VRRP, or the VRRP
/// message alone) field by field, with the result of every check.
struct DecodePacket: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode",
        abstract: "Decode a VRRP packet given in hex (an IPv4 packet or a bare VRRP message).")

    @Argument(help: "The packet bytes in hex (spaces allowed).")
    var hexBytes: [String]

    func run() throws {
        guard let bytes = hexDecode(hexBytes.joined()) else {
            throw ValidationError("not hex: odd digit count or a non-hex character")
        }
        var payload = bytes
        var pseudo = PseudoHeader(source: IPv4Address(0), destination: .vrrpMulticastGroup)
        if bytes.first.map({ $0 >> 4 == 4 }) == true {
            do {
                let packet = try IPv4Packet(parsing: bytes)
                print("IPv4 \(packet.header.source) -> \(packet.header.destination), ttl \(packet.header.timeToLive), proto \(packet.header.protocolNumber)")
                payload = packet.payload
                pseudo = PseudoHeader(source: packet.header.source, destination: packet.header.destination)
            } catch {
                print("IPv4 header: \(error)")
                throw ExitCode(1)
            }
        }
        do {
            let advertisement = try VRRPAdvertisement(parsingUnchecked: payload)
            print(advertisement.dump(pseudoHeader: pseudo))
            let valid = VRRPAdvertisement.checksumIsValid(payload, version: advertisement.version, pseudoHeader: pseudo)
            print("checksum: \(valid ? "valid" : "INVALID")")
            if !valid { throw ExitCode(1) }
        } catch let error as VRRPPacketError {
            print("VRRP: \(error)")
            throw ExitCode(1)
        }
    }
}
