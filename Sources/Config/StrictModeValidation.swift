/// keepalived's strict mode (`vrrp_strict`, `strict_mode`) and VRRPv3 Accept Mode
/// (`accept`, `no_accept`), decided as keepalived's instance completion decides them
/// (vrrp.c): each strict refusal is an error where keepalived refuses the instance, and
/// a warning with the value reset where keepalived resets it and runs on.
extension Validator {
    mutating func applyStrictAndAcceptMode(_ i: inout VRRPInstance, version: Int) {
        let strict = i.strictMode ?? config.globalDefs.vrrpStrict
        i.strictMode = strict
        if strict { applyStrictMode(&i, version: version) }
        let decision = AcceptMode.decide(written: i.accept, priority: i.priority, strict: strict, version: version)
        if decision.resetForVersion2 {
            reader.warning(i.keywordLocations["accept"] ?? i.location,
                           "vrrp_instance \(i.name): accept mode with VRRP version 2 does not comply with RFC 3768 in strict mode; "
                           + "accept mode is off (the MASTER drops traffic to its VIPs)")
        }
        i.accept = decision.accept
    }

    /// The strict checks, in keepalived's order.
    private mutating func applyStrictMode(_ i: inout VRRPInstance, version: Int) {
        func at(_ keyword: String) -> SourceLocation { i.keywordLocations[keyword] ?? i.location }
        let name = "vrrp_instance \(i.name): strict mode"
        let owner = i.priority == 255
        if i.keywordLocations["state"] != nil, (i.state == .master) != owner {
            let state: VRRPInstance.InitialState = owner ? .master : .backup
            reader.warning(at("state"), "\(name): state MASTER must match being the address owner (priority 255); "
                           + "state \(state.rawValue) is used")
            i.state = state
        }
        if let type = i.authType {
            if type == .hmacSHA256 {
                // Dropping the HMAC trailer would silently take the protection away.
                reader.error(at("authentication"), "\(name) allows no authentication, and auth_type HMAC_SHA256 is "
                             + "Overcast's extension of VRRP; remove vrrp_strict/strict_mode or the authentication block")
            } else {
                reader.warning(at("authentication"), "\(name) does not support authentication; auth_type \(type.rawValue) is ignored")
                i.authType = nil
                i.authPass = nil
            }
        }
        if !i.unicastPeers.isEmpty {
            reader.error(at("unicast_peer"), "\(name): unicast peers are not supported in strict mode (VRRP is multicast)")
        }
        if i.preemptDelay > 0 {
            reader.warning(at("preempt_delay"), "\(name): preempt_delay is incompatible with strict mode; reset to 0")
            i.preemptDelay = 0
        }
        if i.noVirtualIPAddress {
            reader.warning(at("no_virtual_ipaddress"), "\(name): no_virtual_ipaddress is incompatible with strict mode; cleared")
            i.noVirtualIPAddress = false
        }
        if i.virtualIPAddresses.isEmpty {
            reader.error(i.location, "\(name): no VIP specified; at least one is required")
        }
    }
}

/// VRRPv3 Accept Mode (RFC 5798 6.1): whether a MASTER that is not the address owner
/// takes packets addressed to its VIPs.
public enum AcceptMode {
    public struct Decision: Equatable, Sendable {
        /// The effective mode.
        public var accept: Bool
        /// `accept` was written for VRRPv2 in strict mode, and was turned off (RFC 3768
        /// has no Accept Mode: a backup router never takes the VIPs' traffic).
        public var resetForVersion2: Bool
    }

    /// keepalived's rule: unset means on, unless strict mode (off); the address owner
    /// (priority 255) always accepts; written `accept` with strict VRRPv2 is reset to off.
    public static func decide(written: Bool?, priority: Int, strict: Bool, version: Int) -> Decision {
        let owner = priority == 255
        let accept = owner ? true : (written ?? !strict)
        if accept && !owner && strict && version == 2 { return Decision(accept: false, resetForVersion2: true) }
        return Decision(accept: accept, resetForVersion2: false)
    }
}

extension VRRPInstance {
    /// The MASTER must drop traffic to and from its VIPs: Accept Mode is off and it is
    /// not the address owner (valid after validation, which decides `accept`).
    public var dropsVIPTraffic: Bool { priority != 255 && accept == false }
}
