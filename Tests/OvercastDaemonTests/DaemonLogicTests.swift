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
}
