import Foundation

/// Finds credentials the way the AWS CLI and SDKs do, in order: environment variables
/// (with a session token), the shared credentials file and profile, then the instance
/// role through IMDSv2. Temporary credentials are renewed before they expire, and at
/// once when AWS refuses them as expired.
public final class CredentialChain {
    private let environment: [String: String]
    private let metadata: InstanceMetadata?
    private let now: () -> Date
    private var cached: (credentials: AWSCredentials, issued: Date)?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, metadata: InstanceMetadata?,
                now: @escaping () -> Date = Date.init) {
        self.environment = environment
        self.metadata = metadata
        self.now = now
    }

    /// Usable credentials, from the cache while they are fresh.
    public func current() throws(EC2Failure) -> AWSCredentials {
        if let cached, !cached.credentials.needsRefresh(now: now(), issued: cached.issued) { return cached.credentials }
        let fresh = try resolve()
        cached = (fresh, now())
        return fresh
    }

    /// Forgets the cached credentials (AWS said they expired).
    public func invalidate() { cached = nil }

    private func resolve() throws(EC2Failure) -> AWSCredentials {
        let key = environment["AWS_ACCESS_KEY_ID"].flatMap { $0.isEmpty ? nil : $0 }
        let secret = environment["AWS_SECRET_ACCESS_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        switch (key, secret) {
        case let (key?, secret?):
            return AWSCredentials(accessKeyID: key, secretAccessKey: secret,
                                  sessionToken: environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 },
                                  source: "environment")
        case (_?, nil): throw .configuration("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        case (nil, _?): throw .configuration("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not")
        case (nil, nil): break
        }
        let explicitProfile = environment["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        let profile = explicitProfile ?? "default"
        let path = environment["AWS_SHARED_CREDENTIALS_FILE"] ?? ((environment["HOME"] ?? "/root") + "/.aws/credentials")
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            do {
                if let found = try SharedCredentialsFile.credentials(text, path: path, profile: profile) { return found }
            } catch { throw .configuration(error.description) }
            if explicitProfile != nil { throw .configuration("AWS_PROFILE=\(profile): no such profile in \(path)") }
        } else if explicitProfile != nil {
            throw .configuration("AWS_PROFILE=\(profile) is set but \(path) cannot be read")
        }
        guard let metadata else {
            throw .configuration("no AWS credentials: none in the environment, none in \(path) [\(profile)], and IMDS is not in use")
        }
        do { return try metadata.roleCredentials() } catch {
            throw .configuration("no AWS credentials: none in the environment, none in \(path) [\(profile)], and the instance role failed: \(error)")
        }
    }
}
