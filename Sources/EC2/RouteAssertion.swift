import Foundation

/// Making a set of /32 routes point at this node: the decisions (pure) and the calls
/// that carry them out.
public enum RouteStep: Sendable, Hashable {
    /// Already pointing at the target.
    case inPlace
    /// The route exists and points elsewhere (or nowhere): ReplaceRoute.
    case replace(previous: String)
    /// No such route: CreateRoute.
    case create
}

public enum RoutePlan {
    public static func step(_ table: EC2RouteTable, destination: String, target: RouteTarget) -> RouteStep {
        guard let route = table.route(to: destination) else { return .create }
        return route.points(at: target) ? .inPlace : .replace(previous: route.targetDescription)
    }

    /// ReplaceRoute's answer when the route does not exist. AWS says InvalidParameterValue
    /// ("There is no route defined for ... Use CreateRoute instead"); some regions and
    /// older API versions say InvalidRoute.NotFound.
    public static func isMissingRoute(_ failure: EC2Failure) -> Bool {
        guard case .service(let code, let message, _, _) = failure else { return false }
        return code == "InvalidRoute.NotFound" || (code == "InvalidParameterValue" && message.contains("CreateRoute"))
    }
}

/// What one assertion did.
public struct RouteAssertionReport: Sendable, Hashable {
    public struct Change: Sendable, Hashable {
        public var table: String
        public var destination: String
        /// What the route pointed at before, nil when it was created.
        public var previous: String?
    }

    public var changes: [Change] = []
    /// Every route was read back pointing at the target.
    public var confirmed = false
    public var calls = 0
}

extension EC2Client {
    /// Makes every destination in every table point at `target` and reads them back.
    ///
    /// `writeFirst` (on becoming MASTER) writes at once without reading first: a
    /// ReplaceRoute is atomic, so the route never goes missing, and skipping the read
    /// saves a round trip on the failover path. Otherwise (the periodic refresh) it reads
    /// first and writes only what points elsewhere, so a healthy MASTER writes nothing.
    /// Writes stop as soon as `mayWrite()` is false: a node that is no longer MASTER
    /// never writes.
    public func assertRoutes(tables: [String], destinations: [String], target: RouteTarget, writeFirst: Bool,
                             mayWrite: () -> Bool) throws(EC2Failure) -> RouteAssertionReport {
        var report = RouteAssertionReport()
        var current: [EC2RouteTable]? = nil
        if !writeFirst {
            current = try describeRouteTables(tables)
            report.calls += 1
        }
        for table in tables {
            for destination in destinations {
                var step = RouteStep.replace(previous: "unknown")
                if let current {
                    guard let found = current.first(where: { $0.id == table }) else {
                        throw .configuration("route table \(table) was not in the DescribeRouteTables answer")
                    }
                    step = RoutePlan.step(found, destination: destination, target: target)
                }
                guard step != .inPlace else { continue }
                guard mayWrite() else { return report }
                let previous = try write(step, table: table, destination: destination, target: target, mayWrite: mayWrite,
                                         report: &report)
                report.changes.append(.init(table: table, destination: destination, previous: previous))
            }
        }
        if current != nil && report.changes.isEmpty {
            report.confirmed = true
            return report
        }
        report.confirmed = try confirm(tables: tables, destinations: destinations, target: target, report: &report)
        return report
    }

    /// One write; returns what the route pointed at before (nil when it was created,
    /// "unknown" when it was replaced without reading it first).
    private func write(_ step: RouteStep, table: String, destination: String, target: RouteTarget, mayWrite: () -> Bool,
                       report: inout RouteAssertionReport) throws(EC2Failure) -> String? {
        if case .replace(let previous) = step {
            do {
                report.calls += 1
                try replaceRoute(table: table, destination: destination, target: target, shouldContinue: mayWrite)
                return previous
            } catch where RoutePlan.isMissingRoute(error) {
                guard mayWrite() else { throw error }
            }
        }
        do {
            report.calls += 1
            try createRoute(table: table, destination: destination, target: target, shouldContinue: mayWrite)
        } catch {
            // Another writer created it between our calls: replace it instead.
            guard case .service("RouteAlreadyExists", _, _, _) = error, mayWrite() else { throw error }
            report.calls += 1
            try replaceRoute(table: table, destination: destination, target: target, shouldContinue: mayWrite)
        }
        return nil
    }

    /// Reads the routes back; EC2's control plane is eventually consistent, so a read
    /// that still shows the old target is repeated a few times before giving up.
    private func confirm(tables: [String], destinations: [String], target: RouteTarget,
                         report: inout RouteAssertionReport) throws(EC2Failure) -> Bool {
        for attempt in 0..<4 {
            let read = try describeRouteTables(tables)
            report.calls += 1
            let all = tables.allSatisfy { id in
                guard let table = read.first(where: { $0.id == id }) else { return false }
                return destinations.allSatisfy { RoutePlan.step(table, destination: $0, target: target) == .inPlace }
            }
            if all { return true }
            Thread.sleep(forTimeInterval: 0.05 * Double(1 << attempt))
        }
        return false
    }
}
