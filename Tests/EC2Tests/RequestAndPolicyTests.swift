import Foundation
import Testing
@testable import EC2

/// Requests as they go on the wire, the retry schedule, which failures are retried, and
/// the route decisions.
@Suite struct RequestAndPolicyTests {
    @Test func formBodyEncodesLikeAWSCanonicalises() {
        let request = EC2Request.replaceRoute(table: "rtb-1", destination: "192.168.20.11/32", target: .instance("i-9"))
        #expect(request.formBody
            == "Action=ReplaceRoute&Version=2016-11-15&RouteTableId=rtb-1&DestinationCidrBlock=192.168.20.11%2F32&InstanceId=i-9")
        #expect(EC2Request.encode("a b+c~_.-é") == "a%20b%2Bc~_.-%C3%A9")
        let eni = EC2Request.createRoute(table: "rtb-1", destination: "10.0.0.1/32", target: .networkInterface("eni-2"))
        #expect(eni.formBody.hasSuffix("&NetworkInterfaceId=eni-2"))
        #expect(EC2Request.describeRouteTables(["rtb-a", "rtb-b"]).formBody
            == "Action=DescribeRouteTables&Version=2016-11-15&RouteTableId.1=rtb-a&RouteTableId.2=rtb-b")
    }

    @Test func backoffIsBoundedExponentialWithFullJitter() {
        let policy = RetryPolicy(maxAttempts: 5, baseDelay: 0.1, maxDelay: 1)
        #expect(policy.delay(afterAttempt: 0, random: 0.999) < 0.1)
        #expect(abs(policy.delay(afterAttempt: 2, random: 0.5) - 0.2) < 1e-9)
        #expect(policy.delay(afterAttempt: 10, random: 0.999) <= 1)
        #expect(policy.delay(afterAttempt: 10_000, random: 1) == 1)
        #expect(policy.delay(afterAttempt: 3, random: 0) == 0)
        #expect(policy.delay(afterAttempt: -4, random: 7) == 0.1)
    }

    @Test func retriesThrottlingServerErrorsAndSilenceButNotClientErrors() {
        func service(_ code: String, _ status: Int) -> EC2Failure { .service(code: code, message: "", requestID: nil, httpStatus: status) }
        #expect(service("RequestLimitExceeded", 503).isRetryable)
        #expect(service("InternalError", 500).isRetryable)
        #expect(service("ExpiredToken", 400).isRetryable && service("ExpiredToken", 400).wantsFreshCredentials)
        #expect(!service("UnauthorizedOperation", 403).isRetryable)
        #expect(!service("InvalidRouteTableID.NotFound", 400).isRetryable)
        #expect(EC2Failure.http(status: 503, detail: "").isRetryable)
        #expect(!EC2Failure.http(status: 404, detail: "").isRetryable)
        #expect(EC2Failure.malformed(action: "X", detail: "").isRetryable)
        #expect(!EC2Failure.configuration("no credentials").isRetryable)
    }

    @Test func decidesReplaceCreateOrNothingPerRoute() {
        let table = EC2RouteTable(id: "rtb-1", routes: [
            EC2Route(destination: "192.168.20.11/32", instanceID: "i-a", state: "active"),
            EC2Route(destination: "192.168.20.12/32", networkInterfaceID: "eni-b", state: "blackhole"),
        ])
        #expect(RoutePlan.step(table, destination: "192.168.20.11/32", target: .instance("i-a")) == .inPlace)
        #expect(RoutePlan.step(table, destination: "192.168.20.11/32", target: .instance("i-b")) == .replace(previous: "i-a"))
        #expect(RoutePlan.step(table, destination: "192.168.20.12/32", target: .instance("i-a")) == .replace(previous: "eni-b"))
        #expect(RoutePlan.step(table, destination: "192.168.20.13/32", target: .instance("i-a")) == .create)
        let missing = EC2Failure.service(code: "InvalidParameterValue",
                                         message: "There is no route defined for '192.168.20.13/32' in the route table. Use CreateRoute instead.",
                                         requestID: nil, httpStatus: 400)
        #expect(RoutePlan.isMissingRoute(missing))
        #expect(!RoutePlan.isMissingRoute(.service(code: "InvalidParameterValue", message: "Value (x) for parameter instanceId is invalid",
                                                   requestID: nil, httpStatus: 400)))
        #expect(RoutePlan.isMissingRoute(.service(code: "InvalidRoute.NotFound", message: "", requestID: nil, httpStatus: 400)))
    }
}
