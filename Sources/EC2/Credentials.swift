import Foundation

/// AWS credentials. The description never shows the secret or the session token, so a
/// value that ends up in a log or an error message leaks nothing.
public struct AWSCredentials: Sendable, Hashable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// When temporary credentials stop working; nil for long-term keys.
    public var expiration: Date?
    /// Where they came from: "environment", "~/.aws/credentials [default]", "instance role NAME".
    public var source: String

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Date? = nil, source: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
        self.source = source
    }

    public var description: String {
        "credentials \(Self.redacted(accessKeyID)) from \(source)\(expiration.map { " expiring \($0)" } ?? "")"
    }

    /// The last four characters only (AWS consoles show keys the same way).
    public static func redacted(_ key: String) -> String { "****" + String(key.suffix(4)) }

    /// Whether these should be replaced now: temporary credentials are renewed well
    /// before they expire (five minutes, or half their remaining life when shorter), so
    /// a failover never has to wait for a refresh.
    public func needsRefresh(now: Date, issued: Date) -> Bool {
        guard let expiration else { return false }
        let margin = min(300, max(0, expiration.timeIntervalSince(issued)) / 2)
        return now >= expiration.addingTimeInterval(-margin)
    }
}

/// The shared credentials file (`~/.aws/credentials`): INI sections named after
/// profiles holding `aws_access_key_id`, `aws_secret_access_key` and optionally
/// `aws_session_token`.
public enum SharedCredentialsFile {
    public struct ParseError: Error, CustomStringConvertible, Sendable, Hashable {
        public var path: String
        public var line: Int
        public var message: String
        public var description: String { "\(path):\(line): \(message)" }
    }

    /// The profiles in `text` as name -> key -> value.
    public static func parse(_ text: String, path: String) throws(ParseError) -> [String: [String: String]] {
        var profiles: [String: [String: String]] = [:]
        var current: String?
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else {
                    throw ParseError(path: path, line: index + 1, message: "a section header must look like [profile]")
                }
                var name = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                if name.hasPrefix("profile ") { name = String(name.dropFirst(8)).trimmingCharacters(in: .whitespaces) }
                current = name
                profiles[name, default: [:]] = profiles[name] ?? [:]
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw ParseError(path: path, line: index + 1, message: "expected 'key = value'")
            }
            guard let profile = current else {
                throw ParseError(path: path, line: index + 1, message: "a setting before any [profile] section")
            }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            profiles[profile, default: [:]][key] = value
        }
        return profiles
    }

    /// The credentials of `profile` in `text`, nil when the profile is absent.
    public static func credentials(_ text: String, path: String, profile: String) throws(ParseError) -> AWSCredentials? {
        guard let settings = try parse(text, path: path)[profile] else { return nil }
        guard let key = settings["aws_access_key_id"], !key.isEmpty,
              let secret = settings["aws_secret_access_key"], !secret.isEmpty else {
            throw ParseError(path: path, line: 0, message: "profile [\(profile)] needs aws_access_key_id and aws_secret_access_key")
        }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: settings["aws_session_token"],
                              source: "\(path) [\(profile)]")
    }
}

/// The instance role's credentials as IMDS serves them
/// (`/latest/meta-data/iam/security-credentials/ROLE`).
public struct RoleCredentialsDocument: Decodable, Sendable {
    public var Code: String?
    public var AccessKeyId: String
    public var SecretAccessKey: String
    public var Token: String?
    public var Expiration: String?

    public static func decode(_ bytes: [UInt8], role: String) throws(EC2Failure) -> AWSCredentials {
        let document: RoleCredentialsDocument
        do { document = try JSONDecoder().decode(RoleCredentialsDocument.self, from: Data(bytes)) } catch {
            throw .malformed(action: "IMDS security-credentials/\(role)", detail: "\(error)")
        }
        if let code = document.Code, code != "Success" {
            throw .configuration("IMDS: instance role \(role) credentials not available (Code \(code))")
        }
        var expiration: Date?
        if let text = document.Expiration {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw .malformed(action: "IMDS security-credentials/\(role)", detail: "Expiration '\(text)' is not an ISO 8601 time")
            }
            expiration = date
        }
        return AWSCredentials(accessKeyID: document.AccessKeyId, secretAccessKey: document.SecretAccessKey,
                              sessionToken: document.Token, expiration: expiration, source: "instance role \(role)")
    }
}
