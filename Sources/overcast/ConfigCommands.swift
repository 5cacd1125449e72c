import ArgumentParser
import Config
import Foundation
import LinuxNet

/// Options shared by the commands that read a configuration.
struct ConfigOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "The configuration file (keepalived.conf syntax).")
    var file: String = "/etc/overcast/overcast.conf"

    @Option(name: [.customShort("i"), .long], help: "Config id for @ID conditional lines (keepalived's -i).")
    var configID: String?

    /// Reads the file; interface names of this host make missing interfaces warnings.
    func load() -> ConfigurationReport {
        let interfaces = (try? NetlinkSocket(.route).links()).map { Set($0.map(\.name)) }
        return ConfigurationLoader.load(path: file, configID: configID, hostInterfaces: interfaces)
    }
}

func printDiagnostics(_ report: ConfigurationReport) {
    for diagnostic in report.diagnostics {
        FileHandle.standardError.write(Data((diagnostic.description + "\n").utf8))
    }
}

/// `overcast check-config -f FILE [--strict]`: exit 0 when valid, 1 with one line per problem.
struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config",
        abstract: "Check a configuration file; print FILE:LINE:COL: error|warning: ... for each problem.")

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Treat every warning as an error: an ignored or unknown keyword fails the check (for CI of configuration files).")
    var strict = false

    func run() throws {
        let report = strict ? options.load().strict() : options.load()
        printDiagnostics(report)
        let c = report.configuration
        let errors = report.diagnostics.filter { $0.severity == .error }.count
        let warnings = report.diagnostics.count - errors
        if errors > 0 {
            print("\(options.file): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")")
            throw ExitCode(1)
        }
        print("\(options.file): OK: \(c.instances.count) vrrp_instance, \(c.virtualServers.count) virtual_server, "
              + "\(c.overlays.count) overlay; \(warnings) warning\(warnings == 1 ? "" : "s")")
    }
}

/// `overcast dump-config -f FILE [--json]`: the effective configuration.
struct DumpConfig: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "dump-config",
        abstract: "Print the effective configuration with defaults filled in.")

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Print JSON.")
    var json = false

    func run() throws {
        let report = options.load()
        printDiagnostics(report)
        guard report.isValid else { throw ExitCode(1) }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            // Secrets stay out of dumps: the PASS password is shown as redacted (the HMAC
            // key is never in the model, only its file).
            var shown = report.configuration
            for index in shown.instances.indices where shown.instances[index].authPass != nil {
                shown.instances[index].authPass = "(redacted)"
            }
            print(String(decoding: try encoder.encode(DumpDocument(configuration: shown, ignored: report.ignored)), as: UTF8.self))
        } else {
            print(ConfigurationSummary.text(report.configuration))
            for line in report.ignored {
                print("ignored, not in effect: \(line.location) \(line.keyword) (\(line.reason))")
            }
        }
    }
}

/// `dump-config --json`: the effective configuration's fields at the top level, as
/// before, and `ignored`, the lines read and not in effect.
private struct DumpDocument: Encodable {
    var configuration: OvercastConfiguration
    var ignored: [IgnoredStatement]

    private enum Key: String, CodingKey { case ignored }

    func encode(to encoder: any Encoder) throws {
        try configuration.encode(to: encoder)
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(ignored, forKey: .ignored)
    }
}
