import EC2

/// `overcast doctor`'s verdict: pure functions from the configuration, what the account
/// says and what the host offers to report lines. Nothing here does I/O, so every
/// misconfiguration is a unit test on hand-built facts; `AccountGatherer` and
/// `HostReader` fill the facts in from the real thing.
public enum Doctor {
    public static func check(_ config: DoctorConfig, account: AccountFacts, host: HostFacts) -> [DoctorFinding] {
        var checkup = Checkup(config: config, account: account, host: host)
        checkup.checkAccess()
        checkup.checkNodes()
        checkup.checkTransport()
        checkup.checkRoutes()
        checkup.checkPermissions()
        checkup.checkKernel()
        var seen: Set<DoctorFinding> = []
        return checkup.findings.filter { seen.insert($0).inserted }
    }

    /// What to read from the host for `config`: the modules, sysctls and interfaces that matter.
    public static func hostQueries(_ config: DoctorConfig) -> (modules: [String], sysctls: [String], interfaces: [String]) {
        var modules: [String] = []
        if config.usesIPVS { modules.append("ip_vs") }
        if config.usesGRE { modules.append("ip_gre") }
        var interfaces: [String] = []
        for instance in config.instances {
            for name in [instance.interface].compactMap({ $0 }) + instance.vipInterfaces where !interfaces.contains(name) {
                interfaces.append(name)
            }
        }
        let sysctls = ["net.ipv4.ip_forward", "net.ipv4.conf.all.rp_filter"] + interfaces.map { "net.ipv4.conf.\($0).rp_filter" }
        return (modules, sysctls, interfaces)
    }
}

/// The checks' shared state: the inputs and the lines so far. Each area of checks is an
/// extension in a file of its own.
struct Checkup {
    let config: DoctorConfig
    let account: AccountFacts
    let host: HostFacts
    var findings: [DoctorFinding] = []

    mutating func add(_ finding: DoctorFinding) { findings.append(finding) }

    /// The value of a fact; a failure is reported (once: the report drops repeated lines),
    /// a skip is not (its cause was reported where it happened).
    mutating func need<Value>(_ fetched: Fetched<Value>) -> Value? {
        switch fetched {
        case .value(let value): return value
        case .failed(let error): add(failure(error))
        case .skipped: break
        }
        return nil
    }

    var region: String? { account.region.value }
    var vpcID: String? { account.node.value?.vpcID }

    /// The line for an API call that failed, with the fix its kind calls for.
    func failure(_ error: APIError, check: String = "api", status: DoctorFinding.Status = .fail) -> DoctorFinding {
        let what = "\(error.action): \(error.message)"
        switch error.kind {
        case .denied:
            let action = error.action.split(separator: " ").first.map(String.init) ?? error.action
            return DoctorFinding(check, status, "\(what): IAM does not allow \(action) to these credentials",
                                 fix: Fix.iamPolicy("overcast-\(action.lowercased())", actions: [action], resources: ["*"],
                                                   credentials: account.credentials.value))
        case .throttled:
            return DoctorFinding(check, status, "\(what) (still throttled after the client's retries)",
                                 fix: "run doctor again in a minute; if it persists, find what else calls the EC2 API in this account and region")
        case .serverError:
            return DoctorFinding(check, status, "\(what) (an error on the API's side)",
                                 fix: "run doctor again later; if it persists, check https://health.aws.amazon.com/health/status")
        case .timeout, .unreachable:
            return DoctorFinding(check, status, "\(what) (no answer from \(account.endpoint); doctor made no further EC2 calls)",
                                 fix: "curl -sS -m 5 -o /dev/null -w '%{http_code}\\n' \(account.endpoint)")
        case .malformed:
            return DoctorFinding(check, status, "\(what) (not an EC2 answer: is \(account.endpoint) the EC2 API?)",
                                 fix: "curl -sS -m 5 \(account.endpoint)")
        case .expiredCredentials:
            return DoctorFinding(check, status, "\(what) (the credentials or the request's time were refused as expired)",
                                 fix: "renew the credentials (an instance role renews its own), check this host's clock (chronyc tracking), then: aws sts get-caller-identity")
        case .badCredentials:
            return DoctorFinding(check, status, "\(what) (AWS refused the credentials)", fix: "aws sts get-caller-identity")
        case .configuration:
            return DoctorFinding(check, status, what)
        case .other:
            return DoctorFinding(check, status, what)
        }
    }
}
