import EC2
import Foundation
import Lab

/// Route failover: from the moment a node becomes MASTER to the moment the VIP's /32
/// route is seen pointing at it, built-in `ec2_route_failover` against the article's
/// `notify_master.sh` (AWS CLI delete-route + create-route), on the same moto.
///
/// Each run: the route points at another instance (the old MASTER); a lone Overcast
/// node starts as BACKUP, hears nobody and becomes MASTER after Master_Down_Interval.
/// The MASTER moment comes from the daemon's own status (now - secondsInState); when the
/// route was written, and how long it was missing between the script's delete and
/// create, come from the lab proxy's record of every call (answer times on the same
/// clock). Nothing polls moto meanwhile, so the measurement does not load what it measures.
struct RouteBenchmark {
    var runs: Int
    var log: (String) -> Void

    static let vip = "192.168.20.11"
    static let destination = vip + "/32"
    static let node = "172.31.18.11"

    func run() throws -> [ResultRow] {
        try Prerequisites.require(commands: ["ip", "python3", "aws", "curl"], pythonModules: ["moto", "boto3", "flask_cors"])
        let vpc = try VPCLab()
        defer { vpc.teardown() }
        let lab = vpc.network
        // The instance the route points at first: the old MASTER, which runs nothing here.
        let old = try vpc.launch("old", address: "172.31.18.10", sourceDestCheck: false).id
        let lvsInstance = try vpc.launch("lvs", address: Self.node, sourceDestCheck: false)
        let (lvs, mine) = (lvsInstance.node, lvsInstance.id)
        let ec2 = vpc.ec2
        let table = vpc.routeTables[0]
        let script = try notifyScript(lab: lab, ec2: ec2, table: table)

        let variants = ["overcast", "notify_master.sh"]
        var written: [String: [Double]] = [:]
        var missing: [String: [Double]] = [:]
        var confirmed: [Double] = []
        for run in 0..<runs {
            for variant in variants {
                try ec2.setRoute(table: table, destination: Self.destination, target: .instance(old))
                let extra = variant == "overcast"
                    ? ["ec2_route_failover {", "  route_table \(table)", "  endpoint \(ec2.endpoint)", "  imds_endpoint \(ec2.imdsEndpoint)",
                       "  region \(EC2Lab.region)", "  refresh 60", "}"]
                    : ["notify_master \"\(script)\""]
                let config = LabInstance(priority: 100, version: 3, advertInt: "0.1", source: Self.node, peers: ["172.31.18.99"],
                                         extra: extra).text
                try ec2.control(["clear_log": true])
                let tag = "-\(variant)-\(run)"
                let daemon = try lab.startOvercast(lvs, config: config, tag: tag, environment: EC2Lab.environment)
                defer { daemon.stop(signal: SIGTERM, timeout: 5) }
                var masterAt: Double?
                guard waitUntil(timeout: 20, interval: 0.005, {
                    guard let status = lab.instance(lvs), status["state"] as? String == "MASTER",
                          let since = status["secondsInState"] as? Double else { return false }
                    masterAt = Date().timeIntervalSince1970 - since
                    return true
                }), let masterAt else { throw ChildProcessError("\(variant): never became MASTER\n\(lab.log(lvs, tag: tag))") }
                guard waitUntil(timeout: 30, interval: 0.05, {
                    (try? ec2.routeTarget(table: table, destination: Self.destination)) == mine
                }) else { throw ChildProcessError("\(variant): the route never pointed here\n\(lab.log(lvs, tag: tag))") }
                // The proxy's record of the calls: when the write that moved the route
                // was answered, and how long the route did not exist.
                let calls = try ec2.calls().filter { $0["client"] as? String == Self.node && $0["status"] as? Int == 200 }
                func done(_ action: String) -> Double? {
                    calls.first { $0["action"] as? String == action }.flatMap { $0["done"] as? Double }
                }
                guard let moved = [done("ReplaceRoute"), done("CreateRoute")].compactMap({ $0 }).min() else {
                    throw ChildProcessError("\(variant): no successful route write in the proxy log")
                }
                written[variant, default: []].append((moved - masterAt) * 1000)
                missing[variant, default: []].append(done("DeleteRoute").map { max(0, moved - $0) * 1000 } ?? 0)
                if variant == "overcast",
                   let ms = (lab.instance(lvs)?["routeFailover"] as? [String: Any])?["lastFailoverMilliseconds"] as? Double {
                    confirmed.append(ms)
                }
                log("route run \(run + 1)/\(runs) \(variant): route written \(String(format: "%.1f", (moved - masterAt) * 1000)) ms after MASTER")
            }
        }
        let floor = try callFloor(ec2: ec2, table: table, from: lvs)
        let reference = Summary(written["notify_master.sh"] ?? [])
        let ours = Summary(written["overcast"] ?? [])
        let daemon = Summary(confirmed)
        let scriptName = "notify_master.sh (AWS CLI delete + create)"
        let builtIn = "overcast (ec2_route_failover)"
        return [
            ResultRow(benchmark: "route: MASTER to route confirmed by the API", variant: builtIn, unit: "ms", summary: ours,
                      reference: scriptName, ratio: ours.flatMap { o in reference.map { o.median / $0.median } },
                      target: "median <= 20 ms", targetMet: ours.map { $0.median <= 20 },
                      notes: ["until EC2 answered the write that moved the route (ReplaceRoute/CreateRoute true), from the proxy's log"]),
            ResultRow(benchmark: "route: MASTER to route confirmed by the API", variant: scriptName, unit: "ms", summary: reference),
            ResultRow(benchmark: "route: MASTER to route read back", variant: builtIn, unit: "ms", summary: daemon,
                      reference: "one EC2 call (floor)", ratio: daemon.flatMap { d in floor.map { d.median / $0.median } },
                      notes: ["write + DescribeRouteTables read-back as the daemon times it: two EC2 calls, so about twice the floor"]),
            ResultRow(benchmark: "route: one EC2 call (floor)", variant: "DescribeRouteTables via proxy", unit: "ms", summary: floor),
            ResultRow(benchmark: "route: route missing", variant: builtIn, unit: "ms", summary: Summary(missing["overcast"] ?? []),
                      target: "never missing", targetMet: (missing["overcast"] ?? []).allSatisfy { $0 == 0 }),
            ResultRow(benchmark: "route: route missing", variant: scriptName, unit: "ms", summary: Summary(missing["notify_master.sh"] ?? [])),
        ]
    }

    /// The latency of one EC2 call through the lab's proxy to moto, from the load
    /// balancer's node (the daemon's path: the VPC, the endpoint's relay, the proxy): what
    /// no client can beat, so the daemon's own overhead is what lies above it.
    private func callFloor(ec2: EC2Lab, table: String, from node: NetworkLab.Node) throws -> Summary? {
        let endpoint = ec2.endpoint
        let samples = try inNetworkNamespace(node.namespace) { () -> [Double] in
            let chain = CredentialChain(environment: ["AWS_ACCESS_KEY_ID": EC2Lab.accessKeyID,
                                                      "AWS_SECRET_ACCESS_KEY": EC2Lab.secretAccessKey], metadata: nil)
            let client = try EC2Client(endpoint: endpoint, region: EC2Lab.region, credentials: chain)
            _ = try client.describeRouteTables([table])
            return try (0..<20).map { _ in
                let start = Date()
                _ = try client.describeRouteTables([table])
                return Date().timeIntervalSince(start) * 1000
            }
        }
        return Summary(samples)
    }

    /// bench/notify_master.sh with the lab's values filled in.
    private func notifyScript(lab: NetworkLab, ec2: EC2Lab, table: String) throws -> String {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("bench/notify_master.sh").path
        var text = try String(contentsOfFile: source, encoding: .utf8)
        for (key, value) in ["ROUTE_TABLE_ID": table, "IMDS": ec2.imdsEndpoint, "KEY": EC2Lab.accessKeyID,
                             "SECRET": EC2Lab.secretAccessKey, "REGION": EC2Lab.region, "ENDPOINT": ec2.endpoint] {
            text = text.replacingOccurrences(of: "@\(key)@", with: value)
        }
        let path = lab.path("notify_master.sh")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o755)
        return path
    }
}
