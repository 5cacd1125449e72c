/// Asking EC2 whether a write would be allowed without making it: the `DryRun=true`
/// parameter every EC2 write action takes. AWS checks the caller's permissions and
/// answers HTTP 412 with the error code `DryRunOperation` when the call would have
/// succeeded, or `UnauthorizedOperation` when IAM denies it; nothing changes either way.
/// `overcast doctor` uses it to prove the daemon's ReplaceRoute and CreateRoute will be
/// allowed before the first failover needs them.

extension EC2Request {
    /// This request with `DryRun=true` (replacing any DryRun parameter it had).
    public var dryRun: EC2Request {
        var copy = self
        copy.parameters.removeAll { $0.name == "DryRun" }
        copy.parameters.append(Parameter(name: "DryRun", value: "true"))
        return copy
    }

    /// Whether this request carries `DryRun=true`.
    public var isDryRun: Bool { parameters.contains { $0.name == "DryRun" && $0.value == "true" } }
}

/// What a DryRun write was answered.
public enum DryRunAnswer: Sendable, Hashable {
    /// `DryRunOperation`: the caller may make this call.
    case allowed
    /// A success answer: the endpoint ignored `DryRun` and may have made the change (not
    /// AWS; some emulators do this). The caller should stop sending writes there.
    case performed
}

extension EC2Failure {
    /// The answer AWS gives a permitted DryRun request.
    public var isDryRunSuccess: Bool {
        if case .service("DryRunOperation", _, _, _) = self { return true }
        return false
    }

    /// IAM refused the call (`UnauthorizedOperation`, or `AccessDenied` on some endpoints).
    public var isAuthorizationFailure: Bool {
        if case .service(let code, _, _, _) = self {
            return code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AccessDeniedException"
        }
        return false
    }
}

extension EC2Client {
    /// Sends `request` with `DryRun=true` and reads the answer: `DryRunOperation` is the
    /// success of a dry run, so it comes back as `.allowed` rather than thrown. Every other
    /// failure (denied, throttled, unreachable...) is thrown as it came. The request is
    /// always sent as a dry run, whatever the caller built: this entry point cannot write.
    public func dryRun(_ request: EC2Request) throws(EC2Failure) -> DryRunAnswer {
        do {
            _ = try send(request.dryRun)
            return .performed
        } catch where error.isDryRunSuccess {
            return .allowed
        }
    }
}
