import ArgumentParser
import Foundation

/// `overcast-bench`: builds its own labs, runs each case several times, and prints
/// median and p99 beside the reference measured in the same run. Results go to a table
/// on stdout and, with --json, to a file.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overcast-bench",
        abstract: "Benchmarks Overcast against its reference implementations, in labs it builds itself.")

    @Argument(help: "Cases to run: failover, route (all when none is given).")
    var cases: [String] = []

    @Flag(help: "Small counts: checks that every case runs (CI).")
    var quick = false

    @Option(help: "Runs per variant (default: 3 quick, 20 full).")
    var runs: Int?

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    func run() throws {
        let wanted = cases.isEmpty ? ["failover", "route"] : cases
        let count = runs ?? (quick ? 3 : 20)
        var rows: [ResultRow] = []
        let log: (String) -> Void = { FileHandle.standardError.write(Data(("bench: " + $0 + "\n").utf8)) }
        for name in wanted {
            switch name {
            case "failover": rows += try FailoverBenchmark(runs: count, quick: quick, log: log).run()
            case "route": rows += try RouteBenchmark(runs: count, log: log).run()
            default: throw ValidationError("unknown case '\(name)' (known: failover, route)")
            }
        }
        print(Table.render(rows))
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(rows).write(to: URL(fileURLWithPath: json))
        }
    }
}
