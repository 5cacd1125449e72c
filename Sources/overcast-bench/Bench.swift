import ArgumentParser
import Foundation

/// `overcast-bench`: builds its own labs, runs each case several times, and prints
/// median and p99 beside the reference measured in the same run. Results go to a table
/// on stdout and, with --json / --svg, to files. `--from` adds the rows of earlier runs
/// (e.g. the kernel-tier VM's) to what is printed and written.
@main
struct BenchTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overcast-bench",
        abstract: "Benchmarks Overcast against its reference implementations, in labs it builds itself.",
        subcommands: [Bench.self, SoakCommand.self, SoakReportCommand.self], defaultSubcommand: Bench.self)
}

/// The benchmark cases (the default subcommand: `overcast-bench --quick failover`).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cases",
        abstract: "Runs benchmark cases against the reference implementations measured in the same run.")

    static let hostCases = ["failover", "adverts", "route", "idle", "health"]
    static let kernelCases = ["ipvs"]

    @Argument(help: "Cases: failover, adverts, route, idle (any kernel); health (with keepalived only where IPVS exists); ipvs (needs IPVS). Default: all this kernel can run.")
    var cases: [String] = []

    @Flag(help: "Small counts: checks that every case runs (CI).")
    var quick = false

    @Option(help: "Runs per variant (default: 3 quick, 20 full; cases with long windows use fewer).")
    var runs: Int?

    @Option(help: "Real servers in the health case (a multiple of 4; targets are judged at 1000).")
    var healthServers = 1000

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    @Option(help: "Write a chart of the results (median bars, p99 marks) as SVG to this file.")
    var svg: String?

    @Option(help: "Write the table as Markdown (for BENCHMARKS.md) to this file.")
    var markdown: String?

    @Option(help: "Only these transports in failover and adverts (repeatable): 'overcast unicast', 'overcast replicate', 'overcast gre', 'keepalived unicast'.")
    var transport: [String] = []

    @Option(help: "Rows of an earlier run's --json to include (repeatable); with no case named, nothing is run.")
    var from: [String] = []

    func validate() throws {
        // Real server i answers on 10.9.(i / 250).(i % 250 + 1), 4 per virtual server.
        guard healthServers > 0, healthServers % HealthCheckBenchmark.perService == 0, healthServers <= 250 * 250 else {
            throw ValidationError("--health-servers must be a multiple of \(HealthCheckBenchmark.perService) from 4 to 62500, not \(healthServers)")
        }
    }

    func run() throws {
        var rows: [ResultRow] = []
        for file in from {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            do { rows += try JSONDecoder().decode([ResultRow].self, from: data) } catch {
                throw ValidationError("\(file): not a results file of overcast-bench (\(error))")
            }
        }
        let wanted: [String]
        if !cases.isEmpty {
            wanted = cases
        } else if !from.isEmpty {
            wanted = []
        } else {
            wanted = Self.hostCases + (KernelFeatures.hasIPVS ? Self.kernelCases : [])
            if !KernelFeatures.hasIPVS {
                FileHandle.standardError.write(Data("bench: this kernel has no IPVS: ipvs, and keepalived's checker in health, run in the VM (scripts/bench.sh)\n".utf8))
            }
        }
        let count = runs ?? (quick ? 3 : 20)
        BenchTransport.only = transport
        let environment = Self.environment()
        let log: (String) -> Void = { FileHandle.standardError.write(Data(("bench: " + $0 + "\n").utf8)) }
        for name in wanted {
            var fresh: [ResultRow]
            switch name {
            case "failover": fresh = try FailoverBenchmark(runs: count, quick: quick, log: log).run()
            case "adverts": fresh = try AdvertPathBenchmark(runs: count, quick: quick, log: log).run()
            case "route": fresh = try RouteBenchmark(runs: count, log: log).run()
            case "idle": fresh = try IdleBenchmark(runs: count, quick: quick, log: log).run()
            case "ipvs": fresh = try IPVSBenchmark(runs: count, quick: quick, log: log).run()
            case "health": fresh = try HealthCheckBenchmark(runs: count, quick: quick, servers: healthServers, log: log).run()
            default: throw ValidationError("unknown case '\(name)' (known: \((Self.hostCases + Self.kernelCases).joined(separator: ", ")))")
            }
            for index in fresh.indices { fresh[index].environment = environment }
            rows += fresh
        }
        print(Table.render(rows))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
        }
        if let markdown {
            try Table.markdown(rows).write(toFile: markdown, atomically: true, encoding: .utf8)
        }
        if let svg {
            try Chart.svg(rows).write(toFile: svg, atomically: true, encoding: .utf8)
        }
    }

    /// Where the numbers come from: the kernel, and whether it is the emulated VM (where
    /// every CPU cycle is emulated, so only ratios within the VM mean anything).
    static func environment() -> String {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        return "Linux \(release), \(cpus) CPUs" + (isEmulated ? ", emulated VM (TCG), clock source \(clockSource)" : "")
    }

    /// The kernel's clock source. In the VM it decides what a clock read costs: HPET is a
    /// trapped device access on every read, TSC (`KT_APPEND=tsc=reliable`) is read in user
    /// space as on real hardware.
    static var clockSource: String {
        let path = "/sys/devices/system/clocksource/clocksource0/current_clocksource"
        return ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "unknown").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Inside the kernel tier's VM, whose CPUs are emulated.
    static var isEmulated: Bool { ProcessInfo.processInfo.environment["OVERCAST_KERNEL_TIER"] == "1" }
}
