import ArgumentParser
import ClusterCheck
import Config
import Foundation
import InstanceConfiguration
import NetworkTypes
import VRRP
import VRRPSimulation

/// The scenarios `--scenario` names, played on the virtual clock after the cluster check.
enum SimulationScenario: String, CaseIterable, ExpressibleByArgument, Sendable {
    case killMaster = "kill-master"
    case partition
    case reload
    case all

    /// `all` is every other one, in this order.
    var expanded: [ClusterScenario] {
        switch self {
        case .killMaster: [.killMaster]
        case .partition: [.partition]
        case .reload: [.reload]
        case .all: [.killMaster, .partition, .reload]
        }
    }
}

/// What the scenarios produced: the text printed after the cluster check, and the value
/// of the JSON document's `scenarios`.
struct ScenarioResults {
    var text: String
    var json: any Encodable & Sendable
}

/// The nodes' files as the simulator's hosts, and the scenarios played on them. Each
/// instance runs the daemon's own core and interpreter (`SimulatedCluster`). A scenario
/// runs even when the check found errors: it shows the split brain the check predicted.
enum ScenarioHook {
    static func run(_ scenarios: [ClusterScenario], nodes: [ClusterNode], check: ClusterCheckReport) throws -> ScenarioResults? {
        var notes: [String] = []
        let hosts = try hosts(nodes, notes: &notes)
        let reports = scenarios.map { SimulatedCluster.play($0, on: hosts) }
        var lines = notes
        for report in reports { lines += text(report) }
        return ScenarioResults(text: lines.joined(separator: "\n"), json: reports)
    }

    /// One host per file, named after it. An instance sends from its `unicast_src_ip` (or
    /// `mcast_src_ip`); without one it gets an address of TEST-NET-2, said in a note,
    /// since the peers' lists cannot name it.
    static func hosts(_ nodes: [ClusterNode], notes: inout [String]) throws -> [SimulatedHost] {
        var names: Set<String> = []
        return try nodes.enumerated().map { index, node in
            var name = URL(fileURLWithPath: node.file).deletingPathExtension().lastPathComponent
            if names.contains(name) { name += "#\(index + 1)" }
            names.insert(name)
            let config = node.configuration
            let instances = try config.instances.map { instance -> InstanceCore.Configuration in
                let source: IPv4Address
                if let configured = instance.unicastSrcIP ?? instance.mcastSrcIP {
                    source = configured
                } else {
                    source = IPv4Address(198, 51, 100, UInt8(clamping: index + 1))
                    notes.append("\(instance.location): vrrp_instance \(instance.name) has no unicast_src_ip: simulated from \(source)")
                }
                do { return try InstanceCore.Configuration(instance, in: config, source: source) } catch {
                    throw ValidationError("\(error)")
                }
            }
            let groups = Dictionary(config.syncGroups.map { ($0.name, $0.group) }, uniquingKeysWith: { first, _ in first })
            let running = Set(config.instances.map(\.name))
            let groupNotify = Dictionary(config.syncGroups.map {
                ($0.name, SyncGroupCore.Configuration($0, running: running, globals: config.globalDefs).notify)
            }, uniquingKeysWith: { first, _ in first })
            return SimulatedHost(name: name, instances: instances, syncGroups: groups, groupNotify: groupNotify)
        }
    }

    static func text(_ report: ScenarioReport) -> [String] {
        func owners(_ list: [ScenarioReport.Owner]) -> String {
            list.map { "VRID \($0.virtualRouterID): \($0.masters.isEmpty ? "no MASTER" : $0.masters.joined(separator: " + "))" }
                .joined(separator: ", ")
        }
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.3f s", $0) } ?? "none" }
        var lines = ["", "== scenario \(report.scenario.rawValue) on \(report.victim) (virtual time from the fault)"]
        lines += report.timeline.map { String(format: "%9.3fs  ", $0.seconds) + "\($0.node)  \($0.text)" }
        lines.append("before: \(owners(report.before))")
        lines.append("during: \(owners(report.during))")
        lines.append("after:  \(owners(report.after))")
        lines.append("predicted takeover: \(seconds(report.takeoverSeconds)) (worst case: the fault right after an advertisement)")
        if report.convergenceSeconds != nil || report.scenario != .killMaster {
            lines.append("back to one MASTER per VRID: \(seconds(report.convergenceSeconds)) after "
                         + (report.scenario == .partition ? "healing" : report.scenario == .reload ? "the reload" : "the restart"))
        }
        let splits = report.during.filter { $0.masters.count > 1 }
        if !splits.isEmpty { lines.append("split brain while it lasts: \(owners(splits))") }
        return lines
    }
}
