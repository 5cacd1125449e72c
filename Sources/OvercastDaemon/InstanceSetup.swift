import CloudRoutes
import Config
import InstanceConfiguration
import LinuxNet
import NetworkTypes
import VRRP
import VRRPAuthentication

/// One VRRP instance resolved against this host: the configuration plus the interface
/// index, MAC and source address it will use. Two setups compare equal exactly when a
/// reload can keep the running instance untouched.
struct InstanceSetup: Sendable, Equatable {
    /// What the instance decides with: the protocol, tracking, GARP and notify settings.
    var core: InstanceCore.Configuration
    var name: String { core.name }
    var router: VirtualRouter.Configuration { core.router }
    var interfaceName: String
    var interfaceIndex: Int32
    var hardwareAddress: [UInt8]
    /// The MAC of every interface a virtual address lives on, for its gratuitous ARPs
    /// (with the GRE transport VRRP runs on the overlay while the VIP is on eth0).
    var vipInterfaceHardwareAddresses: [Int32: [UInt8]] = [:]
    var transportKind: TransportKind
    var replicateMode: ReplicateMode
    var unicastTTL: UInt8
    var virtualAddresses: [InterfaceAddress]
    /// The VIPs written with `no_track`: their deletion leaves the MASTER be.
    var untrackedVirtualAddresses: Set<InterfaceAddress> = []
    /// What else the MASTER puts into the kernel: `virtual_ipaddress_excluded`,
    /// `virtual_routes`, `virtual_rules` (see `HostEnvironment.addVirtualAddresses`).
    var masterState = KernelState()
    /// `promote_secondaries`: the interface's sysctl is set at start.
    var promoteSecondaries = false
    var routeFailover: RouteFailoverSettings?
    /// `auth_type HMAC_SHA256`: the key (read from auth_key_file) and replay window.
    var authenticator: HMACAuthenticator? = nil
    /// Accept Mode off and not the address owner: while MASTER its VIPs are in the
    /// nftables set that drops their traffic (`VIPFirewall`).
    var dropsVIPTraffic = false

    var source: IPv4Address { router.stateMachine.primaryAddress }

    /// What a reload cannot change without restarting the instance: everything but the
    /// route failover settings (the worker is swapped), the MASTER's kernel state besides
    /// its VIPs (moved in place, `HostEnvironment.replaceMasterState`) and what the core adopts in place
    /// (`InstanceCore.canReconfigure`: notify scripts, GARP schedule, tracked items).
    var restartKey: InstanceSetup {
        var copy = self
        copy.routeFailover = nil
        copy.masterState = KernelState()
        copy.core.garp = GARPSchedule()
        copy.core.notify = NotifyScripts()
        copy.core.tracked = []
        return copy
    }

    struct ResolutionError: Error, CustomStringConvertible {
        var description: String
    }

    /// Resolves `instance` on this host through netlink.
    static func resolve(_ instance: VRRPInstance, in config: OvercastConfiguration, netlink: NetlinkSocket) throws -> InstanceSetup {
        func fail(_ message: String) -> ResolutionError {
            ResolutionError(description: "\(instance.location): vrrp_instance \(instance.name): \(message)")
        }
        guard let interfaceName = instance.interface, instance.virtualRouterID != nil else {
            throw fail("incomplete (check-config reports why)")
        }
        let links = try netlink.links()
        guard let link = links.first(where: { $0.name == interfaceName }) else {
            throw fail("interface \(interfaceName) does not exist")
        }
        let source: IPv4Address
        if let configured = instance.unicastSrcIP ?? instance.mcastSrcIP {
            source = configured
        } else {
            let own = try netlink.addresses(interfaceIndex: link.index).filter { $0.scope == 0 }
            let vips = Set(instance.virtualIPAddresses.map(\.address))
            guard let primary = own.first(where: { !vips.contains($0.address) }) else {
                throw fail("interface \(interfaceName) has no IPv4 address to send VRRP from (set unicast_src_ip)")
            }
            source = primary.address
        }
        let transport = instance.effectiveTransport
        var authenticator: HMACAuthenticator?
        if instance.authType == .hmacSHA256, let file = instance.authKeyFile {
            do {
                authenticator = HMACAuthenticator(key: try AuthKeyFile.read(file), replayWindowSeconds: instance.authReplayWindow)
            } catch {
                throw fail("\(error)")
            }
        }
        let core: InstanceCore.Configuration
        do { core = try InstanceCore.Configuration(instance, in: config, source: source) } catch {
            throw ResolutionError(description: "\(error)")
        }
        let router = core.router

        var addresses: [InterfaceAddress] = []
        var vipMACs: [Int32: [UInt8]] = [:]
        var untracked: Set<InterfaceAddress> = []
        for vip in instance.virtualIPAddresses {
            let device = vip.device ?? interfaceName
            guard let target = links.first(where: { $0.name == device }) else {
                throw fail("virtual_ipaddress \(vip.address): dev \(device) does not exist")
            }
            vipMACs[target.index] = target.hardwareAddress
            addresses.append(InterfaceAddress(vip, interfaceIndex: target.index))
            if vip.noTrack { untracked.insert(InterfaceAddress(vip, interfaceIndex: target.index)) }
        }
        let masterState: KernelState
        do {
            masterState = try KernelState(addresses: instance.virtualIPAddressesExcluded, routes: instance.virtualRoutes,
                                          rules: instance.virtualRules, defaultDevice: interfaceName, links: links,
                                          what: "vrrp_instance \(instance.name)")
        } catch {
            throw ResolutionError(description: error.description)
        }
        for address in masterState.addresses.map(\.value) {
            if let link = links.first(where: { $0.index == address.interfaceIndex }) { vipMACs[link.index] = link.hardwareAddress }
        }
        return InstanceSetup(
            core: core, interfaceName: interfaceName, interfaceIndex: link.index,
            hardwareAddress: link.hardwareAddress, vipInterfaceHardwareAddresses: vipMACs, transportKind: transport, replicateMode: instance.replicateMode, unicastTTL: UInt8(clamping: instance.unicastTTL),
            virtualAddresses: addresses, untrackedVirtualAddresses: untracked, masterState: masterState, promoteSecondaries: instance.promoteSecondaries,
            routeFailover: instance.ec2RouteFailover.map { RouteFailoverSettings($0, virtualAddresses: router.virtualAddresses, interfaceMAC: link.hardwareAddress) },
            authenticator: authenticator, dropsVIPTraffic: instance.dropsVIPTraffic)
    }
}
