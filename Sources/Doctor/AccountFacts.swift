import EC2

/// Why an API call (EC2 or IMDS) failed, reduced to what decides the verdict and the fix.
/// A value of its own rather than `EC2Failure` so that tests can build every kind.
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// IAM said no (`UnauthorizedOperation`).
        case denied
        /// `RequestLimitExceeded` and friends, after the client's retries.
        case throttled
        /// A 5xx, with or without an AWS error document.
        case serverError
        /// No answer in time.
        case timeout
        /// No connection (refused, DNS, no route).
        case unreachable
        /// An answer that is not a readable EC2 document.
        case malformed
        /// The credentials were refused as expired (`ExpiredToken`, `RequestExpired`).
        case expiredCredentials
        /// The credentials were refused (`AuthFailure`, `SignatureDoesNotMatch`...).
        case badCredentials
        /// No credentials, no region, or no identity could be found.
        case configuration
        /// Any other answer from AWS (`InvalidRouteTableID.NotFound`...).
        case other
    }

    /// The EC2 action or IMDS path that failed.
    public var action: String
    public var kind: Kind
    /// AWS's error code ("UnauthorizedOperation") or "HTTP 503", when there is one.
    public var code: String?
    public var message: String

    public init(action: String, kind: Kind, code: String? = nil, message: String) {
        self.action = action
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { "\(action) failed: \(message)" }

    /// Classifies what `EC2Client` or `InstanceMetadata` threw.
    public init(action: String, _ failure: EC2Failure) {
        self.action = action
        message = failure.description
        switch failure {
        case .service(let code, _, _, let status):
            self.code = code
            if failure.isAuthorizationFailure { kind = .denied }
            else if ["RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException"].contains(code) { kind = .throttled }
            else if ["ExpiredToken", "ExpiredTokenException", "RequestExpired"].contains(code) { kind = .expiredCredentials }
            else if ["AuthFailure", "SignatureDoesNotMatch", "InvalidClientTokenId", "IncompleteSignature", "OptInRequired"].contains(code) {
                kind = .badCredentials
            } else if status >= 500 { kind = .serverError }
            else { kind = .other }
        case .http(let status, _):
            code = "HTTP \(status)"
            kind = status >= 500 || status == 429 ? (status == 429 ? .throttled : .serverError) : .other
        case .malformed:
            code = "malformed"
            kind = .malformed
        case .transport(let error):
            code = error.isTimeout ? "timeout" : "transport"
            kind = error.isTimeout ? .timeout : .unreachable
        case .configuration:
            code = nil
            kind = .configuration
        }
    }

    /// After this failure every further call would fail the same way (or wait as long):
    /// the gatherer stops calling.
    public var endsTheSession: Bool { [.timeout, .unreachable, .expiredCredentials, .badCredentials, .configuration].contains(kind) }
}

/// A fact that was read, could not be read, or was not asked for (and why).
public enum Fetched<Value: Sendable & Hashable>: Sendable, Hashable {
    case value(Value)
    case failed(APIError)
    case skipped(String)

    public var value: Value? {
        if case .value(let value) = self { return value }
        return nil
    }
}

/// The IMDSv2 probe: a token PUT, then the instance-id GET.
public struct MetadataProbe: Sendable, Hashable {
    public var endpoint: String
    /// The instance id IMDS gave.
    public var instanceID: Fetched<String>
    /// What the daemon needs IMDS for on this host ("the instance id", "the region", "credentials"...);
    /// empty when the configuration and environment give it everything.
    public var neededFor: [String]

    public init(endpoint: String = "http://169.254.169.254", instanceID: Fetched<String> = .skipped("not probed"), neededFor: [String] = []) {
        self.endpoint = endpoint
        self.instanceID = instanceID
        self.neededFor = neededFor
    }
}

/// A DryRun write the daemon will make: ReplaceRoute or CreateRoute of one VIP in one table.
public struct DryRunProbe: Sendable, Hashable {
    public enum Outcome: Sendable, Hashable {
        case allowed
        /// The endpoint did not honour DryRun and answered success.
        case performed
        case failed(APIError)
        case skipped(String)
    }

    public var action: String
    public var table: String
    public var destination: String
    public var outcome: Outcome

    public init(action: String, table: String, destination: String, outcome: Outcome) {
        self.action = action
        self.table = table
        self.destination = destination
        self.outcome = outcome
    }
}

/// What the account says, as read by the gatherer (or built by hand in a test). Every
/// field that was not read says why, so each check can report it rather than guess.
public struct AccountFacts: Sendable, Hashable {
    public var endpoint: String = ""
    public var region: Fetched<String> = .skipped("not read")
    /// The credentials' description (redacted key and where they came from).
    public var credentials: Fetched<String> = .skipped("not read")
    public var metadata = MetadataProbe()
    /// Seconds the API's clock (its `Date` header) is ahead of this host's.
    public var clockSkew: Fetched<Double> = .skipped("not measured")
    /// This instance: from the configuration's `instance_id` or from IMDS.
    public var instanceID: Fetched<String> = .skipped("not read")
    /// This node's ENI (the one the VRRP interface uses).
    public var node: Fetched<EC2NetworkInterface> = .skipped("not read")
    public var vpc: Fetched<EC2VPC> = .skipped("not read")
    public var subnets: Fetched<[EC2Subnet]> = .skipped("not read")
    /// The VPC's ENIs that own one of the configured peer addresses.
    public var peers: Fetched<[EC2NetworkInterface]> = .skipped("not read")
    /// The groups of this node's and the peers' ENIs.
    public var securityGroups: Fetched<[EC2SecurityGroup]> = .skipped("not read")
    /// The configured route tables that exist (a missing one is absent).
    public var routeTables: Fetched<[EC2RouteTable]> = .skipped("not read")
    public var dryRuns: [DryRunProbe] = []
    /// Calls that failed and succeeded on a retry ("DescribeVpcs: RequestLimitExceeded").
    public var retried: [String] = []

    public init() {}
}
