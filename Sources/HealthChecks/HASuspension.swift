import Config
#if canImport(Glibc)
import Glibc
#endif

/// keepalived's `ha_suspend` (check_api.c's update_checker_activity): a virtual server's
/// checkers rest while none of its addresses is on this host, so a BACKUP does not check
/// servers it is not serving, and start again when the address arrives (the VRRP
/// instance became MASTER). The real servers keep the state they had; a resting checker
/// wakes each delay_loop to see whether it may run, as keepalived's disabled one does.
public enum HASuspension {
    /// The addresses `vs` waits for, when it has ha_suspend: its own, or every address of
    /// its group's entries (`a.b.c.d-e` ranges expanded). nil: no ha_suspend, or one by
    /// fwmark, which validation has refused already.
    ///
    /// keepalived matches no address for a group (addr_matches returns false for any
    /// virtual_server group), so there a group's checkers never run; Overcast takes the
    /// group's addresses, as that function's unreachable code means to.
    public static func addresses(of vs: VirtualServer, in config: OvercastConfiguration) -> [[UInt8]]? {
        guard vs.haSuspend else { return nil }
        switch vs.key {
        case .address(let address, _):
            return AddressLiteral.octets(address).map { [$0] } ?? []
        case .fwmark:
            return nil
        case .group(let name):
            let members = config.virtualServerGroups.filter { $0.name == name }.flatMap(\.members)
            return members.flatMap { member -> [[UInt8]] in
                guard let address = member.address, let first = AddressLiteral.octets(address) else { return [] }
                guard first.count == 4, let end = member.rangeEnd, end >= Int(first[3]), end <= 255 else { return [first] }
                return (Int(first[3])...end).map { Array(first[0..<3]) + [UInt8($0)] }
            }
        }
    }

    /// Whether `server`'s checkers rest, given the host's addresses.
    public static func suspends(_ server: HealthPlan.Server, local: Set<[UInt8]>) -> Bool {
        guard let wanted = server.haSuspendAddresses else { return false }
        return !wanted.contains(where: local.contains)
    }
}
