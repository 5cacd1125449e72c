import NetworkTypes

/// What the core asks of an authentication scheme for advertisements, such as Overcast's
/// `auth_type HMAC_SHA256` (`HMACAuthenticator` in VRRPAuthentication). A protocol, so
/// that the core stays Swift standard library only: the cryptography lives in its own
/// target, and the simulator and tests run routers with any scheme or none.
///
/// `VirtualRouter.receive` drops packets from sources that are not configured peers
/// first, then calls `open`, then runs the VRRP checks on what `open` returns. The
/// transports call `seal` on each copy they send (`AdvertisementSealer`).
public protocol AdvertisementAuthenticator: Sendable {
    /// `message` followed by what proves that `source` sent it at `sequence` (the
    /// sender's wall clock in microseconds, forced to increase).
    func seal(_ message: [UInt8], source: IPv4Address, sequence: UInt64) -> [UInt8]

    /// Checks `packet` at the receiver's wall clock `now` (microseconds since 1970) and
    /// returns it with its payload cut to the VRRP message. Mutating because it keeps
    /// what it accepted from each source, to refuse replays: only a packet that passes
    /// every check may change that memory. Rejections carry `.authFailure` or `.replayed`.
    mutating func open(_ packet: ReceivedPacket, now: UInt64) -> Result<ReceivedPacket, VRRPPacketError>
}
