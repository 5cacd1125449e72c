import ArgumentParser
import ClusterCheck
import Config
import Foundation

/// `overcast simulate -f lvs1.conf -f lvs2.conf [...]`: every node's file read as its
/// daemon would read it, then the files compared as one cluster, because most split
/// brains come from two files that are each valid on their own. Exit status: 0 when no
/// finding is an error, 1 when one is, 2 when a file cannot be read or is invalid (the
/// cluster is then not checked, as `doctor` does).
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate",
        abstract: "Check the nodes' configuration files as one cluster: VRIDs, priorities, peers, auth, transports, routes.",
        discussion: """
            Give one file per node. Each mismatch is printed with the FILE:LINE of every file \
            involved, as an error (a split brain, or traffic left on the wrong node) or a warning \
            (legal but probably not meant). HMAC keys are compared when each node's key file is \
            readable here and is a file of its own (name copies relatively); keys are never printed. \
            See docs/simulate.md.
            """)

    @Option(name: .shortAndLong, help: "A node's configuration file (keepalived.conf syntax); one per node, at least two.")
    var file: [String] = []

    @Option(name: .customLong("config-id"),
            help: "Config id for @ID lines of the file at the same position (keepalived's -i); once per -f, or not at all.")
    var configIDs: [String] = []

    @Flag(help: "Print one JSON document: {diagnostics, check: {findings, virtualRouters, ...}, scenarios}.")
    var json = false

    @Option(help: "Scenarios to run on the virtual clock after the check: kill-master, partition, reload or all.")
    var scenario: SimulationScenario?

    func validate() throws {
        guard file.count >= 2 else {
            throw ValidationError("simulate needs the file of every node, at least two: -f lvs1.conf -f lvs2.conf")
        }
        guard configIDs.isEmpty || configIDs.count == file.count else {
            throw ValidationError("--config-id is given \(configIDs.count) times for \(file.count) files: once per -f, or not at all")
        }
        let ids = configIDs.isEmpty ? Array(repeating: "", count: file.count) : configIDs
        let nodes = zip(file, ids).map { path, id in
            URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path + " " + id
        }
        guard Set(nodes).count == nodes.count else {
            throw ValidationError("a file is given twice: each -f is one node (use --config-id to read one file as several nodes)")
        }
    }

    func run() throws {
        let loaded = file.indices.map { index in
            ClusterNodeLoader.load(path: file[index], configID: configIDs.indices.contains(index) ? configIDs[index] : nil)
        }
        let diagnostics = loaded.flatMap(\.diagnostics)
        guard loaded.allSatisfy(\.isValid) else {
            if json {
                print(try ClusterCheckOutput.json(SimulateDocument(diagnostics: diagnostics, check: nil)))
            } else {
                report(diagnostics)
                let invalid = loaded.filter { !$0.isValid }.map(\.node.file)
                report("simulate: \(invalid.joined(separator: ", ")) cannot be read or \(invalid.count == 1 ? "is" : "are") "
                       + "invalid (see overcast check-config); the cluster is not checked")
            }
            throw ExitCode(2)
        }
        let nodes = loaded.map(\.node)
        let check = ClusterCheck.run(nodes)
        let scenarios = try scenario.flatMap { try ScenarioHook.run($0.expanded, nodes: nodes, check: check) }
        if json {
            print(try ClusterCheckOutput.json(SimulateDocument(diagnostics: diagnostics, check: check, scenarios: scenarios?.json)))
        } else {
            report(diagnostics)
            print(ClusterCheckOutput.text(check))
            if let scenarios {
                print(scenarios.text)
            }
        }
        if check.hasErrors { throw ExitCode(1) }
    }

    /// Diagnostics go to standard error, as `check-config` prints them; with `--json`
    /// they are in the document instead, so standard output is JSON alone.
    private func report(_ diagnostics: [Diagnostic]) {
        for diagnostic in diagnostics { report(diagnostic.description) }
    }

    private func report(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
