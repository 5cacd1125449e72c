import ArgumentParser
import Config
import Doctor
import Foundation

/// `overcast doctor -f FILE [--json]`: a pre-flight check of this instance and its AWS
/// account for what the configuration needs, before the first failover needs it. It
/// reads only: Describe* calls and DryRun writes, with the daemon's own client,
/// credentials, IMDSv2 and endpoints.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "doctor",
        abstract: "Check this instance and its AWS account for what failover needs (read-only).",
        discussion: """
            One line per check, PASS, WARN or FAIL, with the command that fixes each WARN and FAIL. \
            Exit status: 0 when nothing FAILs, 1 when something does, 2 when the configuration \
            cannot be read or is invalid. Only Describe* calls and DryRun=true writes are sent.
            """)

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print a JSON array of {check, status, detail, fix}.")
    var json = false

    @Option(help: ArgumentHelp("The directory holding proc/, sys/ and lib/modules/ (for tests).", visibility: .hidden))
    var hostRoot = "/"

    func run() throws {
        guard FileManager.default.isReadableFile(atPath: options.file) else {
            FileHandle.standardError.write(Data("\(options.file): cannot be read\n".utf8))
            throw ExitCode(2)
        }
        let report = options.load()
        printDiagnostics(report)
        guard report.isValid else {
            FileHandle.standardError.write(Data("\(options.file): invalid configuration (see overcast check-config)\n".utf8))
            throw ExitCode(2)
        }
        let config = DoctorConfig(report.configuration)
        let queries = Doctor.hostQueries(config)
        let host = HostReader(root: hostRoot).read(modules: queries.modules, sysctls: queries.sysctls, interfaces: queries.interfaces)
        let account = AccountGatherer(config: config, host: host).gather()
        let findings = Doctor.check(config, account: account, host: host)
        print(json ? DoctorReport.json(findings) : DoctorReport.text(findings), terminator: "")
        if findings.exitStatus != 0 { throw ExitCode(findings.exitStatus) }
    }
}
