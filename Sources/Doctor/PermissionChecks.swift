/// Whether IAM lets the daemon make its writes, asked with DryRun=true: `DryRunOperation`
/// means allowed, `UnauthorizedOperation` denied. Doctor never writes for real.
extension Checkup {
    mutating func checkPermissions() {
        for probe in account.dryRuns {
            let what = "\(probe.action) \(probe.destination) in \(probe.table) (DryRun)"
            switch probe.outcome {
            case .allowed:
                add(.pass("iam", "\(what): allowed"))
            case .performed:
                add(.warn("iam", "\(what): the endpoint answered success instead of DryRunOperation, so it does not honour "
                          + "DryRun (it is not AWS) and may have made the change; doctor sent no further writes",
                          fix: "aws ec2 describe-route-tables --route-table-ids \(probe.table)"))
            case .failed(let error) where error.kind == .denied:
                add(.fail("iam", "\(what): denied (\(error.code ?? "UnauthorizedOperation")): the MASTER could not move the route",
                          fix: Fix.iamPolicy("overcast-routes-\(probe.table)", actions: ["ReplaceRoute", "CreateRoute"],
                                             resources: [Fix.routeTableARN(probe.table, region: region)],
                                             credentials: account.credentials.value)))
            case .failed(let error) where error.kind == .other:
                // AWS answered, but about something else than permission (the route is
                // missing, the table id is malformed): the permission stays unproven.
                add(.warn("iam", "\(what): could not confirm the permission: \(error.code ?? "") \(error.message)"))
            case .failed(let error):
                add(failure(error, check: "iam"))
            case .skipped:
                break
            }
        }
    }
}
