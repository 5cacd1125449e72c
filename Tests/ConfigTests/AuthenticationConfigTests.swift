import Foundation
import Testing
@testable import Config

/// `auth_type HMAC_SHA256`: the key file must exist, hold 16 bytes or more and be
/// readable by its owner only; every problem is reported at the keyword's file:line.
@Suite struct AuthenticationConfigTests {
    static func keyFile(_ contents: String, mode: Int) throws -> String {
        let directory = NSTemporaryDirectory() + "overcast-key-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/vi1.key"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(chmod(path, mode_t(mode)) == 0)
        return path
    }

    static func config(_ path: String, type: String = "HMAC_SHA256", version: Int = 3) -> String {
        """
        vrrp_instance VI_1 {
          interface eth0
          virtual_router_id 51
          version \(version)
          unicast_peer {
            10.0.0.2
          }
          authentication {
            auth_type \(type)
            auth_key_file \(path)
            auth_replay_window 10
          }
        }
        """
    }

    @Test func aPrivateKeyFileIsAcceptedForBothVersions() throws {
        let path = try Self.keyFile("0123456789abcdef0123\n", mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        for version in [2, 3] {
            let report = ConfigurationLoader.load(text: Self.config(path, version: version), file: "/etc/overcast/a.conf")
            #expect(report.diagnostics.isEmpty, "\(report.diagnostics)")
            let i = try #require(report.configuration.instances.first)
            #expect(i.authType == .hmacSHA256 && i.authKeyFile == path && i.authReplayWindow == 10)
        }
        #expect(try AuthKeyFile.read(path) == Array("0123456789abcdef0123".utf8))
    }

    @Test func aKeyOthersCanReadIsRefusedAtItsLine() throws {
        let path = try Self.keyFile("0123456789abcdef0123", mode: 0o644)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let report = ConfigurationLoader.load(text: Self.config(path), file: "/etc/overcast/a.conf")
        let errors = report.diagnostics.filter { $0.severity == .error }
        #expect(errors.contains { $0.location.line == 10 && $0.message.contains("mode 644") && $0.message.contains("chmod 600") },
                "\(report.diagnostics)")
        #expect(errors.contains { $0.message.contains("needs auth_key_file") })
        #expect(!report.isValid)
    }

    @Test func aShortOrMissingKeyIsRefused() throws {
        let path = try Self.keyFile("short\n", mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        let short = ConfigurationLoader.load(text: Self.config(path))
        #expect(short.diagnostics.contains { $0.message.contains("holds 5 bytes") && $0.location.line == 10 }, "\(short.diagnostics)")
        let missing = ConfigurationLoader.load(text: Self.config("/nonexistent/overcast.key"))
        #expect(missing.diagnostics.contains { $0.message.contains("/nonexistent/overcast.key") && $0.severity == .error })
        let none = ConfigurationLoader.load(text: Self.config(path).replacingOccurrences(of: "auth_key_file \(path)", with: ""))
        #expect(none.diagnostics.contains { $0.message == "vrrp_instance VI_1: auth_type HMAC_SHA256 needs auth_key_file (a key of 16 bytes or more, mode 600)" })
    }
}
