/// How an instance's advertisements travel (`transport` in the configuration): unicast
/// to the peers, multicast on the LAN, multicast on the GRE overlay, or multicast
/// captured and replicated to each peer.
public enum TransportKind: String, Codable, Hashable, Sendable, CaseIterable {
    case multicast, unicast, gre, replicate
}

/// How the replicate transport addresses its copies: l2 keeps 224.0.0.18 and rewrites
/// the destination MAC; l3 rewrites the destination IP to the peer's.
public enum ReplicateMode: String, Codable, Hashable, Sendable { case l2, l3 }

/// IP protocol numbers the daemon's sockets and filters name.
public enum IPProtocolNumber {
    public static let vrrp: UInt8 = 112
    public static let gre: UInt8 = 47
}

/// `auth_type` of a VRRP instance as the configuration writes it. keepalived's `AH` is
/// read and warned about, never kept (RFC 3768 removed it), so it has no case here.
public enum AuthenticationKind: String, Codable, Hashable, Sendable, CaseIterable {
    /// VRRPv2's password in clear (`auth_pass`).
    case password = "PASS"
    /// Overcast's HMAC trailer (`auth_key_file`; docs/hmac-trailer.md).
    case hmacSHA256 = "HMAC_SHA256"
}

/// keepalived's `old_unicast_checksum [never]`: which VRRPv3 checksum a unicast
/// advertisement carries. keepalived before 1.3.6 computed it over a pseudo-header with
/// the multicast group as destination; later releases (and RFC 5798) use the peer's
/// address, and accept the old form too unless told `never`.
public enum UnicastChecksum: String, Codable, Hashable, Sendable {
    /// Send the RFC's; accept it and the old one.
    case current
    /// `old_unicast_checksum`: send the old one (for peers before keepalived 1.3.6); accept both.
    case old
    /// `old_unicast_checksum never`: send and accept the RFC's only.
    case currentOnly = "never"
}
