import Foundation
import HTTPClient

/// The EC2 instance metadata service, IMDSv2 only: a session token from a PUT with a
/// TTL, sent with every read and renewed a minute before it expires (or at once when
/// IMDS answers 401). IMDSv1's unauthenticated GETs are never used, so Overcast works
/// on instances that require tokens.
public final class InstanceMetadata {
    public let endpoint: String
    public let tokenTTL: Int
    private let http: CurlEasyRequest
    private let timeoutMilliseconds: Int
    private let now: () -> Date
    private var token: (value: String, expires: Date)?

    public init(endpoint: String = "http://169.254.169.254", tokenTTL: Int = 21600, timeoutMilliseconds: Int = 1000,
                now: @escaping () -> Date = Date.init) throws(EC2Failure) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        self.tokenTTL = tokenTTL
        self.timeoutMilliseconds = timeoutMilliseconds
        self.now = now
        do { http = try CurlEasyRequest() } catch { throw .transport(error) }
    }

    private func sessionToken() throws(EC2Failure) -> String {
        if let token, now() < token.expires.addingTimeInterval(-min(60, Double(tokenTTL) / 2)) { return token.value }
        let response: HTTPResponse
        do {
            response = try http.perform(HTTPRequest(method: "PUT", url: endpoint + "/latest/api/token",
                                                    headers: ["X-aws-ec2-metadata-token-ttl-seconds: \(tokenTTL)"],
                                                    timeoutMilliseconds: timeoutMilliseconds))
        } catch { throw .transport(error) }
        guard response.status == 200, let value = String(bytes: response.body, encoding: .utf8), !value.isEmpty else {
            throw .http(status: response.status, detail: "IMDS token PUT \(endpoint)/latest/api/token")
        }
        token = (value, now().addingTimeInterval(Double(tokenTTL)))
        return value
    }

    /// The body of `/latest/PATH`.
    public func get(_ path: String) throws(EC2Failure) -> [UInt8] {
        for attempt in 0..<2 {
            let value = try sessionToken()
            let response: HTTPResponse
            do {
                response = try http.perform(HTTPRequest(url: endpoint + "/latest/" + path, headers: ["X-aws-ec2-metadata-token: \(value)"],
                                                        timeoutMilliseconds: timeoutMilliseconds))
            } catch { throw .transport(error) }
            if response.status == 401 && attempt == 0 { token = nil; continue }
            guard response.status == 200 else {
                throw .http(status: response.status, detail: "IMDS GET /latest/\(path)")
            }
            return response.body
        }
        throw .http(status: 401, detail: "IMDS GET /latest/\(path): token refused twice")
    }

    public func text(_ path: String) throws(EC2Failure) -> String {
        let text = String(decoding: try get(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .malformed(action: "IMDS /latest/\(path)", detail: "empty answer") }
        return text
    }

    public func instanceID() throws(EC2Failure) -> String { try text("meta-data/instance-id") }
    public func region() throws(EC2Failure) -> String { try text("meta-data/placement/region") }

    /// The ENI id of the interface with `mac` (lowercase, colon-separated).
    public func interfaceID(mac: String) throws(EC2Failure) -> String {
        try text("meta-data/network/interfaces/macs/\(mac.lowercased())/interface-id")
    }

    /// The instance role's current credentials.
    public func roleCredentials() throws(EC2Failure) -> AWSCredentials {
        let roles = try text("meta-data/iam/security-credentials/")
        guard let role = roles.split(separator: "\n").first.map(String.init) else {
            throw .configuration("IMDS: this instance has no instance role")
        }
        return try RoleCredentialsDocument.decode(try get("meta-data/iam/security-credentials/\(role)"), role: role)
    }
}
