import Foundation
import Logging
import Testing
@testable import OvercastDaemon

@Suite struct ScriptRunnerTests {
    @Test(arguments: [
        ("/usr/bin/true", ["/usr/bin/true"]),
        ("/bin/x a  b", ["/bin/x", "a", "b"]),
        ("\"/opt/my scripts/x.sh\" arg", ["/opt/my scripts/x.sh", "arg"]),
        ("/bin/x \"\"", ["/bin/x", ""]),
        ("/bin/sh -c 'echo down >> /tmp/f'", ["/bin/sh", "-c", "echo down >> /tmp/f"]),
        ("", []),
    ])
    func commandLinesSplitLikeKeepalived(command: String, words: [String]) {
        #expect(ScriptRunner.words(command) == words)
    }

    @Test func scriptSecurityRefusesWhatOthersCouldChange() throws {
        let runner = ScriptRunner(policy: .init(enforceSecurity: true, user: nil, group: nil, timeout: 5),
                                  logger: Logger(label: "test"))
        #expect(runner.securityProblem("relative.sh")?.contains("not an absolute path") == true)
        #expect(runner.securityProblem("/nonexistent/x.sh")?.contains("does not exist") == true)
        #expect(runner.securityProblem("/usr/bin/true") == nil || getuid() != 0)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-sec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o755)
        let script = directory + "/s.sh"
        #expect(FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\n".utf8)))
        chmod(script, 0o757)
        #expect(runner.securityProblem(script) != nil)
        let open = ScriptRunner(policy: .init(enforceSecurity: false, user: nil, group: nil, timeout: 5), logger: Logger(label: "test"))
        #expect(open.securityProblem(script) == nil)
    }

    /// keepalived judges a script by the account it runs as: one that others could change
    /// is refused as root but may run as an unprivileged user, if that user can execute it.
    @Test func scriptSecurityJudgesTheAccountTheScriptRunsAs() throws {
        let nobody = try #require(ScriptRunner.knownAccount(of: "nobody"), "Debian always has the user nobody")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-sec-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o777)
        let script = directory + "/s.sh"
        #expect(FileManager.default.createFile(atPath: script, contents: Data("#!/bin/sh\n".utf8)))
        chmod(script, 0o755)
        let asRoot = ScriptRunner(policy: .init(enforceSecurity: true, user: nil, group: nil, timeout: 5), logger: Logger(label: "test"))
        #expect(asRoot.securityProblem(script)?.contains("writable by non-root users") == true)
        #expect(asRoot.securityProblem(script, user: "nobody") == nil)
        // The global script_user is the account when the script names none.
        let asNobody = ScriptRunner(policy: .init(enforceSecurity: true, user: "nobody", group: nil, timeout: 5), logger: Logger(label: "test"))
        #expect(asNobody.securityProblem(script) == nil)
        #expect(asNobody.securityProblem(script, user: "root") != nil)
        #expect(asNobody.securityProblem(script, user: "no-such-user-overcast")?.contains("no user") == true)
        // Executable by its owner only: not by nobody (a user in the others' class).
        chmod(script, 0o744)
        #expect(asNobody.securityProblem(script)?.contains("not executable by uid \(nobody.uid)") == true)
        // Writable by its group when that group is root's: keepalived's rule lets it run as root.
        var info = stat()
        #expect(stat(script, &info) == 0)
        if geteuid() == 0 && info.st_gid == 0 {
            chmod(directory, 0o755)
            chmod(script, 0o775)
            #expect(asRoot.securityProblem(script) == nil)
        }
    }
}
