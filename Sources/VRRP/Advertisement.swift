import NetworkTypes
/// VRRP protocol versions. v2 is RFC 3768 (IPv4 only, interval in seconds, optional
/// plain-text authentication); v3 is RFC 5798 (interval in centiseconds, no
/// authentication, checksum over an IP pseudo-header).
public enum VRRPVersion: UInt8, Sendable, Hashable, CustomStringConvertible {
    case v2 = 2
    case v3 = 3
    public var description: String { "VRRPv\(rawValue)" }
}

/// A VRRP advertisement interval. v3 carries centiseconds in 12 bits; v2 carries whole
/// seconds in 8 bits. Keeping one unit (centiseconds) lets the state machine use one
/// formula set, and the codec converts at the edge.
public struct Centiseconds: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: Int
    public init(_ value: Int) { self.value = value }
    public static func seconds(_ seconds: Int) -> Centiseconds { Centiseconds(seconds * 100) }
    public var duration: Duration { .milliseconds(value * 10) }
    public static func < (a: Centiseconds, b: Centiseconds) -> Bool { a.value < b.value }
    public var description: String {
        value % 100 == 0 ? "\(value / 100)s" : "\(value * 10)ms"
    }
}

/// The VRRPv2 authentication types of RFC 3768 §5.3.6. Type 2 (IP Authentication
/// Header) was removed from the protocol but is still recognised so that a receiver can
/// name it when it rejects it.
public struct VRRPAuthType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let none = VRRPAuthType(rawValue: 0)
    public static let simplePassword = VRRPAuthType(rawValue: 1)
    public static let ipAuthenticationHeader = VRRPAuthType(rawValue: 2)
    public var description: String {
        switch self {
        case .none: "none"
        case .simplePassword: "simple"
        case .ipAuthenticationHeader: "ah"
        default: "type\(rawValue)"
        }
    }
}

/// One VRRP ADVERTISEMENT (the only message type VRRP has), IPv4 only.
///
/// `init(parsing:pseudoHeader:)` checks everything the packet says about itself
/// (length, version, type, address count, interval, checksum); what depends on the
/// receiver (VRID, TTL, authentication, sources) is checked by `ReceivePolicy`.
/// Encoding is the exact inverse of decoding, so a captured packet re-encodes to the
/// same bytes.
public struct VRRPAdvertisement: Hashable, Sendable {
    public static let ipProtocolNumber: UInt8 = IPProtocolNumber.vrrp
    /// The only type defined by RFC 3768 and RFC 5798.
    public static let typeAdvertisement: UInt8 = 1
    /// Length of the v2 authentication data field, present whatever the auth type.
    public static let v2AuthenticationDataLength = 8

    public var version: VRRPVersion
    public var virtualRouterID: UInt8
    public var priority: UInt8
    /// v3: Max Adver Int. v2: Adver Int (whole seconds on the wire).
    public var advertisementInterval: Centiseconds
    public var addresses: [IPv4Address]
    /// v2 only; always `.none` for v3.
    public var authType: VRRPAuthType
    /// v2 only: the 8 bytes of Authentication Data as on the wire (a PASS password is
    /// zero-padded to 8 bytes). Empty for v3.
    public var authenticationData: [UInt8]

    public init(version: VRRPVersion, virtualRouterID: UInt8, priority: UInt8,
                advertisementInterval: Centiseconds, addresses: [IPv4Address],
                authType: VRRPAuthType = .none, authenticationData: [UInt8]? = nil) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.advertisementInterval = advertisementInterval
        self.addresses = addresses
        self.authType = version == .v2 ? authType : .none
        if version == .v2 {
            var data = authenticationData ?? []
            data = Array(data.prefix(Self.v2AuthenticationDataLength))
            data += Array(repeating: 0, count: Self.v2AuthenticationDataLength - data.count)
            self.authenticationData = data
        } else {
            self.authenticationData = []
        }
    }

    /// A v2 advertisement with `auth_type PASS`: keepalived truncates the password to 8
    /// bytes and pads it with zeros.
    public static func passwordData(_ password: String) -> [UInt8] {
        var bytes = Array(password.utf8.prefix(v2AuthenticationDataLength))
        bytes += Array(repeating: 0, count: v2AuthenticationDataLength - bytes.count)
        return bytes
    }

    /// The length of the encoded VRRP message (the IP payload).
    public var encodedLength: Int {
        8 + 4 * addresses.count + (version == .v2 ? Self.v2AuthenticationDataLength : 0)
    }
}

/// The addresses of the enclosing IPv4 packet that VRRPv3's checksum covers (RFC 5798
/// §5.2.8). Unicast and multicast differ in the destination, which is why it is a
/// parameter and not the group address.
public struct PseudoHeader: Hashable, Sendable {
    public var source: IPv4Address
    public var destination: IPv4Address
    public init(source: IPv4Address, destination: IPv4Address) {
        self.source = source
        self.destination = destination
    }
}
