import Foundation
import Lab
import Testing

/// Namespace tier: `overcast doctor` run inside a lab instance against the lab's VPC
/// (moto behind the signature-checking, fault-injecting proxy, and the IMDSv2 emulator),
/// as a user runs it on an EC2 instance. Each misconfiguration the VPC fabric punishes is
/// a FAIL line here, each injected API fault a clear line and never a crash, and no run
/// ever sends a write without DryRun.
@Suite(.serialized) struct DoctorLabTests {
    static let enabled = Prerequisites.available(commands: VPCLab.fabricCommands, pythonModules: ["moto", "boto3"],
                                                 test: "overcast doctor against the lab's VPC")
    static let addresses = ["172.31.18.163", "172.31.18.164"]

    struct Bed {
        var lab: VPCLab
        var nodes: [VPCLab.Instance]
    }

    static func bed() throws -> Bed {
        try Prerequisites.require(commands: VPCLab.fabricCommands, pythonModules: ["moto", "boto3"])
        let lab = try VPCLab()
        let nodes = try addresses.enumerated().map { try lab.launch("lb\($0.offset + 1)", address: $0.element, sourceDestCheck: false) }
        return Bed(lab: lab, nodes: nodes)
    }

    /// lb1's configuration: the article's VIP, lb2 as its unicast peer, failover on `table`.
    static func config(_ bed: Bed, vip: String = "192.168.20.11", table: String? = nil, peer: String = addresses[1],
                       timeout: Int = 2) -> String {
        LabInstance(priority: 150, version: 3, source: addresses[0], peers: [peer], extra: [
            "ec2_route_failover {", "  route_table \(table ?? bed.lab.routeTables[0])", "  endpoint \(bed.lab.ec2.endpoint)",
            "  imds_endpoint \(bed.lab.ec2.imdsEndpoint)", "  region eu-west-1", "  api_timeout \(timeout)", "}",
        ]).withVIP(vip).text
    }

    struct Run {
        var status: Int32
        var output: String
        var findings: [[String: Any]]

        func lines(_ status: String, _ check: String? = nil) -> [[String: Any]] {
            findings.filter { $0["status"] as? String == status && (check == nil || $0["check"] as? String == check) }
        }

        func details(_ status: String, _ check: String? = nil) -> [String] { lines(status, check).compactMap { $0["detail"] as? String } }
    }

    /// `overcast doctor -f CONFIG --json` inside lb1's namespace with the lab's keys.
    static func doctor(_ bed: Bed, config: String, tag: String = "") throws -> Run {
        let path = bed.lab.network.path("doctor\(tag).conf")
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let (status, output) = try ChildProcess.run(["ip", "netns", "exec", bed.nodes[0].node.namespace, "env"] + EC2Lab.environment
                                                    + [Binaries.overcast, "doctor", "-f", path, "--json"], timeout: 120)
        // The JSON array is the whole of stdout; configuration warnings go to stderr before it.
        let json = output.range(of: "[\n").map { String(output[$0.lowerBound...]) } ?? output
        let findings = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [[String: Any]] ?? []
        return Run(status: status, output: output, findings: findings)
    }

    /// Every write the proxy saw carried DryRun=true.
    static func expectNoRealWrites(_ bed: Bed, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let calls = try bed.lab.ec2.calls()
        let writes = calls.filter { !(($0["action"] as? String ?? "").hasPrefix("Describe")) }
        for call in writes {
            let params = call["params"] as? [String: Any] ?? [:]
            #expect(params["DryRun"] as? String == "true", "a write without DryRun: \(call)", sourceLocation: sourceLocation)
        }
    }

    @Test(.enabled(if: enabled))
    func aCorrectSetupPassesAndOnlyReads() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        let run = try Self.doctor(bed, config: Self.config(bed))
        #expect(run.status == 0, "\(run.output)")
        #expect(run.lines("FAIL").isEmpty, "\(run.output)")
        for check in ["region", "imds", "credentials", "clock", "instance", "peer", "source-dest-check", "security-group", "vip"] {
            #expect(!run.lines("PASS", check).isEmpty, "no PASS for \(check): \(run.output)")
        }
        #expect(run.details("PASS", "instance").first?.contains(bed.nodes[0].id) == true, "\(run.output)")
        #expect(run.details("PASS", "peer").first?.contains(bed.nodes[1].eni) == true, "\(run.output)")
        // The DryRun writes: the lab's proxy answers DryRunOperation as AWS does (moto alone
        // would carry them out), so they are allowed and nothing changed in the table.
        #expect(!run.lines("PASS", "iam").isEmpty, "\(run.output)")
        #expect(try bed.lab.routeTarget("192.168.20.11/32") == nil, "doctor must not have created the VIP's route")
        let calls = try bed.lab.ec2.calls()
        #expect(calls.contains { $0["action"] as? String == "ReplaceRoute" }, "\(calls)")
        try Self.expectNoRealWrites(bed)
    }

    @Test(.enabled(if: enabled))
    func eachMisconfigurationIsAFailLine() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        let lab = bed.lab

        // Source/destination check on lb2 (a VIP holder): the line names its instance.
        try lab.setSourceDestCheck(bed.nodes[1], true)
        var run = try Self.doctor(bed, config: Self.config(bed), tag: "-sdc")
        #expect(run.status == 1, "\(run.output)")
        let sdc = run.lines("FAIL", "source-dest-check")
        #expect(sdc.count == 1 && (sdc.first?["detail"] as? String)?.contains(bed.nodes[1].id) == true, "\(run.output)")
        #expect(sdc.first?["fix"] as? String == "aws ec2 modify-instance-attribute --instance-id \(bed.nodes[1].id) --no-source-dest-check")
        try lab.setSourceDestCheck(bed.nodes[1], false)

        // A peer in a group that allows SSH only: VRRP is blocked both ways. (A new
        // instance: moto ignores a change of an existing ENI's groups made through boto3.)
        let group = try lab.createGroup("ssh-only")
        try lab.allow(group, "tcp", ports: 22...22, from: "172.31.0.0/16")
        let lb3 = try lab.launch("lb3", address: "172.31.18.165", sourceDestCheck: false, groups: [group])
        run = try Self.doctor(bed, config: Self.config(bed, peer: lb3.address), tag: "-sg")
        #expect(run.status == 1, "\(run.output)")
        let blocked = run.details("FAIL", "security-group")
        #expect(blocked.count >= 2 && blocked.allSatisfy { $0.contains("112") } && blocked.contains { $0.contains(group) }, "\(run.output)")
        #expect(run.lines("FAIL", "security-group").contains { ($0["fix"] as? String)?.contains("--group-id \(group) --ip-permissions 'IpProtocol=112,UserIdGroupPairs=[{GroupId=\(lab.defaultGroup)}]'") == true },
                "\(run.output)")

        // A VIP inside the VPC's CIDR.
        run = try Self.doctor(bed, config: Self.config(bed, vip: "172.31.40.10"), tag: "-vip")
        #expect(run.status == 1 && run.details("FAIL", "vip").first?.contains("172.31.0.0/16") == true, "\(run.output)")

        // A route table that does not exist, and one of another VPC.
        run = try Self.doctor(bed, config: Self.config(bed, table: "rtb-0000000000deadbee"), tag: "-missing")
        #expect(run.status == 1 && run.details("FAIL", "route-table").first?.contains("does not exist") == true, "\(run.output)")
        let other = try lab.operation(["op": "create_vpc", "cidr": "10.9.0.0/16", "subnets": [["cidr": "10.9.0.0/24", "zone": "a"]]])
        defer { _ = try? lab.operation(["op": "close", "vpc": other["vpc"] ?? "", "proxy_port": other["proxy_port"] ?? 0]) }
        let foreign = try #require((other["route_tables"] as? [String])?.first)
        run = try Self.doctor(bed, config: Self.config(bed, table: foreign), tag: "-foreign")
        #expect(run.status == 1 && run.details("FAIL", "route-table").first?.contains(other["vpc"] as? String ?? "?") == true, "\(run.output)")
        try Self.expectNoRealWrites(bed)
    }

    /// Each fault the proxy can inject, on every call: a FAIL line naming the action and
    /// the error, exit 1, never a crash; a fault that retries absorb is a WARN.
    @Test(.enabled(if: enabled))
    func apiFaultsGiveClearLinesNeverACrash() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        let config = Self.config(bed, timeout: 1)
        let faults: [(kind: String, extra: [String: Any], expect: String)] = [
            ("throttle", [:], "RequestLimitExceeded"), ("unavailable", [:], "HTTP 503"), ("internal", [:], "InternalError"),
            ("hang", ["seconds": 3], "no answer"), ("malformed", [:], "malformed"), ("expired", [:], "ExpiredToken"),
            ("denied", [:], "UnauthorizedOperation"),
        ]
        for fault in faults {
            try bed.lab.ec2.control(["fault": ["kind": fault.kind, "count": 100].merging(fault.extra) { $1 }])
            let run = try Self.doctor(bed, config: config, tag: "-\(fault.kind)")
            try bed.lab.ec2.control(["fault": [:] as [String: Any]])
            #expect(run.status == 1, "\(fault.kind): \(run.output)")
            #expect(!run.findings.isEmpty, "\(fault.kind): no JSON report: \(run.output)")
            let failed = run.details("FAIL")
            #expect(failed.contains { $0.contains("DescribeNetworkInterfaces") && $0.contains(fault.expect) }, "\(fault.kind): \(run.output)")
        }

        // Only the writes denied: the reads pass, the IAM lines fail with the policy to add.
        try bed.lab.ec2.control(["fault": ["kind": "denied", "count": 100, "actions": ["ReplaceRoute", "CreateRoute"]]])
        var run = try Self.doctor(bed, config: config, tag: "-denied-writes")
        try bed.lab.ec2.control(["fault": [:] as [String: Any]])
        #expect(run.status == 1 && run.lines("FAIL", "iam").count == 2, "\(run.output)")
        #expect(run.lines("FAIL", "iam").allSatisfy { ($0["fix"] as? String)?.contains("ec2:ReplaceRoute") == true }, "\(run.output)")
        #expect(!run.lines("PASS", "security-group").isEmpty, "\(run.output)")

        // Two throttled answers: the client's retries absorb them, doctor says so.
        try bed.lab.ec2.control(["fault": ["kind": "throttle", "count": 2, "actions": ["DescribeSecurityGroups"]]])
        run = try Self.doctor(bed, config: config, tag: "-throttle-once")
        try bed.lab.ec2.control(["fault": [:] as [String: Any]])
        #expect(run.status == 0 && run.details("WARN", "api").contains { $0.contains("retried") }, "\(run.output)")
        try Self.expectNoRealWrites(bed)
    }
}

extension LabInstance {
    /// The same instance with another VIP.
    func withVIP(_ address: String) -> LabInstance {
        var copy = self
        copy.vip = address
        return copy
    }
}
