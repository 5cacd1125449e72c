import ArgumentParser
import Foundation
import Lab

/// `overcast-demo`: the article's whole setup as a narrated demonstration, in network
/// namespaces on this machine. Needs a kernel with IPVS and GRE (scripts/demo.sh runs it
/// inside a VM with Debian's stock kernel when this one lacks them).
/// Unbuffered, so the timeline appears as it happens even through a pipe or the VM.
func say(_ text: String) { FileHandle.standardOutput.write(Data((text + "\n").utf8)) }

@main
struct ScenarioDemo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overcast-demo",
        abstract: "The article's load balancers end to end: VRRP, IPVS DR, health checks, EC2 route failover.")

    @Argument(help: "unicast, gre, replicate, or all.")
    var transport = "all"

    @Flag(help: "Configure nopreempt: the returning MASTER stays BACKUP.")
    var nopreempt = false

    func run() throws {
        let transports = transport == "all" ? ["unicast", "gre", "replicate"] : [transport]
        guard transports.allSatisfy(["unicast", "gre", "replicate"].contains) else {
            throw ValidationError("unknown transport '\(transport)' (unicast, gre, replicate, all)")
        }
        try Prerequisites.require(commands: ["ip", "python3"], pythonModules: ["moto", "boto3", "flask_cors"])
        say("""
            The article's setup in network namespaces on a lab VPC (172.31.0.0/16, moto as its control plane):
            lvs1 172.31.18.163 and lvs2 172.31.18.164 running Overcast (VRRPv2, advert_int 1, PASS),
            IPVS DR to web1 172.31.8.1 and web2 172.31.8.2 (HTTP_GET checks), a client 172.31.0.100,
            and moto as the EC2 API: the VIP \(ArticleLab.vip) is outside the VPC, reached only through
            the route table entry that ec2_route_failover keeps pointing at the MASTER.

            """)
        let bed = try ArticleLab()
        defer { bed.teardown() }
        try bed.startWebServer(0)
        try bed.startWebServer(1)
        var reports: [ScenarioReport] = []
        for name in transports {
            say("== transport \(name) ==")
            let scenario = ArticleScenario(bed: bed) { say($0.line) }
            reports.append(scenario.run(transport: name, nopreempt: nopreempt))
            say("")
        }
        say(Self.summary(reports))
        say(Self.enforced(bed.vpc))
        if reports.contains(where: { !$0.problems.isEmpty }) {
            for report in reports where !report.problems.isEmpty {
                say("\(report.transport): " + report.problems.joined(separator: "; "))
            }
            throw ExitCode.failure
        }
    }

    /// What the lab's VPC enforced during the run, and what it dropped and why.
    static func enforced(_ vpc: VPCLab) -> String {
        let zones = vpc.fabric.options.delaysBetweenZones
            ? String(format: "%.1f ms between zones", vpc.fabric.options.zoneLatencyMilliseconds) : "no latency between zones (no netem)"
        var lines = ["The VPC enforced: unicast only (multicast and broadcast dropped), ARP answered by the VPC (gratuitous ARP moves",
                     "nothing), the VIP reached only through route table \(vpc.routeTables[0]), source/destination check per ENI,",
                     "stateful security groups; \(zones). Drops by reason:"]
        let report = vpc.fabric.dropReport()
        lines.append(report.isEmpty ? "  none" : report.split(separator: ";").map { "  " + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n"))
        return lines.joined(separator: "\n")
    }

    static func summary(_ reports: [ScenarioReport]) -> String {
        func s(_ value: Double?) -> String { value.map { String(format: "%.2f s", $0) } ?? "-" }
        var lines = [String(format: "Master_Down_Interval (backup, priority 100): %.2f s", ArticleLab.masterDownInterval),
                     "transport  takeover  route moved  client gap  after return  web2 out  web2 back"]
        for r in reports {
            lines.append([r.transport.padding(toLength: 9, withPad: " ", startingAt: 0), s(r.takeover).padding(toLength: 8, withPad: " ", startingAt: 0),
                          s(r.routeMoved).padding(toLength: 11, withPad: " ", startingAt: 0), s(r.clientGap).padding(toLength: 10, withPad: " ", startingAt: 0),
                          "\(r.masterAfterReturn ?? "-")".padding(toLength: 12, withPad: " ", startingAt: 0),
                          s(r.webRemoved).padding(toLength: 8, withPad: " ", startingAt: 0), s(r.webRestored)].joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }
}
