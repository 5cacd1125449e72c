import EC2
import Foundation
import Lab
import Testing

/// The EC2 client against moto on loopback, through the lab proxy that checks every
/// SigV4 signature against the specification and injects faults, and the IMDSv2
/// emulator. No root needed.
@Suite(.serialized) struct EC2APITests {
    static let vip = "192.168.20.11/32"

    static func lab(_ slot: Int) throws -> EC2Lab {
        try Prerequisites.require(root: false, commands: ["python3"], pythonModules: ["moto", "boto3", "flask_cors"])
        return try EC2Lab(loopbackSlot: slot, directory: FileManager.default.temporaryDirectory.path)
    }

    /// A client through the proxy with the lab's long-term keys, counting exchanges.
    static func client(_ lab: EC2Lab, secret: String = EC2Lab.secretAccessKey, timeout: Int = 3000,
                       retry: RetryPolicy = RetryPolicy(maxAttempts: 4, baseDelay: 0.01, maxDelay: 0.05),
                       calls: Counter = Counter()) throws -> EC2Client {
        let chain = CredentialChain(environment: ["AWS_ACCESS_KEY_ID": EC2Lab.accessKeyID, "AWS_SECRET_ACCESS_KEY": secret],
                                    metadata: nil)
        return try EC2Client(endpoint: lab.endpoint, region: EC2Lab.region, credentials: chain, timeoutMilliseconds: timeout,
                             retry: retry, onCall: { calls.add($0) })
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var list: [EC2Client.Call] = []
        func add(_ call: EC2Client.Call) { lock.withLock { list.append(call) } }
        var calls: [EC2Client.Call] { lock.withLock { list } }
        var labels: [String] { calls.map { $0.failure?.label ?? "ok" } }
    }

    static let enabled = Prerequisites.available(root: false, commands: ["python3"], pythonModules: ["moto", "boto3", "flask_cors"],
                                                 test: "EC2 API against moto")

    @Test(.enabled(if: enabled))
    func signedCallsCreateReplaceAndConfirmRoutes() throws {
        let lab = try Self.lab(0)
        let table = lab.resources.route_tables[0]
        let (a, b) = (lab.resources.instances[0], lab.resources.instances[1])
        let client = try Self.client(lab)

        // No route yet: written first, ReplaceRoute finds nothing, CreateRoute makes it.
        let created = try client.assertRoutes(tables: [table], destinations: [Self.vip], target: .instance(a.id), writeFirst: true,
                                              mayWrite: { true })
        #expect(created.confirmed && created.changes.map(\.previous) == [nil])
        #expect(try lab.routeTarget(table: table, destination: Self.vip) == a.id)

        // Pointing elsewhere: read first, replaced, read back.
        let moved = try client.assertRoutes(tables: [table], destinations: [Self.vip], target: .networkInterface(b.eni),
                                            writeFirst: false, mayWrite: { true })
        #expect(moved.confirmed && moved.changes.map(\.previous) == [a.id])
        #expect(try lab.routeTarget(table: table, destination: Self.vip) == b.eni)

        // Already right: one read, no write.
        let calm = try client.assertRoutes(tables: [table], destinations: [Self.vip], target: .networkInterface(b.eni),
                                           writeFirst: false, mayWrite: { true })
        #expect(calm.confirmed && calm.changes.isEmpty && calm.calls == 1)

        // Not MASTER: nothing is written even though the route is wrong.
        let refused = try client.assertRoutes(tables: [table], destinations: [Self.vip], target: .instance(a.id),
                                              writeFirst: false, mayWrite: { false })
        #expect(refused.changes.isEmpty && !refused.confirmed)
        #expect(try lab.routeTarget(table: table, destination: Self.vip) == b.eni)

        // Every call passed the proxy's signature check (a wrong signature is a 403); the
        // one refusal is moto's answer to replacing a route that did not exist yet.
        let log = try lab.calls()
        #expect(log.count >= 7, "\(log)")
        #expect(log.filter { $0["status"] as? Int != 200 }.map { $0["code"] as? String } == ["InvalidParameterValue"], "\(log)")
        #expect(try client.sourceDestCheck(instance: a.id) == false)
    }

    @Test(.enabled(if: enabled))
    func aWrongSecretIsRefusedWithAWSCodeAndNotRetried() throws {
        let lab = try Self.lab(1)
        let calls = Counter()
        let client = try Self.client(lab, secret: "not-the-secret", calls: calls)
        do {
            _ = try client.describeRouteTables([lab.resources.route_tables[0]])
            Issue.record("a wrongly signed request was accepted")
        } catch {
            #expect(error.label == "SignatureDoesNotMatch", "\(error)")
        }
        #expect(calls.labels == ["SignatureDoesNotMatch"])
    }

    @Test(.enabled(if: enabled))
    func faultsAreRetriedWithinBoundsOrReportedClearly() throws {
        let lab = try Self.lab(2)
        let table = lab.resources.route_tables[0]
        let calls = Counter()
        let client = try Self.client(lab, timeout: 700, calls: calls)
        func fault(_ kind: String, _ count: Int, seconds: Double = 0) throws {
            try lab.control(["fault": ["kind": kind, "count": count, "seconds": seconds, "actions": ["DescribeRouteTables"]]])
        }

        for (kind, label) in [("throttle", "RequestLimitExceeded"), ("unavailable", "HTTP 503"), ("internal", "InternalError"),
                              ("malformed", "malformed"), ("expired", "ExpiredToken")] {
            let before = calls.calls.count
            try fault(kind, 2)
            #expect(try client.describeRouteTables([table]).first?.id == table, "\(kind)")
            #expect(Array(calls.labels[before...]) == [label, label, "ok"], "\(kind): \(calls.labels)")
        }

        // A hang costs one timeout, then the retry answers.
        var before = calls.calls.count
        try fault("hang", 1, seconds: 3)
        #expect(try client.describeRouteTables([table]).count == 1)
        #expect(Array(calls.labels[before...]) == ["timeout", "ok"])
        #expect(calls.calls[before].seconds < 2)

        // Persistent throttling: bounded attempts, then AWS's code as it is.
        before = calls.calls.count
        try fault("throttle", 100)
        do {
            _ = try client.describeRouteTables([table])
            Issue.record("a persistent throttle succeeded")
        } catch {
            #expect(error.description.hasPrefix("RequestLimitExceeded: Request limit exceeded."), "\(error)")
        }
        #expect(calls.calls.count - before == 4)

        // A client error is not retried.
        before = calls.calls.count
        try fault("denied", 100)
        #expect(throws: EC2Failure.self) { try client.describeRouteTables([table]) }
        #expect(Array(calls.labels[before...]) == ["UnauthorizedOperation"])
        try fault("none", 0)
        #expect(try client.describeRouteTables([table]).count == 1)
    }

    @Test(.enabled(if: enabled))
    func imdsV2IdentityAndRoleCredentialsSignCallsAndRenewWhenExpired() throws {
        let lab = try Self.lab(3)
        let me = lab.resources.instances[0]
        let metadata = try InstanceMetadata(endpoint: lab.imdsEndpoint, tokenTTL: 60)
        #expect(try metadata.instanceID() == me.id)
        #expect(try metadata.region() == EC2Lab.region)
        #expect(try metadata.interfaceID(mac: me.mac.uppercased()) == me.eni)
        #expect(throws: EC2Failure.self) { try metadata.interfaceID(mac: "02:00:00:00:00:00") }

        // No keys anywhere else: the chain falls through to the instance role.
        let chain = CredentialChain(environment: ["AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"], metadata: metadata)
        let first = try chain.current()
        #expect(first.source == "instance role overcast-lab-role" && first.sessionToken != nil && first.expiration != nil)
        let calls = Counter()
        let client = try EC2Client(endpoint: lab.endpoint, region: EC2Lab.region, credentials: chain,
                                   retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01, maxDelay: 0.05), onCall: { calls.add($0) })
        #expect(try client.describeRouteTables([lab.resources.route_tables[0]]).count == 1)

        // The role's keys expire behind our back: AWS says ExpiredToken, the client
        // fetches fresh ones and the retry succeeds.
        try lab.control(["expire_keys": true])
        #expect(try client.describeRouteTables([lab.resources.route_tables[0]]).count == 1)
        #expect(calls.labels == ["ok", "ExpiredToken", "ok"])
        #expect(try chain.current().accessKeyID != first.accessKeyID)
    }
}
