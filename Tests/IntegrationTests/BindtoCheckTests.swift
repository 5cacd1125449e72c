import Foundation
import Testing
import Lab
import HealthChecks

/// bindto on the HTTP paths, against the loopback servers of `CheckEngineTests`: the plain
/// checker binds its socket, libcurl (SSL_GET) takes it as its interface; an address
/// this host does not have fails the check on both.
@Suite(.serialized) struct BindtoCheckTests {
    @Test func httpAndTLSChecksBindTheirSource() throws {
        let (server, base, directory) = try CheckEngineTests.startServers(count: 1, tls: true)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        func target(_ id: String, _ url: String, bindTo: String) -> CheckTarget {
            CheckTarget(id: id, url: url, connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil), bindTo: bindTo)
        }
        let plain = "http://127.0.0.1:\(base)/", tls = "https://127.0.0.1:\(base + 1)/"
        let results = CheckEngine().run([
            target("plain", plain, bindTo: "127.0.0.2"), target("tls", tls, bindTo: "127.0.0.2"),
            target("plain-foreign", plain, bindTo: "192.0.2.77"), target("tls-foreign", tls, bindTo: "192.0.2.77"),
            CheckTarget(id: "tcp", url: "tcp://127.0.0.1:\(base)", connectTimeout: 2, kind: .tcpConnect, bindTo: "127.0.0.3"),
        ])
        #expect(results["plain"] == .success && results["tls"] == .success && results["tcp"] == .success, "\(results)")
        #expect(results["plain-foreign"].map { "\($0)".contains("bind: Cannot assign requested address") } == true, "\(results)")
        #expect(results["tls-foreign"]?.succeeded == false, "\(results)")
    }
}
