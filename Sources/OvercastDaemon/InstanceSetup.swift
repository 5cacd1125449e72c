import Config
import LinuxNet
import VRRP
import VRRPAuthentication

/// One VRRP instance resolved against this host: the configuration plus the interface
/// index, MAC and source address it will use. Two setups compare equal exactly when a
/// reload can keep the running instance untouched.
struct InstanceSetup: Sendable, Equatable {
    struct GARP: Sendable, Equatable {
        var delay: Double
        var repeatCount: Int
        var refresh: Double
        var refreshRepeat: Int
    }

    var name: String
    var router: VirtualRouter.Configuration
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
    var manageAddresses: Bool
    var garp: GARP
    var notify: Notify
    var trackedInterfaces: [TrackedInterface]
    var trackedScripts: [TrackedScript]
    var dontTrackPrimary: Bool
    var routeFailover: RouteFailoverSettings?
    /// `auth_type HMAC_SHA256`: the key (read from auth_key_file) and replay window.
    var authenticator: HMACAuthenticator? = nil

    var source: IPv4Address { router.stateMachine.primaryAddress }

    /// Everything but the route failover settings: when only those change, a reload keeps
    /// the VRRP instance running and swaps the route failover worker.
    var withoutRouteFailover: InstanceSetup {
        var copy = self
        copy.routeFailover = nil
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
        guard let interfaceName = instance.interface, let vrid = instance.virtualRouterID else {
            throw fail("incomplete (check-config reports why)")
        }
        let links = try netlink.links()
        guard let link = links.first(where: { $0.name == interfaceName }) else {
            throw fail("interface \(interfaceName) does not exist")
        }
        let source: IPv4Address
        if let configured = instance.unicastSrcIP ?? instance.mcastSrcIP {
            guard let address = IPv4Address(configured) else { throw fail("bad source address \(configured)") }
            source = address
        } else {
            let own = try netlink.addresses(interfaceIndex: link.index).filter { $0.scope == 0 }
            let vips = Set(instance.virtualIPAddresses.compactMap { IPv4Address($0.address) })
            guard let primary = own.first(where: { !vips.contains($0.address) }) else {
                throw fail("interface \(interfaceName) has no IPv4 address to send VRRP from (set unicast_src_ip)")
            }
            source = primary.address
        }
        let version: VRRPVersion = (instance.version ?? config.globalDefs.vrrpVersion) == 3 ? .v3 : .v2
        let interval = Centiseconds(Int((instance.advertInt * 100).rounded()))
        let machine = VRRPStateMachine.Configuration(
            version: version, priority: UInt8(clamping: instance.priority), advertisementInterval: interval,
            primaryAddress: source, preempt: !instance.nopreempt,
            preemptDelay: .milliseconds(Int64((instance.preemptDelay * 1000).rounded())))
        let peers = instance.unicastPeers.compactMap(IPv4Address.init)
        let transport = instance.transport ?? (peers.isEmpty ? .multicast : .unicast)
        let usesAuth = version == .v2 && instance.authType == "PASS"
        var authenticator: HMACAuthenticator?
        if instance.authType == "HMAC_SHA256", let file = instance.authKeyFile {
            do {
                authenticator = HMACAuthenticator(key: try AuthKeyFile.read(file), replayWindowSeconds: instance.authReplayWindow)
            } catch {
                throw fail("\(error)")
            }
        }
        let router = VirtualRouter.Configuration(
            virtualRouterID: UInt8(clamping: vrid), stateMachine: machine,
            virtualAddresses: instance.virtualIPAddresses.compactMap { IPv4Address($0.address) },
            authType: usesAuth ? .simplePassword : .none, authPassword: usesAuth ? instance.authPass : nil,
            unicastPeers: transport == .unicast || transport == .replicate ? peers : nil)

        var addresses: [InterfaceAddress] = []
        var vipMACs: [Int32: [UInt8]] = [:]
        for vip in instance.virtualIPAddresses {
            guard let address = IPv4Address(vip.address) else { continue }
            let device = vip.device ?? interfaceName
            guard let target = links.first(where: { $0.name == device }) else {
                throw fail("virtual_ipaddress \(vip.address): dev \(device) does not exist")
            }
            vipMACs[target.index] = target.hardwareAddress
            addresses.append(InterfaceAddress(
                address: address, prefixLength: vip.prefixLength, interfaceIndex: target.index, label: vip.label,
                scope: vip.scope.flatMap(InterfaceAddress.scope(named:)) ?? 0,
                broadcast: vip.broadcast.flatMap { IPv4Address($0) }))
        }
        let g = config.globalDefs
        return InstanceSetup(
            name: instance.name, router: router, interfaceName: interfaceName, interfaceIndex: link.index,
            hardwareAddress: link.hardwareAddress, vipInterfaceHardwareAddresses: vipMACs, transportKind: transport, replicateMode: instance.replicateMode, unicastTTL: UInt8(clamping: instance.unicastTTL),
            virtualAddresses: addresses, manageAddresses: !instance.noVirtualIPAddress,
            garp: GARP(delay: instance.garpMasterDelay ?? g.vrrpGarpMasterDelay,
                       repeatCount: instance.garpMasterRepeat ?? g.vrrpGarpMasterRepeat,
                       refresh: instance.garpMasterRefresh ?? g.vrrpGarpMasterRefresh,
                       refreshRepeat: instance.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat),
            notify: instance.notify, trackedInterfaces: instance.trackInterfaces, trackedScripts: instance.trackScripts,
            dontTrackPrimary: instance.dontTrackPrimary,
            routeFailover: instance.ec2RouteFailover.map { ec2 in
                RouteFailoverSettings(
                    tables: ec2.routeTables, destinations: router.virtualAddresses.map { "\($0)/32" }, target: ec2.target,
                    instanceID: ec2.instanceID, region: ec2.region, endpoint: ec2.endpoint,
                    imdsEndpoint: ec2.imdsEndpoint ?? "http://169.254.169.254", refresh: ec2.refresh, apiTimeout: ec2.apiTimeout,
                    mac: link.hardwareAddress.map { hexEncode([$0]) }.joined(separator: ":"))
            },
            authenticator: authenticator)
    }
}
