import NetworkTypes
import Config

/// One node of the cluster as `simulate` sees it: one configuration file, read as the
/// daemon would read it, with the locations of its keywords and what could be learned
/// of its HMAC keys. The check itself is pure over these values; only the loaders read.
public struct ClusterNode: Sendable {
    /// The file as the user named it: findings and messages use this.
    public var file: String
    public var configuration: OvercastConfiguration
    public var locations: KeywordLocations
    /// For each `auth_key_file` path this node names: its key, or why it could not be read.
    public var authKeys: [String: AuthKeyEvidence]

    public init(file: String, configuration: OvercastConfiguration, locations: KeywordLocations,
                authKeys: [String: AuthKeyEvidence] = [:]) {
        self.file = file
        self.configuration = configuration
        self.locations = locations
        self.authKeys = authKeys
    }

    /// Where `keywords` of instance `name` stand; the `vrrp_instance` line when the
    /// keyword is not written (the value is a default), so every finding has a line.
    func location(_ instance: VRRPInstance, path keywords: [String]) -> SourceLocation {
        locations.instance(instance.name, path: keywords) ?? instance.location
    }
}

/// What `simulate` could learn of one HMAC key file. The key is compared, never shown:
/// `SecretKey`'s description names only its length.
public enum AuthKeyEvidence: Hashable, Sendable {
    case read(SecretKey)
    /// Why not (the file's path and the reason, never its contents).
    case unreadable(String)
}

public struct SecretKey: Hashable, Sendable, CustomStringConvertible {
    private let bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public var description: String { "(a key of \(bytes.count) bytes)" }
}

/// A node's file as read: the node, and every diagnostic of reading it. The cluster
/// check runs only when no file has an error, since a half-read file would give
/// mismatches that are only the parse error seen again.
public struct LoadedNode: Sendable {
    public var node: ClusterNode
    public var diagnostics: [Diagnostic]
    public var isValid: Bool { !diagnostics.contains { $0.severity == .error } }
}

public enum ClusterNodeLoader {
    /// Reads `path` as `check-config` does, except that key files are not required to be
    /// readable here (they are each node's own; see `AuthKeyEvidence`), and that host
    /// interfaces are not looked up (the file is another machine's).
    public static func load(path: String, configID: String? = nil) -> LoadedNode {
        var source = ConfigSource(configID: configID)
        let statements = source.read(path: path)
        return build(statements, source: source, file: path, readKey: readKeyFile)
    }

    /// Reads configuration text given directly; `readKey` stands in for the key files.
    public static func load(text: String, file: String, configID: String? = nil,
                            readKey: (String) -> AuthKeyEvidence = { .unreadable("\($0): not read") }) -> LoadedNode {
        var source = ConfigSource(configID: configID)
        let statements = source.parse(text: text, file: file)
        return build(statements, source: source, file: file, readKey: readKey)
    }

    /// Reads a key file as the daemon would (owner and mode checked), so that a key the
    /// daemon would refuse is not reported as matching.
    public static func readKeyFile(_ path: String) -> AuthKeyEvidence {
        do {
            return .read(SecretKey(try AuthKeyFile.read(path)))
        } catch {
            return .unreadable(error.description)
        }
    }

    private static func build(_ statements: [Statement], source: ConfigSource, file: String,
                              readKey: (String) -> AuthKeyEvidence) -> LoadedNode {
        let report = ConfigurationLoader.load(statements: statements, source: source, verifyAuthKeyFiles: false)
        var keys: [String: AuthKeyEvidence] = [:]
        for instance in report.configuration.instances where instance.authType == .hmacSHA256 {
            if let path = instance.authKeyFile, keys[path] == nil { keys[path] = readKey(path) }
        }
        let node = ClusterNode(file: file, configuration: report.configuration, locations: KeywordLocations(statements),
                               authKeys: keys)
        return LoadedNode(node: node, diagnostics: report.diagnostics)
    }
}
