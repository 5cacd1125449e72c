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
