import Config
import EC2
import Foundation
import HTTPClient

/// Fills `AccountFacts` in from the real account, with what the daemon itself uses: the
/// `ec2_route_failover` block's endpoint, IMDS endpoint, region, timeout and instance id,
/// the same credential chain, `InstanceMetadata` (IMDSv2) and `EC2Client` (SigV4,
/// retries). Only Describe* calls and DryRun writes go out. Every failure becomes a fact
/// (`.failed`), never a thrown error; once a failure means every further call would fail
/// alike or wait as long (no answer, credentials refused), the rest are skipped.
public final class AccountGatherer {
    let config: DoctorConfig
    private let host: HostFacts
    private let environment: [String: String]
    var facts = AccountFacts()
    /// Why no more EC2 calls are made, once one of them showed they cannot work.
    private var stopped: String?
    /// The failed exchanges of the call in progress (the client retries inside one call).
    private var failedAttempts: [String] = []

    public init(config: DoctorConfig, host: HostFacts, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.config = config
        self.host = host
        self.environment = environment
    }

    private var settings: EC2RouteFailover? { config.ec2 }
    private var timeoutMilliseconds: Int { Int((settings?.apiTimeout ?? 3) * 1000) }

    public func gather() -> AccountFacts {
        let imdsEndpoint = settings?.imdsEndpoint ?? "http://169.254.169.254"
        let metadata = try? InstanceMetadata(endpoint: imdsEndpoint, timeoutMilliseconds: timeoutMilliseconds)
        facts.metadata.endpoint = imdsEndpoint
        facts.metadata.instanceID = metadata.map { metadata in
            Self.fetch("IMDSv2 GET meta-data/instance-id") { () throws(EC2Failure) in try metadata.instanceID() }
        } ?? .failed(APIError(action: "IMDS", kind: .configuration, message: "libcurl could not start a transfer"))
        let imdsWorks = facts.metadata.instanceID.value != nil

        if let id = settings?.instanceID { facts.instanceID = .value(id) } else {
            facts.metadata.neededFor.append("the instance id")
            facts.instanceID = imdsWorks ? facts.metadata.instanceID : .skipped("IMDS did not answer")
        }
        if settings?.target == .eni { facts.metadata.neededFor.append("the ENI id") }
        let fromEnvironment = ["AWS_REGION", "AWS_DEFAULT_REGION"].compactMap { environment[$0] }.first { !$0.isEmpty }
        if let region = settings?.region ?? fromEnvironment { facts.region = .value(region) } else {
            facts.metadata.neededFor.append("the region")
            if imdsWorks, let metadata {
                facts.region = Self.fetch("IMDSv2 GET meta-data/placement/region") { () throws(EC2Failure) in try metadata.region() }
            } else {
                facts.region = .failed(APIError(action: "region", kind: .configuration,
                    message: "no region: none in ec2_route_failover, AWS_REGION or AWS_DEFAULT_REGION, and IMDS did not answer"))
            }
        }
        guard let region = facts.region.value else { return finish("no region") }
        let endpoint = settings?.endpoint ?? EC2Client.defaultEndpoint(region: region)
        facts.endpoint = endpoint

        let chain = CredentialChain(environment: environment, metadata: metadata)
        do {
            let credentials = try chain.current()
            if credentials.source.hasPrefix("instance role") { facts.metadata.neededFor.append("credentials (\(credentials.source))") }
            facts.credentials = .value(credentials.description)
        } catch {
            facts.credentials = .failed(APIError(action: "credentials", error))
            return finish("no credentials")
        }
        facts.clockSkew = Self.clockSkew(endpoint: endpoint, timeoutMilliseconds: timeoutMilliseconds)
        let client: EC2Client
        do {
            client = try EC2Client(endpoint: endpoint, region: region, credentials: chain, timeoutMilliseconds: timeoutMilliseconds,
                                   onCall: { [weak self] call in
                                       // DryRunOperation is how a permitted dry run answers, not a failure.
                                       if let failure = call.failure, !failure.isDryRunSuccess {
                                           self?.failedAttempts.append("\(call.action): \(failure.label)")
                                       }
                                   })
        } catch {
            facts.node = .failed(APIError(action: "EC2 client", error))
            return finish("no client")
        }
        readVPC(client, metadata: metadata)
        probeWrites(client)
        return facts
    }

    /// Marks every fact not read yet as skipped for `reason` and returns the facts.
    private func finish(_ reason: String) -> AccountFacts {
        func skip<T>(_ fact: inout Fetched<T>) { if case .skipped = fact { fact = .skipped(reason) } }
        skip(&facts.node); skip(&facts.vpc); skip(&facts.subnets); skip(&facts.peers)
        skip(&facts.securityGroups); skip(&facts.routeTables)
        return facts
    }

    /// One EC2 call, unless an earlier one showed that calls cannot work.
    func call<T>(_ action: String, _ body: () throws(EC2Failure) -> T) -> Fetched<T> {
        if let stopped { return .skipped(stopped) }
        failedAttempts = []
        let result = Self.fetch(action, body)
        switch result {
        case .value: facts.retried += failedAttempts
        case .failed(let error) where error.endsTheSession: stopped = "\(error.action) failed: \(error.message)"
        default: break
        }
        return result
    }

    static func fetch<T>(_ action: String, _ body: () throws(EC2Failure) -> T) -> Fetched<T> {
        do { return .value(try body()) } catch { return .failed(APIError(action: action, error)) }
    }

    private func readVPC(_ client: EC2Client, metadata: InstanceMetadata?) {
        guard let id = facts.instanceID.value else { return }
        let attached = call("DescribeNetworkInterfaces") { () throws(EC2Failure) in
            try client.describeNetworkInterfaces(filters: [("attachment.instance-id", [id])])
        }
        switch attached {
        case .value(let enis):
            var eniID: String?
            if settings?.target == .eni, let metadata, let interface = config.instances.first?.interface,
               let mac = host.macAddresses[interface] {
                eniID = try? metadata.interfaceID(mac: mac)
            }
            facts.node = Self.choose(enis, id: eniID, config: config, host: host).map(Fetched.value) ?? .failed(APIError(
                action: "DescribeNetworkInterfaces", kind: .configuration,
                message: "no network interface is attached to \(id) (is it this instance, in region \(facts.region.value ?? "?")?)"))
        case .failed(let error): facts.node = .failed(error)
        case .skipped(let reason): facts.node = .skipped(reason)
        }
        guard let node = facts.node.value else { _ = finish("this node's network interface is unknown"); return }
        let vpc = node.vpcID
        facts.vpc = call("DescribeVpcs") { () throws(EC2Failure) in
            guard let found = try client.describeVPCs(filters: [("vpc-id", [vpc])]).first else {
                throw .configuration("\(vpc) is not in the DescribeVpcs answer")
            }
            return found
        }
        facts.subnets = call("DescribeSubnets") { () throws(EC2Failure) in try client.describeSubnets(filters: [("vpc-id", [vpc])]) }
        let peers = config.peerAddresses
        facts.peers = peers.isEmpty ? .value([]) : call("DescribeNetworkInterfaces") { () throws(EC2Failure) in
            try client.describeNetworkInterfaces(filters: [("vpc-id", [vpc]), ("addresses.private-ip-address", peers)])
        }
        var groups: [String] = []
        for group in node.securityGroups + (facts.peers.value ?? []).flatMap(\.securityGroups) where !groups.contains(group) {
            groups.append(group)
        }
        facts.securityGroups = groups.isEmpty ? .value([]) : call("DescribeSecurityGroups") { () throws(EC2Failure) in
            try client.describeSecurityGroups(filters: [("group-id", groups)])
        }
        let tables = config.routeTables
        facts.routeTables = tables.isEmpty ? .value([]) : call("DescribeRouteTables") { () throws(EC2Failure) in
            try client.describeRouteTables(filters: [("route-table-id", tables)])
        }
    }

    /// This node's ENI among the instance's: the one IMDS named, else the one with the
    /// VRRP interface's MAC, else the one with unicast_src_ip, else the primary (device 0).
    static func choose(_ enis: [EC2NetworkInterface], id: String?, config: DoctorConfig, host: HostFacts) -> EC2NetworkInterface? {
        if let id, let eni = enis.first(where: { $0.id == id }) { return eni }
        let macs = Set(config.instances.compactMap { $0.interface }.compactMap { host.macAddresses[$0] })
        if let eni = enis.first(where: { macs.contains($0.macAddress.lowercased()) }) { return eni }
        let sources = Set(config.instances.compactMap(\.sourceIP))
        if let eni = enis.first(where: { !sources.isDisjoint(with: $0.privateAddresses) }) { return eni }
        return enis.first { $0.deviceIndex == 0 } ?? enis.first
    }
}
