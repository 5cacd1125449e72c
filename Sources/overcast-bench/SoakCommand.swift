import ArgumentParser
import Foundation
import Lab

/// `overcast-bench soak`: the randomized fault soak (docs/soak.md). Exits non-zero when an
/// invariant was violated; the report names the seed that replays the run.
struct SoakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Injects a seeded schedule of overlapping faults into a 3-node cluster and checks the invariants.")

    @Option(help: "The schedule's seed (default: a random one, printed).")
    var seed: UInt64?

    @Option(help: "How long the faults run, in seconds (the last 5 s are quiet).")
    var seconds: Double = 60

    @Option(help: "VRRP version (2 or 3).")
    var version = 3

    @Option(help: "How advertisements travel: \(SoakRunner.Transport.allCases.map(\.rawValue).joined(separator: ", ")).")
    var transport = "unicast"

    @Flag(help: "HMAC-SHA256 authentication on every advertisement.")
    var hmac = false

    @Option(help: "advert_int in seconds (VRRPv2 rounds it up to whole seconds).")
    var advertInterval = 0.2

    @Option(help: "Write the report as JSON to this file (for soak-report).")
    var json: String?

    @Flag(help: "Two web servers behind the VIP (IPVS DR, HTTP_GET checks) and a client, with the web servers' faults (kernel-tier VM: IPVS).")
    var web = false

    @Option(help: "Where a run with a violation keeps its logs (overcast-soak-SEED in it).")
    var keepDirectory = "/tmp"

    @Option(help: "Mean time between faults, in seconds.")
    var meanGap = 1.5

    @Option(help: "Only these fault kinds (repeatable): \(FaultSchedule.Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var fault: [String] = []

    func validate() throws {
        guard [2, 3].contains(version) else { throw ValidationError("--version must be 2 or 3") }
        guard SoakRunner.Transport(rawValue: transport) != nil else { throw ValidationError("unknown transport '\(transport)'") }
        guard advertInterval >= 0.01 && advertInterval <= 40 else { throw ValidationError("--advert-interval must be 0.01 to 40 s") }
        guard seconds >= 10 else { throw ValidationError("--seconds must be at least 10") }
        for name in fault where FaultSchedule.Kind(rawValue: name) == nil {
            throw ValidationError("unknown fault kind '\(name)'")
        }
    }

    func run() throws {
        var options = SoakRunner.Options(seed: seed ?? UInt64.random(in: 1...UInt64(UInt32.max)), seconds: seconds)
        options.version = version
        options.transport = SoakRunner.Transport(rawValue: transport) ?? .unicast
        options.advertInterval = advertInterval
        options.keepDirectory = keepDirectory
        options.webServers = web
        options.hmac = hmac
        options.meanGap = meanGap
        if !fault.isEmpty { options.kinds = fault.compactMap(FaultSchedule.Kind.init(rawValue:)) }
        let log: (String) -> Void = { FileHandle.standardError.write(Data(("soak: " + $0 + "\n").utf8)) }
        let report = try SoakRunner(options: options, log: log).run()
        print(report.text)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(report).write(to: URL(fileURLWithPath: json))
        }
        if !report.violations.isEmpty { throw ExitCode(1) }
    }
}

/// `overcast-bench soak-report FILE...`: the Markdown table of soak runs written with
/// `soak --json` (what scripts/soak.sh puts in BENCHMARKS.md).
struct SoakReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak-report", abstract: "Prints the Markdown table of soak runs saved with soak --json.")

    @Argument(help: "Reports written by soak --json, in the order of the table's rows.")
    var files: [String]

    func run() throws {
        let reports = try files.map { file in
            do { return try JSONDecoder().decode(SoakReport.self, from: Data(contentsOf: URL(fileURLWithPath: file))) } catch {
                throw ValidationError("\(file): not a soak report (\(error))")
            }
        }
        print(SoakReport.markdown(reports), terminator: "")
    }
}
