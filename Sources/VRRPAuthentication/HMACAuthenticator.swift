import Crypto
import NetworkTypes
import VRRP

/// Overcast's `auth_type HMAC_SHA256`: advertisements that prove who sent them and
/// when. VRRP's own `PASS` sends the password in clear and anyone who can send a packet
/// to the node can take the VIP (priority 255) or hold a dead MASTER's place (replaying
/// its advertisements); RFC 3768 removed AH and RFC 5798 has no authentication at all.
///
/// The VRRP message is sent unchanged and followed by a 44-byte trailer inside the same
/// IP payload (docs/hmac-trailer.md has it byte by byte, with test vectors):
///
///     magic "OVH1" (4) | sequence (8, big-endian) | HMAC-SHA256 (32)
///
/// The HMAC (RFC 2104, swift-crypto's) covers the IP source, the VRRP message, the magic
/// and the sequence, under a key shared by the nodes. Not the destination: the replicate
/// transport's l3 mode rewrites it per peer, and a copy meant for one peer is as true for
/// another. The sequence is the sender's wall clock in microseconds, forced to increase
/// (`AdvertisementSealer`); a receiver accepts a sequence only if it is after the last
/// one it accepted from that source (no replay within a run). The first sequence from a
/// source, when there is no such memory (after the receiver's start), must also be no
/// more than `replayWindow` behind the receiver's clock (no replay of old recordings
/// after a restart), and no more than `aheadLimit` ahead. Nodes therefore need synchronised clocks (NTP; on EC2 the Amazon Time Sync
/// Service), which a rejection message points out. Once a source is known the window is
/// not applied again: a forged packet cannot carry a sequence past the last one, so it
/// would add no protection, and a step of the wall clock (NTP correcting it, on either
/// node) would otherwise cut a running pair apart for as long as the step, though both
/// keep advertising (the sender's sequence keeps increasing through a backward step).
///
/// A peer without the key (stock keepalived) cannot talk to an HMAC node: the trailer
/// makes the packet one it rejects, and its packets lack the trailer.
public struct HMACAuthenticator: AdvertisementAuthenticator, Equatable {
    public static let magic: [UInt8] = [0x4F, 0x56, 0x48, 0x01]   // "OVH" version 1
    public static let trailerLength = magic.count + 8 + SHA256.byteCount

    private let key: SymmetricKey
    /// How far (microseconds) the first sequence from a source may be behind the
    /// receiver's clock.
    public let replayWindow: UInt64
    /// How far it may be ahead: a day. A recording cannot be ahead of the clock it was
    /// made by; what runs ahead is a sender whose sequences outran its clock (they keep
    /// increasing through a step back, and start past its last life), which a receiver
    /// that has just started must still hear. Further ahead is a clock set wrong.
    public static let aheadLimit: UInt64 = 86_400_000_000
    /// The last sequence accepted from each source.
    public private(set) var lastAccepted: [IPv4Address: UInt64] = [:]

    public init(key: [UInt8], replayWindowSeconds: Double) {
        self.key = SymmetricKey(data: key)
        self.replayWindow = UInt64(max(0, min(replayWindowSeconds, 86_400)) * 1_000_000)
    }

    /// `message` followed by its trailer, for a packet from `source`.
    public func seal(_ message: [UInt8], source: IPv4Address, sequence: UInt64) -> [UInt8] {
        var sealed = message
        sealed.reserveCapacity(message.count + Self.trailerLength)
        sealed += Self.magic
        for shift in stride(from: 56, through: 0, by: -8) { sealed.append(UInt8(truncatingIfNeeded: sequence >> UInt64(shift))) }
        sealed += authenticationCode(sealed[...], source: source)
        return sealed
    }

    /// Checks the trailer of `packet` at the receiver's wall clock `now` (microseconds
    /// since 1970) and returns the packet with its payload cut to the VRRP message.
    /// Only a packet that passes every check moves the replay state.
    public mutating func open(_ packet: ReceivedPacket, now: UInt64) -> Result<ReceivedPacket, VRRPPacketError> {
        let payload = packet.payload
        guard payload.count >= 8 + Self.trailerLength else {
            return .failure(VRRPPacketError(.authFailure, "\(payload.count) bytes from \(packet.source): too short for an HMAC_SHA256 trailer"
                                            + " (is the peer configured with auth_type HMAC_SHA256?)"))
        }
        let messageEnd = payload.count - Self.trailerLength
        guard payload[messageEnd..<messageEnd + 4].elementsEqual(Self.magic) else {
            return .failure(VRRPPacketError(.authFailure, "no HMAC_SHA256 trailer in the packet from \(packet.source)"
                                            + " (is the peer configured with auth_type HMAC_SHA256?)"))
        }
        let macStart = messageEnd + 12
        // swift-crypto's comparison of a code with bytes takes the same time wherever they differ.
        guard authenticationCode(payload[..<macStart], source: packet.source) == payload[macStart...] else {
            return .failure(VRRPPacketError(.authFailure, "HMAC of the packet from \(packet.source) does not verify"
                                            + " (a different key, or the packet was altered)"))
        }
        let sequence = payload[(messageEnd + 4)..<macStart].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if let last = lastAccepted[packet.source] {
            guard sequence > last else {
                return .failure(VRRPPacketError(.replayed, "sequence \(sequence) from \(packet.source) is not after \(last)"))
            }
        } else if case let distance = sequence > now ? sequence - now : now - sequence,
                  sequence > now ? distance > Self.aheadLimit : distance > replayWindow {
            let seconds = Double(distance) / 1e6
            return .failure(VRRPPacketError(.replayed, "sequence from \(packet.source) is \(Self.format(seconds)) s "
                + (sequence > now ? "ahead of" : "behind") + " this clock (window \(Self.format(Double(sequence > now ? Self.aheadLimit : replayWindow) / 1e6)) s):"
                + " a replay, or the nodes' clocks are not synchronised"))
        }
        lastAccepted[packet.source] = sequence
        var opened = packet
        opened.payload = Array(payload[..<messageEnd])
        return .success(opened)
    }

    /// Same key and window (the replay memory is state, not configuration): a reload
    /// with the same key file keeps the instance running.
    public static func == (a: HMACAuthenticator, b: HMACAuthenticator) -> Bool {
        a.key == b.key && a.replayWindow == b.replayWindow
    }

    /// HMAC-SHA256 over the source address, then `covered` (the message, magic and sequence).
    private func authenticationCode(_ covered: ArraySlice<UInt8>, source: IPv4Address) -> HashedAuthenticationCode<SHA256> {
        var hmac = HMAC<SHA256>(key: key)
        hmac.update(data: source.octets)
        hmac.update(data: covered)
        return hmac.finalize()
    }

    private static func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
