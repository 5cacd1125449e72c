import Foundation
import Testing
import Lab

/// The `overcast` binary as a user runs it: exit codes and output formats.
@Suite struct CLITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    func overcast(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try ChildProcess.run([Binaries.overcast] + arguments, timeout: 60)
    }

    @Test func versionAndHelp() throws {
        let version = try overcast(["--version"])
        #expect(version.status == 0 && version.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let help = try overcast(["--help"])
        #expect(help.status == 0)
        for command in ["run", "status", "overlay", "demo", "check-config", "dump-config", "decode", "simulate"] {
            #expect(help.output.contains(command))
        }
    }

    /// The binary's tasks run on its serial queue, on libdispatch's overcommit pool, also
    /// after a yield and a sleep (`OvercommitExecutor.install()` before the first await).
    /// If a Swift runtime stops honouring the executor factory, these lines name no queue
    /// and the monitored pool's thread ("oot.default-qos"), and this fails.
    @Test func librariesAndWhereTasksRun() throws {
        let result = try overcast(["libraries"])
        #expect(result.status == 0)
        #expect(result.output.contains("libcurl/"), "\(result.output)")
        for line in ["tasks", "after yield", "after sleep"] {
            #expect(result.output.contains("\(line): overcast.tasks on -qos.overcommit\n"), "\(result.output)")
        }
    }

    @Test func checkConfigExitsZeroForEveryExample() throws {
        for name in ["conf/article-lvs1-master", "conf/article-lvs2-backup", "conf/unicast", "conf/gre", "conf/replicate",
                     "overlay/lvs1", "overlay/lvs2"] {
            let result = try overcast(["check-config", "-f", "\(Self.root)/\(name).conf"])
            #expect(result.status == 0, "\(name): \(result.output)")
            #expect(result.output.contains(": OK: "))
        }
    }

    @Test func checkConfigExitsOneWithFileLineColumnErrors() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-cli-\(UUID().uuidString).conf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "vrrp_instance X {\n  interface eth0\n  virtual_router_id 300\n  priorty 5\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try overcast(["check-config", "-f", path])
        #expect(result.status == 1)
        #expect(result.output.contains("\(path):3:21: error: virtual_router_id 300 is out of range 1-255"))
        #expect(result.output.contains("\(path):4:3: warning: unknown keyword 'priorty' in vrrp_instance; ignored; did you mean 'priority'?"))
        #expect(result.output.contains("\(path):1:17: error: '{' is never closed"))
        #expect(try overcast(["check-config", "-f", "/nonexistent.conf"]).status == 1)
    }

    /// An ignored keepalived keyword and an unknown one are warnings: the file passes, and
    /// fails under `--strict`; `dump-config` lists both lines as not in effect.
    @Test func strictChecksFailOnIgnoredLinesAndDumpConfigShowsThem() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-cli-\(UUID().uuidString).conf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            global_defs {
              enable_snmp_vrrp
            }
            vrrp_instance X {
              interface eth0
              virtual_router_id 7
              frobnicate 3 { deep }
              virtual_ipaddress {
                10.0.0.7/32
              }
            }

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let plain = try overcast(["check-config", "-f", path])
        #expect(plain.status == 0, "\(plain.output)")
        #expect(plain.output.contains("\(path):2:3: warning: keepalived keyword 'enable_snmp_vrrp' is not supported by Overcast; ignored (SNMP"))
        #expect(plain.output.contains("\(path):7:3: warning: unknown keyword 'frobnicate' in vrrp_instance; ignored"))
        let strict = try overcast(["check-config", "--strict", "-f", path])
        #expect(strict.status == 1)
        #expect(strict.output.contains("\(path):2:3: error: keepalived keyword 'enable_snmp_vrrp'"), "\(strict.output)")
        #expect(strict.output.contains("\(path):7:3: error: unknown keyword 'frobnicate'"), "\(strict.output)")

        let text = try overcast(["dump-config", "-f", path])
        #expect(text.status == 0)
        #expect(text.output.contains("ignored, not in effect: \(path):2:3 enable_snmp_vrrp (SNMP"), "\(text.output)")
        #expect(text.output.contains("ignored, not in effect: \(path):7:3 frobnicate (unknown keyword)"), "\(text.output)")
        let json = try overcast(["dump-config", "--json", "-f", path])
        // The warnings come first (standard error); the document starts at the first line that opens it.
        let start = json.output.range(of: "\n{")?.upperBound ?? json.output.startIndex
        let body = json.output.hasPrefix("{") ? json.output : "{" + json.output[start...]
        let document = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let ignored = document?["ignored"] as? [[String: Any]] ?? []
        #expect(ignored.map { $0["keyword"] as? String } == ["enable_snmp_vrrp", "frobnicate"])
        #expect((document?["instances"] as? [[String: Any]])?.count == 1)
    }

    @Test func dumpConfigPrintsTheEffectiveConfigurationAsJSON() throws {
        let result = try overcast(["dump-config", "-f", "\(Self.root)/conf/article-lvs2-backup.conf", "--json"])
        #expect(result.status == 0)
        let json = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        let instance = (json?["instances"] as? [[String: Any]])?.first
        #expect(instance?["transport"] as? String == "unicast")
        #expect(instance?["version"] as? Int == 2)
        #expect(instance?["garpMasterDelay"] as? Double == 5)   // global_defs' default filled in
        #expect(instance?["accept"] as? Bool == true)   // Accept Mode: on, keepalived's default without vrrp_strict
    }

    /// `simulate` on two nodes' files: the article's pair agrees (exit 0); a copy of lvs2
    /// with the wrong password and lvs1's priority gives one error and one warning, each
    /// with both files' FILE:LINE, as JSON (exit 1); an invalid file stops the check (exit 2).
    @Test func simulateChecksTwoNodesFilesAsOneCluster() throws {
        let agree = try overcast(["simulate", "-f", "\(Self.root)/conf/article-lvs1-master.conf",
                                  "-f", "\(Self.root)/conf/article-lvs2-backup.conf"])
        #expect(agree.status == 0, "\(agree.output)")
        #expect(agree.output.contains("cluster check: 2 files, 1 virtual router: the nodes agree"), "\(agree.output)")

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-simulate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let lvs1 = directory + "/a.conf", lvs2 = directory + "/b.conf"
        try FileManager.default.copyItem(atPath: "\(Self.root)/conf/article-lvs1-master.conf", toPath: lvs1)
        let backup = try String(contentsOfFile: "\(Self.root)/conf/article-lvs2-backup.conf", encoding: .utf8)
        try backup.replacingOccurrences(of: "auth_pass 1111", with: "auth_pass 2222")
            .replacingOccurrences(of: "priority 100 ", with: "priority 101 ")
            .write(toFile: lvs2, atomically: true, encoding: .utf8)
        let result = try overcast(["simulate", "-f", lvs1, "-f", lvs2, "--json"])
        #expect(result.status == 1, "\(result.output)")
        let document = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        let check = document?["check"] as? [String: Any]
        #expect(check?["errors"] as? Int == 1 && check?["warnings"] as? Int == 1)
        let findings = check?["findings"] as? [[String: Any]] ?? []
        #expect(findings.map { $0["kind"] as? String } == ["auth-password-differs", "priority-tie"])
        let places = findings.map { finding in
            (finding["locations"] as? [[String: Any]] ?? []).map { "\($0["file"] as? String ?? "?"):\($0["line"] as? Int ?? 0)" }
        }
        #expect(places == [["\(lvs1):18", "\(lvs2):18"], ["\(lvs1):14", "\(lvs2):14"]])
        #expect(!result.output.contains("2222"))

        try "vrrp_instance X {\n  priority 500\n}\n".write(toFile: lvs2, atomically: true, encoding: .utf8)
        let invalid = try overcast(["simulate", "-f", lvs1, "-f", lvs2])
        #expect(invalid.status == 2)
        #expect(invalid.output.contains("\(lvs2):2:12: error: priority 500 is out of range 1-255"), "\(invalid.output)")
        #expect(try overcast(["simulate", "-f", lvs1]).status != 0)
    }

    /// This machine's kernel has no GRE: `overlay up` must say so, change nothing, and
    /// exit 1 (inside a namespace of its own, as root).
    @Test(.enabled(if: Prerequisites.available(commands: ["ip"], test: "overlay without GRE")))
    func overlayUpOnAKernelWithoutGRENamesTheModule() throws {
        guard !FileManager.default.fileExists(atPath: "/sys/module/ip_gre") else {
            print("SKIP overlay without GRE: this kernel has GRE (the kernel tier covers it)")
            return
        }
        let lab = try NetworkLab(dropsMulticast: false)
        defer { lab.teardown() }
        let node = try lab.addNode("n1", address: "172.31.18.163/16")
        let result = try ChildProcess.run(["ip", "netns", "exec", node.namespace, Binaries.overcast, "overlay", "up", "-f",
                                           "\(Self.root)/overlay/lvs1.conf"])
        #expect(result.status == 1)
        #expect(result.output.contains("GRE (gretap) is not available in this kernel (modprobe ip_gre)"), "\(result.output)")
        let links = try lab.exec(node, ["ip", "-o", "link", "show"])
        #expect(!links.contains("ovc0"))
    }

    /// genhash prints the MD5 of a real page, as keepalived's genhash does.
    @Test func genhashDigestsARealPage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-genhash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "hello\n".write(toFile: directory + "/index.html", atomically: true, encoding: .utf8)
        let port = 20000 + Int(getpid() % 20000) + 1
        let server = try ChildProcess(["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, "\(port)"])
        defer { server.stop() }
        var result: (status: Int32, output: String) = (1, "")
        for _ in 0..<100 where result.status != 0 {
            result = try overcast(["genhash", "--url", "http://127.0.0.1:\(port)/index.html"])
            if result.status != 0 { usleep(50_000) }
        }
        #expect(result.output.contains("MD5SUM = b1946ac92492d2347c6235b4d2611184"))   // md5("hello\n")
    }

    @Test func decodeDumpsAKeepalivedPacket() throws {
        let hex = "45c0002800010000ff701bd0ac1f12a3e00000122133960100017416c0a8140b0000000000000000"
        let result = try overcast(["decode", hex])
        #expect(result.status == 0)
        #expect(result.output.contains("VRRPv2, Advertisement, vrid 51, prio 150"))
        #expect(result.output.contains("checksum: valid"))
        #expect(try overcast(["decode", "45c0"]).status == 1)
    }

    @Test func demoRunsAndEndsAsTheProtocolRequires() throws {
        let result = try overcast(["demo", "--vrrp-version", "3", "--advert-int", "0.1"])
        #expect(result.status == 0)
        #expect(result.output.contains("split brain"))
        #expect(result.output.contains("Demo outcome: as the protocol requires."))
    }
}
