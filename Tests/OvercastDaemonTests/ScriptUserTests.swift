import Config
import Testing
@testable import OvercastDaemon

/// The users a configuration's scripts run as are known when it is read, and a script
/// run as one of them gets that user's primary group (nobody's is nogroup, 65534).
@Suite struct ScriptUserTests {
    @Test func everyScriptsUserIsCollectedAndItsGroupLearnt() throws {
        let report = ConfigurationLoader.load(text: """
            global_defs {
              script_user daemon
            }
            vrrp_script chk {
              script /bin/true
              user nobody
            }
            vrrp_instance VI_1 {
              interface eth0
              virtual_router_id 51
              notify_master /bin/true bin
            }
            """, verifyAuthKeyFiles: false)
        try #require(report.isValid, "\(report.diagnostics)")
        #expect(report.configuration.scriptUsers == ["daemon", "nobody", "bin"])
        ScriptRunner.learnAccounts(of: report.configuration.scriptUsers)
        let gid = try #require(ScriptRunner.knownAccount(of: "nobody")?.gid, "Debian always has the user nobody")
        #expect(ScriptRunner.asUser(["/bin/true"], user: "nobody", group: nil)
                == ["setpriv", "--reuid=nobody", "--regid=\(gid)", "--init-groups", "--", "/bin/true"])
        #expect(ScriptRunner.asUser(["/bin/true"], user: "root", group: nil) == ["/bin/true"])
    }
}
