import Foundation
import Testing
import TestSupport
@testable import Config

/// Every sample configuration keepalived ships reads without an error; the only
/// warnings allowed are for the three features of the samples Overcast does not implement
/// (VMAC interfaces and IPVS connection sync, which do not exist on a cloud network, and
/// net_namespace: one Overcast runs per namespace),
/// keepalived 1.x forms, and what keepalived warns about too.
@Suite struct KeepalivedSamplesTests {
    static let samples = "/usr/share/doc/keepalived/samples"

    static let allowedWarnings = [
        "keepalived keyword 'use_vmac' is not supported by Overcast",
        "keepalived keyword 'lvs_sync_daemon_interface' is not supported by Overcast",
        "keepalived keyword 'net_namespace' is not supported by Overcast",
        "IPv6 virtual address", "auth_type AH is not supported",
        "directly in vrrp_sync_group", "has no script; removed", "is not defined by any vrrp_script",
        // keepalived warns the same for these.
        "rule has no priority; set to",
    ]

    /// Lines of the samples that keepalived itself refuses ("Invalid rule to address
    /// 192.168.100./24"): Overcast reports them as errors, at the same place.
    static let knownBadLines: [String: [String]] = [
        "keepalived.conf.vrrp.rules": [
            "keepalived.conf.vrrp.rules:11:8: error: rule to: '192.168.100./24' is not an IPv4 address or ADDRESS/LENGTH (0-32)",
            "keepalived.conf.vrrp.rules:26:12: error: rule to: '192.168.200./24' is not an IPv4 address or ADDRESS/LENGTH (0-32)",
        ],
    ]

    static var sampleFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: samples)) ?? [])
            .filter { $0.hasPrefix("keepalived.conf") }.sorted().map { samples + "/" + $0 }
    }

    /// The samples come with Debian's keepalived package (scripts/setup.sh installs it).
    static var missing: String? {
        sampleFiles.isEmpty ? "needs keepalived's samples in \(samples) (run scripts/setup.sh)" : nil
    }

    @Test(.enabled(if: TestGate.enabled(missing: missing, test: "keepalived samples")))
    func everyShippedSampleReadsWithoutError() throws {
        let files = Self.sampleFiles
        #expect(files.count >= 20, "keepalived's samples are missing from \(Self.samples)")
        for file in files {
            for configID in file.hasSuffix("conditional_conf") ? [nil, "high", "low"] : [nil] {
                let report = ConfigurationLoader.load(path: file, configID: configID)
                let errors = report.diagnostics.filter { $0.severity == .error }.map { "\($0)".replacingOccurrences(of: Self.samples + "/", with: "") }
                #expect(errors == Self.knownBadLines[URL(fileURLWithPath: file).lastPathComponent] ?? [], "\(errors)")
                for warning in report.diagnostics where warning.severity == .warning && !Self.allowedWarnings.contains(where: warning.message.contains) {
                    Issue.record("unexpected warning: \(warning)")
                }
                let c = report.configuration
                #expect(!c.instances.isEmpty || !c.virtualServers.isEmpty, "\(file) read as empty")
            }
        }
    }
}

/// Random edits of valid configurations never crash the reader, always terminate, and
/// every diagnostic points inside the text.
@Suite struct ConfigFuzzTests {
    static func corpus() -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let conf = root.appendingPathComponent("conf").path
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: conf)) ?? []).filter { $0.hasSuffix(".conf") }
            .map { conf + "/" + $0 } + KeepalivedSamplesTests.sampleFiles
        return files.compactMap { try? String(contentsOfFile: $0, encoding: .utf8) }
    }

    @Test func randomEditsNeverCrashTheReader() throws {
        let corpus = Self.corpus()
        #expect(corpus.count >= 5)
        var rng = SeededRandom(seed: 2026)
        let pieces = ["{", "}", "\"", "!", "#", "\n", " ", "@x", "include /", "-1", "999999999999999999999", "0.0.0.0/99",
                      "vrrp_instance", "virtual_router_id", "\\\n", "\u{0}", "é", "real_server", "fwmark"]
        for _ in 0..<1500 {
            var bytes = Array(corpus[Int.random(in: 0..<corpus.count, using: &rng)].utf8)
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                let at = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: if !bytes.isEmpty { bytes.remove(at: at) }
                case 1: bytes.insert(contentsOf: Array(pieces[Int.random(in: 0..<pieces.count, using: &rng)].utf8), at: at)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: at)
                default:
                    let end = min(bytes.count, at + Int.random(in: 1...40, using: &rng))
                    bytes.replaceSubrange(at..<end, with: [])
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            // Counted in bytes as the lexer counts: a String split takes "\r\n" as one Character.
            let lineCount = bytes.reduce(1) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            let report = ConfigurationLoader.load(text: text, file: "fuzz.conf")
            for d in report.diagnostics where d.location.file == "fuzz.conf" {
                #expect(d.location.line >= 1 && d.location.line <= lineCount && d.location.column >= 1, "\(d)")
            }
        }
    }
}
