#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address literal in network byte order (4 or 16 octets): what a
/// checker's socket address, its `bindto` and `ha_suspend`'s local-address test compare.
public enum AddressLiteral {
    public static func octets(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
