import EC2

/// Reaching the API at all: region, credentials, IMDSv2, the clock, retried calls.
extension Checkup {
    mutating func checkAccess() {
        if let region = need(account.region) { add(.pass("region", "region \(region), EC2 endpoint \(account.endpoint)")) }
        checkMetadata()
        switch account.credentials {
        case .value(let description): add(.pass("credentials", description))
        case .failed(let error):
            add(DoctorFinding("credentials", .fail, error.message,
                              fix: "aws ec2 associate-iam-instance-profile --instance-id \(account.instanceID.value ?? "INSTANCE_ID") "
                                + "--iam-instance-profile Name=PROFILE_WITH_THE_POLICY (or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"))
        case .skipped: break
        }
        checkClock()
        if !account.retried.isEmpty {
            add(.warn("api", "\(account.retried.count) EC2 call\(account.retried.count == 1 ? "" : "s") failed and succeeded when retried ("
                      + account.retried.joined(separator: ", ") + "): the daemon retries too, but a failover then takes longer"))
        }
    }

    /// IMDSv2: a FAIL when the daemon depends on it, a WARN when the configuration gives
    /// everything it would have asked for.
    private mutating func checkMetadata() {
        let probe = account.metadata
        switch probe.instanceID {
        case .value(let id):
            add(.pass("imds", "IMDSv2 at \(probe.endpoint): token PUT and instance-id GET answered (\(id))"))
        case .failed(let error):
            let needed = probe.neededFor.isEmpty ? "the configuration gives what the daemon would ask it for"
                : "the daemon needs it for \(probe.neededFor.joined(separator: ", "))"
            let status: DoctorFinding.Status = probe.neededFor.isEmpty ? .warn : .fail
            var detail = "IMDSv2 at \(probe.endpoint): \(error.message); \(needed)"
            if error.kind == .timeout {
                detail += ". A time-out on the token PUT is what a hop limit of 1 does to a container or a network namespace"
            }
            add(DoctorFinding("imds", status, detail, fix: Fix.metadataOptions(instance: account.instanceID.value)))
        case .skipped: break
        }
    }

    /// SigV4 signs the time: AWS refuses a request more than 5 minutes off its clock.
    private mutating func checkClock() {
        switch account.clockSkew {
        case .value(let skew):
            let size = abs(skew)
            let text = size < 1 ? "this host's clock agrees with the API's (its Date header) within 1 s"
                : "this host's clock is \(Int(size.rounded())) s \(skew > 0 ? "behind" : "ahead of") the API's (its Date header)"
            let fix = "chronyc makestep (or: timedatectl set-ntp true); on EC2, chrony with the Amazon Time Sync Service at 169.254.169.123"
            if size > 300 {
                add(.fail("clock", text + ": SigV4 refuses requests more than 300 s off", fix: fix))
            } else if size > 60 {
                add(.warn("clock", text + ": more than 60 s, close to SigV4's 300 s limit", fix: fix))
            } else {
                add(.pass("clock", text))
            }
        case .failed(let error):
            add(.warn("clock", "could not read the API's Date header: \(error.message)"))
        case .skipped: break
        }
    }
}
