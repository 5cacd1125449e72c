import Foundation
import Testing
import Lab

/// Namespace tier: a track script that hangs is killed at its timeout and counts as a
/// failure (weight 0: FAULT, the backup takes over); the script process does not stay.
@Suite struct HangingScriptTests {
    @Test(.enabled(if: VPCLab.available(commands: ["ip", "ps"], test: "hanging track script")))
    func aHangingTrackScriptIsKilledAtItsTimeoutAndFaultsTheInstance() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        let flag = lab.path("hang")
        // Exits 0 at once until the flag exists, then sleeps far past its timeout. The
        // duration is this run's own: `ps` sees every process of the host, not only the lab's.
        let hang = "sleep 300.\(UInt32.random(in: 100_000...999_999))"
        let script = lab.path("check.sh")
        try "#!/bin/sh\nif [ -e \(flag) ]; then exec \(hang); fi\nexit 0\n".write(toFile: script, atomically: true, encoding: .utf8)
        #expect(chmod(script, 0o755) == 0)
        let config = """
            vrrp_script chk {
              script "/bin/sh \(script)"
              interval 1
              timeout 0.5
              fall 1
              rise 1
            }

            """ + LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"],
                              extra: ["track_script {", "  chk", "}"]).text
        _ = try lab.startOvercast(n1, config: config)
        _ = try lab.startOvercast(n2, config: LabInstance(priority: 100, version: 3, advertInt: "0.2", source: "172.31.18.11",
                                                          peers: ["172.31.18.10"]).text)
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.state(n2) == "BACKUP" }, "\(lab.log(n1))")

        #expect(FileManager.default.createFile(atPath: flag, contents: Data()))
        #expect(waitUntil(timeout: 5) { lab.state(n1) == "FAULT" && lab.state(n2) == "MASTER" }, "\(lab.log(n1))")
        #expect(waitUntil(timeout: 3) { lab.log(n1).contains("script killed after its timeout") })
        // Killed, not left behind: no hanging script lives much past its 0.5-s timeout
        // (a new one starts every second, so one may be running at any moment).
        usleep(2_500_000)
        let processes = (try? lab.exec(n1, ["ps", "-eo", "etimes=,pid=,ppid=,pgid=,args="])) ?? ""
        let old = processes.split(separator: "\n").filter { line in
            let fields = line.split(separator: " ", maxSplits: 4, omittingEmptySubsequences: true)
            return fields.count == 5 && fields[4] == hang && (Int(fields[0]) ?? 0) >= 2
        }
        #expect(old.isEmpty, "hanging scripts alive for 2 s or more (etimes pid ppid pgid args): \(old)\n\(lab.log(n1))")
        #expect(lab.holders("192.168.20.11", among: [n1, n2]) == ["n2"])

        try FileManager.default.removeItem(atPath: flag)
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" && lab.holders("192.168.20.11", among: [n1, n2]) == ["n1"] })
    }
}
