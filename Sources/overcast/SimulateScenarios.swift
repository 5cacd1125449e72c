import ArgumentParser
import ClusterCheck

/// The scenarios `--scenario` names: what `simulate` will run on the virtual clock
/// after the cluster check (issue 24, second half).
enum SimulationScenario: String, CaseIterable, ExpressibleByArgument, Sendable {
    case killMaster = "kill-master"
    case partition
    case reload
    case all

    /// `all` is every other one, in this order.
    var expanded: [SimulationScenario] {
        self == .all ? [.killMaster, .partition, .reload] : [self]
    }
}

/// What the scenarios produced: the text printed after the cluster check, and the value
/// of the JSON document's `scenarios`.
struct ScenarioResults {
    var text: String
    var json: any Encodable & Sendable
}

/// The hook point for the scenarios. `Simulate` calls it after the cluster check, with
/// the nodes it read and what the check found (a scenario may want to show a split brain
/// the check predicted, so it runs even when the check has errors). Until the simulator
/// runs users' configurations nothing runs here: nil, and `simulate` says so.
enum ScenarioHook {
    static func run(_ scenarios: [SimulationScenario], nodes: [ClusterNode], check: ClusterCheckReport) throws -> ScenarioResults? {
        nil
    }
}
