import ClusterCheck
import Config
import Foundation
import Testing

/// What `simulate` prints, and reading the nodes' files: the text's line form, the JSON's
/// field names (scripts read them), parse errors, and key files read from disk.
@Suite struct ClusterOutputTests {
    static func mismatchedPair() -> (NodeText, NodeText, ClusterCheckReport) {
        let lvs1 = NodeText.lvs1
        var lvs2 = NodeText.lvs2
        lvs2.priority = 101
        lvs2.advertInt = "2"
        return (lvs1, lvs2, check([lvs1, lvs2]))
    }

    @Test func textHasOneLinePerFindingWithEveryFileThenASummary() {
        let (lvs1, lvs2, report) = Self.mismatchedPair()
        let lines = ClusterCheckOutput.text(report).split(separator: "\n").map(String.init)
        #expect(lines.count == 4, "\(lines)")
        #expect(lines.first == "\(lvs1.at("advert_int")), \(lvs2.at("advert_int")): error: VRID 51: advert_int differs "
                + "(/cluster/lvs1.conf 1 s, /cluster/lvs2.conf 2 s): VRRPv2 drops an advertisement whose interval is not "
                + "its own, so both become MASTER [advert-interval-differs]")
        #expect(lines.dropFirst().first?.hasPrefix("\(lvs1.at("priority")), \(lvs2.at("priority")): warning: VRID 51: ") == true)
        #expect(lines.dropFirst(2).first == "VRID 51: /cluster/lvs1.conf VI_1, /cluster/lvs2.conf VI_1")
        #expect(lines.last == "cluster check: 2 files, 1 virtual router: 1 error, 1 warning")
        #expect(ClusterCheckOutput.text(check([.lvs1, .lvs2])).hasSuffix("1 virtual router: the nodes agree"))
    }

    @Test func jsonHasStableFieldNames() throws {
        let (lvs1, _, report) = Self.mismatchedPair()
        let text = try ClusterCheckOutput.json(SimulateDocument(diagnostics: [], check: report))
        let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(Set(document.keys) == ["diagnostics", "check", "scenarios"])
        #expect(document["scenarios"] is NSNull)
        let check = try #require(document["check"] as? [String: Any])
        #expect(Set(check.keys) == ["files", "virtualRouters", "findings", "errors", "warnings"])
        #expect(check["errors"] as? Int == 1 && check["warnings"] as? Int == 1)
        let finding = try #require((check["findings"] as? [[String: Any]])?.first)
        #expect(Set(finding.keys) == ["severity", "kind", "virtualRouterID", "message", "locations"])
        #expect(finding["kind"] as? String == "advert-interval-differs" && finding["severity"] as? String == "error")
        let location = try #require((finding["locations"] as? [[String: Any]])?.first)
        #expect(location["file"] as? String == lvs1.file && location["line"] as? Int == lvs1.line("advert_int"))
        let router = try #require((check["virtualRouters"] as? [[String: Any]])?.first)
        #expect(router["virtualRouterID"] as? Int == 51 && router["interface"] is NSNull)
        #expect(Set(router.keys) == ["virtualRouterID", "interface", "members"])
        let member = try #require((router["members"] as? [[String: Any]])?.first)
        #expect(member["file"] as? String == lvs1.file && member["instance"] as? String == "VI_1")
    }

    @Test func aFileThatDoesNotReadHasItsDiagnostics() {
        let loaded = ClusterNodeLoader.load(text: "vrrp_instance X {\n  interface eth0\n  priority 500\n}\n", file: "/cluster/bad.conf")
        #expect(!loaded.isValid)
        #expect(loaded.diagnostics.contains { "\($0)" == "/cluster/bad.conf:3:12: error: priority 500 is out of range 1-255" })
    }

    /// Key files are read as the daemon reads them (owner and mode checked); one that the
    /// daemon would refuse is not taken as matching, and a missing one does not stop the
    /// file from reading (it is another node's file).
    @Test func keyFilesAreReadFromDiskWhenPresent() throws {
        let directory = NSTemporaryDirectory() + "overcast-cluster-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let key = directory + "/lvs1.key"
        try "0123456789abcdef0123\n".write(toFile: key, atomically: true, encoding: .utf8)
        #expect(chmod(key, 0o600) == 0)
        #expect(ClusterNodeLoader.readKeyFile(key) == .read(SecretKey(Array("0123456789abcdef0123".utf8))))
        #expect(chmod(key, 0o644) == 0)
        guard case .unreadable(let reason) = ClusterNodeLoader.readKeyFile(key) else {
            Issue.record("a key file others can read was accepted")
            return
        }
        #expect(reason.contains("chmod 600") && !reason.contains("0123456789abcdef"))
        var node = NodeText.lvs1
        node.authentication = ["auth_type HMAC_SHA256", "auth_key_file missing.key"]
        try node.text.write(toFile: directory + "/lvs1.conf", atomically: true, encoding: .utf8)
        let loaded = ClusterNodeLoader.load(path: directory + "/lvs1.conf")
        #expect(loaded.isValid, "\(loaded.diagnostics)")
        guard case .unreadable(let missing)? = loaded.node.authKeys[directory + "/missing.key"] else {
            Issue.record("the missing key file has no evidence: \(loaded.node.authKeys)")
            return
        }
        #expect(missing.contains("No such file"))
    }
}
