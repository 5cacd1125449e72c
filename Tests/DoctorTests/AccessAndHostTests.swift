import Foundation
@testable import Doctor
@testable import EC2
import Testing

/// API failures, IMDS, the clock, the kernel and the report's formats.
@Suite struct AccessAndHostTests {
    @Test(arguments: [
        (APIError.Kind.denied, "UnauthorizedOperation", "aws iam put-role-policy"),
        (.throttled, "RequestLimitExceeded", "run doctor again"),
        (.serverError, "InternalError", "health.aws.amazon.com"),
        (.timeout, "timeout", "curl -sS -m 5"),
        (.unreachable, "transport", "curl -sS -m 5"),
        (.malformed, "malformed", "curl -sS -m 5"),
        (.expiredCredentials, "ExpiredToken", "aws sts get-caller-identity"),
        (.badCredentials, "AuthFailure", "aws sts get-caller-identity"),
    ])
    func everyAPIFailureIsAFailLineNamingTheActionAndError(kind: APIError.Kind, code: String, fix: String) throws {
        var account = Fixture.account()
        account.node = .failed(APIError(action: "DescribeNetworkInterfaces", kind: kind, code: code, message: "\(code): it went wrong"))
        account.vpc = .skipped("this node's network interface is unknown")
        account.subnets = .skipped("")
        account.peers = .skipped("")
        account.securityGroups = .skipped("")
        account.routeTables = .skipped("")
        account.dryRuns = []
        let findings = Fixture.run(try Fixture.config(), account)
        let failed = findings.with(.fail, "api")
        #expect(failed.count == 1, "\(findings.dump)")
        #expect(failed.first?.detail.contains("DescribeNetworkInterfaces: \(code): it went wrong") == true)
        #expect(failed.first?.fix?.contains(fix) == true, "\(failed)")
        #expect(findings.exitStatus == 1)
    }

    @Test func aDeniedReadNamesItsAction() throws {
        var account = Fixture.account()
        account.securityGroups = .failed(APIError(action: "DescribeSecurityGroups", kind: .denied, code: "UnauthorizedOperation", message: "no"))
        let failed = Fixture.run(try Fixture.config(), account).with(.fail, "api")
        #expect(failed.first?.fix?.contains("\"Action\":[\"ec2:DescribeSecurityGroups\"],\"Resource\":\"*\"") == true, "\(failed)")
        #expect(failed.first?.fix?.contains("--policy-name overcast-describesecuritygroups ") == true, "\(failed)")
    }

    @Test func failuresThatWereRetriedAwayWarn() throws {
        var account = Fixture.account()
        account.retried = ["DescribeVpcs: RequestLimitExceeded", "DescribeVpcs: RequestLimitExceeded"]
        let findings = Fixture.run(try Fixture.config(), account)
        #expect(findings.with(.warn, "api").first?.detail.contains("2 EC2 calls failed and succeeded when retried") == true)
        #expect(findings.exitStatus == 0)
    }

    @Test func classifiesWhatTheClientThrows() {
        func kind(_ failure: EC2Failure) -> APIError.Kind { APIError(action: "X", failure).kind }
        #expect(kind(.service(code: "UnauthorizedOperation", message: "", requestID: nil, httpStatus: 403)) == .denied)
        #expect(kind(.service(code: "RequestLimitExceeded", message: "", requestID: nil, httpStatus: 503)) == .throttled)
        #expect(kind(.service(code: "InternalError", message: "", requestID: nil, httpStatus: 500)) == .serverError)
        #expect(kind(.service(code: "ExpiredToken", message: "", requestID: nil, httpStatus: 400)) == .expiredCredentials)
        #expect(kind(.service(code: "SignatureDoesNotMatch", message: "", requestID: nil, httpStatus: 403)) == .badCredentials)
        #expect(kind(.service(code: "InvalidRouteTableID.NotFound", message: "", requestID: nil, httpStatus: 400)) == .other)
        #expect(kind(.http(status: 503, detail: "")) == .serverError)
        #expect(kind(.malformed(action: "X", detail: "")) == .malformed)
        #expect(kind(.configuration("no credentials")) == .configuration)
    }

    @Test func imdsIsAFailWhenNeededAndAWarnOtherwiseWithTheHopLimitHint() throws {
        var account = Fixture.account()
        let timeout = APIError(action: "IMDSv2 GET meta-data/instance-id", kind: .timeout, code: "timeout", message: "PUT timed out")
        account.metadata = MetadataProbe(endpoint: "http://169.254.169.254", instanceID: .failed(timeout), neededFor: ["the instance id"])
        let failed = Fixture.run(try Fixture.config(), account).with(.fail, "imds")
        #expect(failed.count == 1 && failed[0].detail.contains("hop limit"))
        #expect(failed[0].fix == "aws ec2 modify-instance-metadata-options --instance-id i-1 --http-endpoint enabled --http-put-response-hop-limit 2 --http-tokens required")
        account.metadata.neededFor = []
        #expect(Fixture.run(try Fixture.config(), account).with(.warn, "imds").count == 1)
    }

    @Test(arguments: [(0.4, DoctorFinding.Status.pass), (-45, .pass), (120, .warn), (-400, .fail), (301, .fail)])
    func clockSkewBeyondAMinuteWarnsAndBeyondFiveFails(skew: Double, status: DoctorFinding.Status) throws {
        var account = Fixture.account()
        account.clockSkew = .value(skew)
        let clock = Fixture.run(try Fixture.config(), account).filter { $0.check == "clock" }
        #expect(clock.map(\.status) == [status], "\(clock)")
        if status != .pass { #expect(clock[0].fix?.contains("chronyc") == true) }
    }

    @Test func theDateHeaderIsRead() throws {
        let date = try #require(AccountGatherer.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"))
        #expect(date.timeIntervalSince1970 == 784111777)
        #expect(AccountGatherer.parseHTTPDate("yesterday") == nil)
    }

    static let virtualServer = """
        virtual_server 192.168.20.11 80 {
          lb_kind %@
          real_server 172.31.8.1 80 {
          }
        }
        """

    @Test func ipvsMustBeLoadedOrLoadable() throws {
        let config = try Fixture.config(extra: String(format: Self.virtualServer, "DR"))
        var host = HostFacts()
        #expect(Fixture.run(config, host: host).with(.fail, "kernel").first?.fix == "modprobe ip_vs")
        host.loadableModules = ["ip_vs"]
        #expect(Fixture.run(config, host: host).with(.pass, "kernel").count == 1)
        host.loadedModules = ["ip_vs"]
        #expect(Fixture.run(config, host: host).with(.pass, "kernel").first?.detail.contains("loaded") == true)
        // No virtual_server, no IPVS check.
        #expect(Fixture.run(try Fixture.config()).filter { $0.check == "kernel" }.isEmpty)
    }

    @Test func theOverlayNeedsIPGRE() throws {
        let config = try Fixture.config(extra: "overlay ovc0 {\n  local 172.31.18.163\n  address 10.200.0.1/24\n  peers {\n    172.31.18.164\n  }\n}")
        #expect(Fixture.run(config).with(.fail, "kernel").first?.fix == "modprobe ip_gre")
    }

    @Test func strictReversePathFilteringWarnsForDR() throws {
        let config = try Fixture.config(extra: String(format: Self.virtualServer, "DR"))
        var host = HostFacts()
        host.loadedModules = ["ip_vs"]
        host.sysctls = ["net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.eth0.rp_filter": "1"]
        let warned = Fixture.run(config, host: host).with(.warn, "sysctl")
        #expect(warned.count == 1 && warned[0].fix == "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.eth0.rp_filter=2")
        host.sysctls = ["net.ipv4.conf.all.rp_filter": "2", "net.ipv4.conf.eth0.rp_filter": "1"]
        #expect(Fixture.run(config, host: host).with(.warn, "sysctl").isEmpty)
        // NAT instead: forwarding matters, rp_filter does not.
        let nat = try Fixture.config(extra: String(format: Self.virtualServer, "NAT"))
        host.sysctls = ["net.ipv4.ip_forward": "0", "net.ipv4.conf.eth0.rp_filter": "1"]
        let failed = Fixture.run(nat, host: host).filter { $0.check == "sysctl" }
        #expect(failed.map(\.status) == [.fail] && failed[0].fix == "sysctl -w net.ipv4.ip_forward=1")
    }

    @Test func theHostIsReadFromAFakeTree() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("doctor-host-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        func write(_ path: String, _ text: String) throws {
            let url = URL(fileURLWithPath: root + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        try write("/proc/modules", "nf_tables 286720 0 - Live 0x0\nip_vs 188416 0 - Live 0x0\n")
        try write("/proc/sys/kernel/osrelease", "6.1.0-test\n")
        try write("/lib/modules/6.1.0-test/modules.dep", "kernel/net/ipv4/ip_gre.ko.xz: kernel/net/ipv4/gre.ko.xz\nkernel/net/ipv4/gre.ko.xz:\n")
        try write("/lib/modules/6.1.0-test/modules.builtin", "kernel/net/ipv4/ip_tunnel.ko\n")
        try write("/proc/sys/net/ipv4/conf/eth0/rp_filter", "1\n")
        try write("/proc/sys/net/ipv4/conf/eth0.100/rp_filter", "2\n")
        try write("/sys/class/net/eth0/address", "02:AB:00:00:00:01\n")
        let host = HostReader(root: root + "/").read(modules: ["ip_vs", "ip_gre", "ip_tunnel", "sctp"],
                                                     sysctls: ["net.ipv4.conf.eth0.rp_filter", "net.ipv4.conf.eth0.100.rp_filter", "net.ipv4.ip_forward"],
                                                     interfaces: ["eth0", "eth9"])
        #expect(host.state(of: "ip_vs") == .loaded && host.state(of: "ip_gre") == .loadable)
        #expect(host.state(of: "ip_tunnel") == .builtin && host.state(of: "sctp") == .absent)
        #expect(host.kernelRelease == "6.1.0-test")
        #expect(host.sysctls == ["net.ipv4.conf.eth0.rp_filter": "1", "net.ipv4.conf.eth0.100.rp_filter": "2"])
        #expect(host.macAddresses == ["eth0": "02:ab:00:00:00:01"])
        // An empty tree is a host without anything, not an error.
        #expect(HostReader(root: root + "/nothing").read(modules: ["ip_vs"], sysctls: [], interfaces: []).state(of: "ip_vs") == .absent)
    }

    @Test func theReportInTextAndJSON() throws {
        let findings = [DoctorFinding.pass("region", "region eu-west-1"),
                        .fail("source-dest-check", "i-1 has it on", fix: "aws ec2 modify-instance-attribute --instance-id i-1 --no-source-dest-check")]
        let text = DoctorReport.text(findings)
        #expect(text.contains("PASS  region             region eu-west-1\n"), "\(text)")
        #expect(text.contains("FAIL  source-dest-check  i-1 has it on\n                         fix: aws ec2 modify-instance-attribute"), "\(text)")
        #expect(text.hasSuffix("1 PASS, 0 WARN, 1 FAIL: not ready for a failover\n"))
        let data = Data(DoctorReport.json(findings).utf8)
        let array = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(array.count == 2)
        #expect(array.allSatisfy { Set($0.keys) == ["check", "status", "detail", "fix"] })
        #expect(array[0]["fix"] is NSNull && array[0]["status"] as? String == "PASS")
        #expect(array[1]["fix"] as? String == "aws ec2 modify-instance-attribute --instance-id i-1 --no-source-dest-check")
        let decoded = try JSONDecoder().decode([DoctorFinding].self, from: data)
        #expect(decoded == findings)
        #expect(findings.exitStatus == 1 && [DoctorFinding.warn("x", "y")].exitStatus == 0 && [DoctorFinding]().exitStatus == 0)
    }
}
