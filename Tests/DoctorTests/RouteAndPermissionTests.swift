@testable import Doctor
@testable import EC2
import Testing

/// Route tables, VIP placement and the DryRun writes on hand-built facts.
@Suite struct RouteAndPermissionTests {
    @Test func aMissingRouteTableFails() throws {
        var account = Fixture.account()
        account.routeTables = .value([])
        account.dryRuns = []
        let failed = Fixture.run(try Fixture.config(), account).with(.fail, "route-table")
        #expect(failed.count == 1 && failed[0].detail.contains("rtb-1 does not exist"))
        #expect(failed[0].fix?.contains("describe-route-tables --filters Name=vpc-id,Values=vpc-1") == true)
    }

    @Test func aRouteTableOfAnotherVPCFails() throws {
        var account = Fixture.account()
        account.routeTables = .value([Fixture.table(vpc: "vpc-other")])
        let failed = Fixture.run(try Fixture.config(), account).with(.fail, "route-table")
        #expect(failed.count == 1 && failed[0].detail.contains("vpc-other") && failed[0].detail.contains("vpc-1"))
    }

    @Test func aTableWithoutTheRouteWarnsThatTheMasterWillCreateIt() throws {
        var account = Fixture.account()
        account.routeTables = .value([Fixture.table(routes: [EC2Route(destination: "172.31.0.0/16", gatewayID: "local")])])
        let findings = Fixture.run(try Fixture.config(), account)
        #expect(findings.with(.warn, "route-table").map(\.detail) == ["rtb-1: no route for 192.168.20.11/32 yet; the MASTER will create it"])
        #expect(findings.exitStatus == 0)
    }

    @Test func whereTheRoutePointsIsSaid() throws {
        func routed(_ route: EC2Route) throws -> [DoctorFinding] {
            var account = Fixture.account()
            account.routeTables = .value([Fixture.table(routes: [route])])
            return Fixture.run(try Fixture.config(), account).filter { $0.check == "route-table" }
        }
        let toPeer = try routed(EC2Route(destination: "192.168.20.11/32", instanceID: "i-2", state: "active"))
        #expect(toPeer.map(\.status) == [.pass] && toPeer[0].detail.contains("peer 172.31.18.164"))
        let byENI = try routed(EC2Route(destination: "192.168.20.11/32", networkInterfaceID: "eni-1", state: "active"))
        #expect(byENI.map(\.status) == [.pass] && byENI[0].detail.contains("this node"))
        let blackhole = try routed(EC2Route(destination: "192.168.20.11/32", instanceID: "i-gone", state: "blackhole"))
        #expect(blackhole.map(\.status) == [.warn] && blackhole[0].detail.contains("blackhole"))
        let stranger = try routed(EC2Route(destination: "192.168.20.11/32", instanceID: "i-9", state: "active"))
        #expect(stranger.map(\.status) == [.warn] && stranger[0].detail.contains("not a node"))
    }

    @Test func aTableThatServesNoSubnetWarns() throws {
        var account = Fixture.account()
        account.routeTables = .value([Fixture.table(associated: false)])
        let warned = Fixture.run(try Fixture.config(), account).with(.warn, "route-table")
        #expect(warned.count == 1 && warned[0].fix?.hasPrefix("aws ec2 associate-route-table --route-table-id rtb-1") == true)
    }

    @Test func aVIPInsideTheVPCFailsNamingTheBlockAndSubnet() throws {
        let findings = Fixture.run(try Fixture.config(vip: "172.31.20.5"))
        let failed = findings.with(.fail, "vip")
        #expect(failed.count == 1, "\(findings.dump)")
        #expect(failed[0].detail.contains("172.31.0.0/16") && failed[0].detail.contains("subnet-a"))
        #expect(findings.exitStatus == 1)
        // A second CIDR block counts as well.
        var account = Fixture.account()
        account.vpc = .value(EC2VPC(id: "vpc-1", cidrBlocks: ["172.31.0.0/16", "192.168.0.0/16"]))
        #expect(Fixture.run(try Fixture.config(), account).with(.fail, "vip").count == 1)
    }

    @Test func anInstanceWithoutRouteFailoverWarns() throws {
        let findings = Fixture.run(try Fixture.config(failover: nil))
        #expect(findings.with(.warn, "route-table").first?.detail.contains("no ec2_route_failover") == true, "\(findings.dump)")
    }

    @Test func dryRunAnswersDecideTheIAMLines() throws {
        func outcome(_ outcome: DryRunProbe.Outcome) throws -> [DoctorFinding] {
            var account = Fixture.account()
            account.dryRuns = [DryRunProbe(action: "ReplaceRoute", table: "rtb-1", destination: "192.168.20.11/32", outcome: outcome)]
            return Fixture.run(try Fixture.config(), account).filter { $0.check == "iam" }
        }
        #expect(try outcome(.allowed).map(\.status) == [.pass])
        let denied = try outcome(.failed(APIError(action: "ReplaceRoute", kind: .denied, code: "UnauthorizedOperation",
                                                  message: "UnauthorizedOperation: You are not authorized")))
        #expect(denied.map(\.status) == [.fail])
        let policy = try #require(denied.first?.fix)
        #expect(policy.hasPrefix("aws iam put-role-policy --role-name overcast-role --policy-name overcast-routes-rtb-1 "), "\(policy)")
        #expect(policy.contains("\"Action\":[\"ec2:ReplaceRoute\",\"ec2:CreateRoute\"]"))
        #expect(policy.contains("\"Resource\":\"arn:aws:ec2:eu-west-1:*:route-table/rtb-1\""))
        #expect(try outcome(.performed).map(\.status) == [.warn])
        #expect(try outcome(.failed(APIError(action: "ReplaceRoute", kind: .other, code: "InvalidParameterValue", message: "no route"))).map(\.status) == [.warn])
        #expect(try outcome(.failed(APIError(action: "ReplaceRoute", kind: .throttled, code: "RequestLimitExceeded", message: "slow down"))).map(\.status) == [.fail])
        #expect(try outcome(.skipped("no")).isEmpty)
    }

    @Test func theDryRunRequestCarriesDryRunAndNothingElseChanges() {
        let request = EC2Request.replaceRoute(table: "rtb-1", destination: "192.168.20.11/32", target: .instance("i-1"))
        #expect(!request.isDryRun && request.dryRun.isDryRun)
        #expect(request.dryRun.formBody == request.formBody + "&DryRun=true")
        #expect(request.dryRun.dryRun.formBody == request.dryRun.formBody)
        #expect(EC2Failure.service(code: "DryRunOperation", message: "", requestID: nil, httpStatus: 412).isDryRunSuccess)
        #expect(EC2Failure.service(code: "UnauthorizedOperation", message: "", requestID: nil, httpStatus: 403).isAuthorizationFailure)
    }
}
