import NetworkTypes
/// Overcast's `auth_type HMAC_SHA256`: advertisements that prove who sent them and
/// when. VRRP's own `PASS` sends the password in clear and anyone who can send a packet
/// to the node can take the VIP (priority 255) or hold a dead MASTER's place (replaying
/// its advertisements); RFC 3768 removed AH and RFC 5798 has no authentication at all.
///
/// The VRRP message is sent unchanged and followed by a 44-byte trailer inside the same
/// IP payload:
///
///     magic "OVH1" (4) | sequence (8, big-endian) | HMAC-SHA256 (32)
///
/// The HMAC covers the IP source, the VRRP message, the magic and the sequence, under a
/// key shared by the nodes. Not the destination: the replicate transport's l3 mode
/// rewrites it per peer, and a copy meant for one peer is as true for another. The sequence is the sender's wall clock in
/// microseconds, forced to increase; a receiver accepts a sequence only if it is after
/// the last one it accepted from that source (no replay within a run) and within
/// `replayWindow` of its own clock (no replay of old recordings after a restart, when
/// the per-source memory is empty). Nodes therefore need synchronised clocks (NTP; on
/// EC2 the Amazon Time Sync Service), which a rejection message points out.
///
/// A peer without the key (stock keepalived) cannot talk to an HMAC node: the trailer
/// makes the packet one it rejects, and its packets lack the trailer.
public struct PacketAuthenticator: Sendable, Equatable {
    public static let magic: [UInt8] = [0x4F, 0x56, 0x48, 0x01]   // "OVH" version 1
    public static let trailerLength = 4 + 8 + SHA256.digestLength
    /// Shorter keys are refused by the configuration reader.
    public static let minimumKeyLength = 16

    private let key: [UInt8]
    /// How far (microseconds) a sequence may be from the receiver's clock.
    public let replayWindow: UInt64
    /// The last sequence accepted from each source.
    public private(set) var lastAccepted: [IPv4Address: UInt64] = [:]

    public init(key: [UInt8], replayWindowSeconds: Double) {
        self.key = key
        self.replayWindow = UInt64(max(0, min(replayWindowSeconds, 86_400)) * 1_000_000)
    }

    /// `message` followed by its trailer, for a packet from `source`.
    public func seal(_ message: [UInt8], source: IPv4Address, sequence: UInt64) -> [UInt8] {
        var sealed = message
        sealed.reserveCapacity(message.count + Self.trailerLength)
        sealed += Self.magic
        for shift in stride(from: 56, through: 0, by: -8) { sealed.append(UInt8(truncatingIfNeeded: sequence >> UInt64(shift))) }
        sealed += mac(sealed[...], source: source)
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
        let expected = mac(payload[..<macStart], source: packet.source)
        guard SHA256.constantTimeEqual(Array(payload[macStart...]), expected) else {
            return .failure(VRRPPacketError(.authFailure, "HMAC of the packet from \(packet.source) does not verify"
                                            + " (a different key, or the packet was altered)"))
        }
        let sequence = payload[(messageEnd + 4)..<macStart].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if let last = lastAccepted[packet.source], sequence <= last {
            return .failure(VRRPPacketError(.replayed, "sequence \(sequence) from \(packet.source) is not after \(last)"))
        }
        let distance = sequence > now ? sequence - now : now - sequence
        if distance > replayWindow {
            let seconds = Double(distance) / 1e6
            return .failure(VRRPPacketError(.replayed, "sequence from \(packet.source) is \(Self.format(seconds)) s "
                + (sequence > now ? "ahead of" : "behind") + " this clock (window \(Self.format(Double(replayWindow) / 1e6)) s):"
                + " a replay, or the nodes' clocks are not synchronised"))
        }
        lastAccepted[packet.source] = sequence
        var opened = packet
        opened.payload = Array(payload[..<messageEnd])
        return .success(opened)
    }

    /// Same key and window (the replay memory is state, not configuration): a reload
    /// with the same key file keeps the instance running.
    public static func == (a: PacketAuthenticator, b: PacketAuthenticator) -> Bool {
        a.key == b.key && a.replayWindow == b.replayWindow
    }

    /// The sequence to send after `last` at wall clock `now`: the clock, or one more
    /// than the last if the clock stepped back.
    public static func nextSequence(after last: UInt64, now: UInt64) -> UInt64 {
        max(last &+ 1, now)
    }

    private func mac(_ sealed: ArraySlice<UInt8>, source: IPv4Address) -> [UInt8] {
        SHA256.hmac(key: key, message: source.octets + Array(sealed))
    }

    private static func format(_ seconds: Double) -> String {
        let tenths = Int((seconds * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
