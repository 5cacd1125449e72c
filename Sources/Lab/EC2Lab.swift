import EC2
import Foundation
import MonotonicTime
import HTTPClient
#if canImport(Glibc)
import Glibc
#endif

/// The EC2 API of a test bed: `scripts/lab/ec2_lab.py` runs moto on its own loopback,
/// a signature-checking, fault-injecting proxy in front of it and an IMDSv2 emulator.
/// Either a lab VPC's front on the shared EC2 lab (`VPCLab`: the daemons reach it through
/// the VPC's endpoint node), or a lab of its own on this host's loopback with a VPC, two
/// route tables and the instances asked for (the EC2 client's own tests).
public final class EC2Lab: @unchecked Sendable {
    public struct Instance: Decodable, Sendable { public var id: String; public var eni: String; public var mac: String }
    public struct Resources: Decodable, Sendable {
        public var vpc: String
        public var route_tables: [String]
        public var instances: [Instance]
    }

    public static let region = "eu-west-1"
    /// Long-term keys the proxy accepts (what a test passes as AWS_ACCESS_KEY_ID...).
    public static let accessKeyID = "AKIDOVERCASTLAB0001"
    public static let secretAccessKey = "overcast-lab-secret"
    public static var environment: [String] {
        ["AWS_ACCESS_KEY_ID=\(accessKeyID)", "AWS_SECRET_ACCESS_KEY=\(secretAccessKey)"]
    }

    /// An EC2 lab already running elsewhere (on the host, for the kernel-tier VM), as
    /// `OVERCAST_EC2_LAB=HOST:MOTO_PORT:PROXY_PORT:IMDS_PORT` gives it.
    public struct Remote: Sendable {
        public var host: String
        public var motoPort: Int
        public var proxyPort: Int
        public var imdsPort: Int

        public static var fromEnvironment: Remote? {
            guard let text = ProcessInfo.processInfo.environment["OVERCAST_EC2_LAB"] else { return nil }
            let parts = text.split(separator: ":").map(String.init)
            guard parts.count == 4, let moto = Int(parts[1]), let proxy = Int(parts[2]), let imds = Int(parts[3]) else { return nil }
            return Remote(host: parts[0], motoPort: moto, proxyPort: proxy, imdsPort: imds)
        }
    }

    public let resources: Resources
    /// Where the daemons send EC2 calls (the proxy) and IMDS reads.
    public let endpoint: String
    /// The IMDS endpoint (it tells nodes apart by their address).
    public let imdsEndpoint: String
    private let motoHost: String
    private let motoPort: Int
    /// The proxy, as this process reaches it.
    private let controlEndpoint: String
    private let process: ChildProcess?
    private var relays: [TCPRelay] = []

    public static var script: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("scripts/lab/ec2_lab.py").path
    }

    /// Runs the EC2 side on this host's loopback, on ports derived from this process
    /// (below the ephemeral range) so parallel test processes do not collide.
    public init(loopbackSlot slot: Int, identities: [String] = ["127.0.0.1"], directory: String) throws {
        let base = 20000 + Int(getpid() % 40) * 200 + slot * 4
        motoHost = "127.0.0.1"
        motoPort = base
        endpoint = "http://127.0.0.1:\(base + 1)/"
        controlEndpoint = endpoint
        imdsEndpoint = "http://127.0.0.1:\(base + 2)"
        let out = directory + "/ovc\(getpid())-ec2-resources-\(slot).json"
        let log = directory + "/ovc\(getpid())-ec2-\(slot).log"
        for stale in [out, log] { try? FileManager.default.removeItem(atPath: stale) }
        process = try ChildProcess(Self.arguments(bind: "127.0.0.1", moto: base, proxy: base + 1, imds: base + 2,
                                                  identities: identities, sourceDestCheck: false, out: out), outputPath: log)
        files = [out, log]
        do { resources = try Self.waitReady(log: log, out: out) } catch {
            process?.stop(signal: SIGKILL, timeout: 2)
            throw error
        }
    }

    private var files: [String] = []

    /// A lab VPC's own front on the shared EC2 lab (`VPCLab`): relays in `node`'s
    /// namespace at its address, 8080 to the front's proxy and 8081 to its IMDS, each
    /// announcing the client's address (the IMDS answers each node as the instance whose
    /// ENI owns that address in moto).
    init(front node: NetworkLab.Node, host: String, motoPort: Int, proxyPort: Int, imdsPort: Int, resources: Resources) throws {
        let address = String(node.address.split(separator: "/")[0])
        motoHost = host
        self.motoPort = motoPort
        process = nil
        endpoint = "http://\(address):8080/"
        controlEndpoint = "http://\(host):\(proxyPort)/"
        imdsEndpoint = "http://\(address):8081"
        self.resources = resources
        relays = [try TCPRelay(namespace: node.namespace, listen: address, port: 8080, to: host, port: UInt16(proxyPort), announcesClient: true),
                  try TCPRelay(namespace: node.namespace, listen: address, port: 8081, to: host, port: UInt16(imdsPort), announcesClient: true)]
    }

    /// The EC2 lab that every `VPCLab` of this process shares (each with a VPC and a front
    /// of its own): the kernel tier's on the host (OVERCAST_EC2_LAB), else one started on
    /// this host's loopback at first use, which ends with this process.
    static func shared() throws -> (host: String, motoPort: Int, proxyPort: Int) {
        try sharedLock.withLock {
            if let remote = Remote.fromEnvironment { return (remote.host, remote.motoPort, remote.proxyPort) }
            if let running = sharedLab { return ("127.0.0.1", running.motoPort, running.proxyPort) }
            let lab = try EC2Lab(loopbackSlot: 49, identities: [], directory: FileManager.default.temporaryDirectory.path)
            sharedLab = lab
            return ("127.0.0.1", lab.motoPort, lab.motoPort + 1)
        }
    }

    private var proxyPort: Int { motoPort + 1 }
    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedLab: EC2Lab?

    /// One operation of the EC2 lab's VPC builder (`scripts/lab/vpc_lab.py`), at `host:port`.
    static func labOperation(host: String, port: Int, _ command: [String: Any]) throws -> [String: Any] {
        try labOperation(url: "http://\(host):\(port)/_lab", command)
    }

    static func labOperation(url: String, _ command: [String: Any]) throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: command)
        let response = try CurlEasyRequest().perform(HTTPRequest(method: "POST", url: url, body: Array(body), timeoutMilliseconds: 30_000))
        let answer = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        guard response.status == 200 else {
            throw ChildProcessError("the EC2 lab refused \(command["op"] ?? "?"): \(answer["error"] ?? String(decoding: response.body, as: UTF8.self))")
        }
        return answer
    }

    deinit {
        relays.forEach { $0.stop() }
        process?.stop(signal: SIGKILL, timeout: 2)
        for file in files { try? FileManager.default.removeItem(atPath: file) }
    }

    private static func arguments(bind: String, moto: Int, proxy: Int, imds: Int, identities: [String], sourceDestCheck: Bool,
                                  out: String) -> [String] {
        ["python3", script, "--bind", bind, "--moto-port", "\(moto)", "--proxy-port", "\(proxy)", "--imds-port", "\(imds)",
         "--region", region, "--key", "\(accessKeyID):\(secretAccessKey)", "--exit-with-parent",
         "--instances", "\(identities.isEmpty ? 0 : max(2, identities.count))",
         "--source-dest-check", sourceDestCheck ? "on" : "off", "--out", out] + identities.flatMap { ["--identity", $0] }
    }

    private static func waitReady(log: String, out: String) throws -> Resources {
        let ready = waitUntil(timeout: 240, interval: 0.1) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").contains("ready")
        }
        guard ready, let data = FileManager.default.contents(atPath: out) else {
            throw ChildProcessError("the EC2 lab did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
        }
        return try JSONDecoder().decode(Resources.self, from: data)
    }


    /// A client straight to moto (no proxy, no faults) with the lab's keys.
    public static func directClient(host: String = "127.0.0.1", port: Int) throws -> EC2Client {
        let chain = CredentialChain(environment: ["AWS_ACCESS_KEY_ID": accessKeyID, "AWS_SECRET_ACCESS_KEY": secretAccessKey],
                                    metadata: nil)
        return try EC2Client(endpoint: "http://\(host):\(port)/", region: region, credentials: chain, timeoutMilliseconds: 3000)
    }

    /// What `destination` in `table` points at now (nil when there is no such route),
    /// read straight from moto.
    public func routeTarget(table: String, destination: String) throws -> String? {
        try EC2Lab.directClient(host: motoHost, port: motoPort).describeRouteTables([table]).first?.route(to: destination)?.targetDescription
    }

    /// Points `destination` in `table` at `target` behind every daemon's back (through the
    /// lab's VPC builder, so the change is counted and a VPC fabric follows it).
    public func setRoute(table: String, destination: String, target: RouteTarget) throws {
        var command: [String: Any] = ["op": "set_route", "table": table, "destination": destination]
        switch target {
        case .instance(let id): command["instance"] = id
        case .networkInterface(let id): command["eni"] = id
        }
        _ = try EC2Lab.labOperation(url: controlEndpoint + "_lab", command)
    }

    /// Sends a control command to the proxy: `["fault": [...]]`, `["clear_log": true]`,
    /// `["role_ttl": 20]`, `["expire_keys": true]`, `["imds_down": true]`.
    public func control(_ command: [String: Any]) throws {
        let body = try JSONSerialization.data(withJSONObject: command)
        let status = try CurlEasyRequest().perform(HTTPRequest(method: "POST", url: controlEndpoint + "_control", body: Array(body))).status
        guard status == 200 else { throw ChildProcessError("EC2 lab control answered \(status)") }
    }

    /// The wall clock of the host the proxy runs on (the log's `time`), and the
    /// round trip it took: a kernel-tier VM's clock is its own.
    public func serverTime() throws -> (time: Double, roundTrip: Double) {
        let started = MonotonicClock.seconds
        let body = try CurlEasyRequest().get(controlEndpoint + "_time").body
        let roundTrip = MonotonicClock.seconds - started
        guard let time = Double(String(decoding: body, as: UTF8.self)) else {
            throw ChildProcessError("EC2 lab _time answered \(String(decoding: body, as: UTF8.self))")
        }
        return (time, roundTrip)
    }

    /// Every API call the proxy saw: client, action, params, status, code.
    public func calls() throws -> [[String: Any]] {
        let body = try CurlEasyRequest().get(controlEndpoint + "_log").body
        return (try JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]]) ?? []
    }
}

extension EC2Lab {
    /// Reads a route over and over on a thread of its own, straight from moto over one
    /// kept-alive connection, recording what it pointed at and when: the record a test
    /// or a benchmark checks for gaps ("the route never disappeared").
    public final class RouteSampler: @unchecked Sendable {
        public struct Sample: Sendable {
            /// Seconds since 1970.
            public var time: Double
            /// What the route pointed at; nil when there was no such route.
            public var target: String?
        }

        private let lock = NSLock()
        private var samples: [Sample] = []
        private var running = true
        private let done = DispatchSemaphore(value: 0)

        init(lab: EC2Lab, table: String, destination: String, interval: Double) {
            let (host, port) = (lab.motoHost, lab.motoPort)
            Thread { [self] in
                if let client = try? EC2Lab.directClient(host: host, port: port) {
                    while lock.withLock({ running }) {
                        if let tables = try? client.describeRouteTables([table]) {
                            let sample = Sample(time: Date().timeIntervalSince1970,
                                                target: tables.first?.route(to: destination)?.targetDescription)
                            lock.withLock { samples.append(sample) }
                        }
                        if interval > 0 { usleep(UInt32(interval * 1_000_000)) }
                    }
                }
                done.signal()
            }.start()
        }

        /// The samples so far.
        public var record: [Sample] { lock.withLock { samples } }

        /// Stops sampling and returns every sample.
        public func stop() -> [Sample] {
            lock.withLock { running = false }
            done.wait()
            return record
        }
    }

    public func sampler(table: String, destination: String, interval: Double = 0.005) -> RouteSampler {
        RouteSampler(lab: self, table: table, destination: destination, interval: interval)
    }
}
