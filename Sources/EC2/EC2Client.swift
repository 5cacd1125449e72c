import Foundation
import HTTPClient

/// The EC2 Query API over libcurl: signed with libcurl's SigV4, answered in XML, retried
/// with bounded backoff when AWS throttles, fails on its side or does not answer.
/// Blocking; one owner thread (it keeps one connection alive between calls).
public final class EC2Client {
    /// One HTTP exchange, for counters and logs.
    public struct Call: Sendable {
        public var action: String
        public var seconds: Double
        public var failure: EC2Failure?
        public init(action: String, seconds: Double, failure: EC2Failure?) {
            self.action = action
            self.seconds = seconds
            self.failure = failure
        }
    }

    public let endpoint: String
    public let region: String
    private let credentials: CredentialChain
    private let http: CurlEasyRequest
    private let timeoutMilliseconds: Int
    public var retry: RetryPolicy
    private let sleep: (Double) -> Void
    private let random: () -> Double
    private let onCall: (Call) -> Void

    public static func defaultEndpoint(region: String) -> String { "https://ec2.\(region).amazonaws.com/" }

    public init(endpoint: String?, region: String, credentials: CredentialChain, timeoutMilliseconds: Int = 3000,
                retry: RetryPolicy = RetryPolicy(), sleep: @escaping (Double) -> Void = { Thread.sleep(forTimeInterval: $0) },
                random: @escaping () -> Double = { Double.random(in: 0..<1) },
                onCall: @escaping (Call) -> Void = { _ in }) throws(EC2Failure) {
        self.endpoint = endpoint ?? Self.defaultEndpoint(region: region)
        self.region = region
        self.credentials = credentials
        self.timeoutMilliseconds = timeoutMilliseconds
        self.retry = retry
        self.sleep = sleep
        self.random = random
        self.onCall = onCall
        do { http = try CurlEasyRequest() } catch { throw .transport(error) }
    }

    /// Sends `request`, retrying what is retryable up to the policy's bound while
    /// `shouldContinue()` holds (a write stops retrying the moment this node is no
    /// longer MASTER). Returns the response document.
    public func send(_ request: EC2Request, shouldContinue: () -> Bool = { true }) throws(EC2Failure) -> XMLTree {
        var attempt = 0
        while true {
            do { return try sendOnce(request) } catch {
                attempt += 1
                if error.wantsFreshCredentials { credentials.invalidate() }
                guard error.isRetryable, attempt < retry.maxAttempts, shouldContinue() else { throw error }
                sleep(retry.delay(afterAttempt: attempt - 1, random: random()))
                guard shouldContinue() else { throw error }
            }
        }
    }

    /// One exchange, no retry.
    public func sendOnce(_ request: EC2Request) throws(EC2Failure) -> XMLTree {
        let started = Date()
        do {
            let tree = try exchange(request)
            onCall(Call(action: request.action, seconds: Date().timeIntervalSince(started), failure: nil))
            return tree
        } catch {
            onCall(Call(action: request.action, seconds: Date().timeIntervalSince(started), failure: error))
            throw error
        }
    }

    private func exchange(_ request: EC2Request) throws(EC2Failure) -> XMLTree {
        let creds = try credentials.current()
        var headers = ["Content-Type: application/x-www-form-urlencoded; charset=utf-8", "Accept:"]
        if let token = creds.sessionToken { headers.append("X-Amz-Security-Token: \(token)") }
        let http = HTTPRequest(method: "POST", url: endpoint, headers: headers, body: Array(request.formBody.utf8),
                               timeoutMilliseconds: timeoutMilliseconds,
                               sigV4: .init(provider: "aws:amz:\(region):ec2", accessKeyID: creds.accessKeyID,
                                            secretAccessKey: creds.secretAccessKey),
                               abortiveClose: true)
        let response: HTTPResponse
        do { response = try self.http.perform(http) } catch { throw .transport(error) }
        guard response.status == 200 else {
            if let failure = EC2Response.serviceError(status: response.status, body: response.body) { throw failure }
            throw .http(status: response.status, detail: Self.snippet(response.body))
        }
        let tree: XMLTree
        do { tree = try XMLTree.parse(response.body) } catch {
            throw .malformed(action: request.action, detail: error.description)
        }
        if tree.child("Errors") != nil, let failure = EC2Response.serviceError(status: response.status, body: response.body) {
            throw failure
        }
        return tree
    }

    /// The start of a non-AWS error body, printable characters only, for the log.
    static func snippet(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        return String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F }.map(Character.init))
    }

    // MARK: - The actions route failover uses

    public func describeRouteTables(_ ids: [String], shouldContinue: () -> Bool = { true }) throws(EC2Failure) -> [EC2RouteTable] {
        try EC2Response.routeTables(try send(.describeRouteTables(ids), shouldContinue: shouldContinue))
    }

    public func replaceRoute(table: String, destination: String, target: RouteTarget,
                             shouldContinue: () -> Bool = { true }) throws(EC2Failure) {
        let tree = try send(.replaceRoute(table: table, destination: destination, target: target), shouldContinue: shouldContinue)
        guard try EC2Response.returnValue(tree, action: "ReplaceRoute") else {
            throw .malformed(action: "ReplaceRoute", detail: "<return>false</return>")
        }
    }

    public func createRoute(table: String, destination: String, target: RouteTarget,
                            shouldContinue: () -> Bool = { true }) throws(EC2Failure) {
        let tree = try send(.createRoute(table: table, destination: destination, target: target), shouldContinue: shouldContinue)
        guard try EC2Response.returnValue(tree, action: "CreateRoute") else {
            throw .malformed(action: "CreateRoute", detail: "<return>false</return>")
        }
    }

    public func sourceDestCheck(instance: String) throws(EC2Failure) -> Bool {
        try EC2Response.booleanAttribute(try send(.describeInstanceAttribute(instance: instance, attribute: "sourceDestCheck")),
                                         "sourceDestCheck")
    }

    // MARK: - Reading a VPC (the lab's fabric, `overcast doctor`)

    public typealias Filters = [(name: String, values: [String])]

    public func describeVPCs(filters: Filters) throws(EC2Failure) -> [EC2VPC] {
        try EC2Response.vpcs(try send(.describe("DescribeVpcs", filters: filters)))
    }

    public func describeSubnets(filters: Filters) throws(EC2Failure) -> [EC2Subnet] {
        try EC2Response.subnets(try send(.describe("DescribeSubnets", filters: filters)))
    }

    public func describeNetworkInterfaces(filters: Filters) throws(EC2Failure) -> [EC2NetworkInterface] {
        try EC2Response.networkInterfaces(try send(.describe("DescribeNetworkInterfaces", filters: filters)))
    }

    public func describeSecurityGroups(filters: Filters) throws(EC2Failure) -> [EC2SecurityGroup] {
        try EC2Response.securityGroups(try send(.describe("DescribeSecurityGroups", filters: filters)))
    }

    public func describeRouteTables(filters: Filters) throws(EC2Failure) -> [EC2RouteTable] {
        try EC2Response.routeTables(try send(.describe("DescribeRouteTables", filters: filters)))
    }
}
