import Crypto

/// keepalived's HTTP_GET `digest`: the lowercase hex MD5 of a response body, as
/// `genhash` prints it and the checker compares it. MD5 only because keepalived's
/// configurations name pages by it; it says whether a page changed, and protects nothing.
public enum BodyDigest {
    public static func md5Hex(_ body: [UInt8]) -> String {
        Insecure.MD5.hash(data: body).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
