import NetworkTypes
/// The checks that need the whole configuration: references between blocks, duplicates,
/// keepalived's per-version rules, and the defaults that depend on other keywords
/// (version, transport). Facts of the host (interfaces) are warnings only, since
/// configurations are often checked on another machine.
struct Validator {
    var config: OvercastConfiguration
    var reader: ValueReader
    let hostInterfaces: Set<String>?

    mutating func run() {
        let overlayNames = Set(config.overlays.map(\.name))
        var seenNames: [String: SourceLocation] = [:]
        var seenRouters: [String: SourceLocation] = [:]
        var seenVIPs: [IPv4Address: String] = [:]
        // keepalived drops a vrrp_script without a script (e.g. all its lines were
        // conditional on another config id) and says so; so does Overcast.
        for script in config.vrrpScripts where script.script.isEmpty {
            reader.warning(script.location, "vrrp_script \(script.name) has no script; removed")
        }
        config.vrrpScripts.removeAll { $0.script.isEmpty }
        for index in config.vrrpScripts.indices where config.vrrpScripts[index].timeout == nil {
            config.vrrpScripts[index].timeout = config.vrrpScripts[index].interval   // keepalived's default
        }
        let scriptNames = Set(config.vrrpScripts.map(\.name))
        validateTrackFiles()

        for index in config.instances.indices {
            var i = config.instances[index]
            if let first = seenNames[i.name] {
                reader.error(i.location, "vrrp_instance \(i.name) is defined twice (first at \(first))")
            }
            seenNames[i.name] = i.location
            let version = i.version ?? config.globalDefs.vrrpVersion
            i.version = version
            // Instance settings that default to global_defs get their effective value.
            let g = config.globalDefs
            i.garpMasterDelay = i.garpMasterDelay ?? g.vrrpGarpMasterDelay
            i.garpMasterRepeat = i.garpMasterRepeat ?? g.vrrpGarpMasterRepeat
            i.garpMasterRefresh = i.garpMasterRefresh ?? g.vrrpGarpMasterRefresh
            i.garpMasterRefreshRepeat = i.garpMasterRefreshRepeat ?? g.vrrpGarpMasterRefreshRepeat
            applyStrictAndAcceptMode(&i, version: version)

            guard let vrid = i.virtualRouterID else {
                reader.error(i.location, "vrrp_instance \(i.name) has no virtual_router_id (1-255)")
                config.instances[index] = i
                continue
            }
            if i.interface == nil {
                reader.error(i.location, "vrrp_instance \(i.name) has no interface")
            } else if let interface = i.interface, let host = hostInterfaces, !host.contains(interface), !overlayNames.contains(interface) {
                reader.warning(i.location, "vrrp_instance \(i.name): interface \(interface) does not exist on this host")
            }
            let routerKey = "\(i.interface ?? "")/\(vrid)"
            if let first = seenRouters[routerKey] {
                reader.error(i.location, "virtual_router_id \(vrid) on \(i.interface ?? "?") is already used by the instance at \(first)")
            }
            seenRouters[routerKey] = i.location

            // advert_int: v2 carries whole seconds, v3 centiseconds up to 40.95 s.
            if version == 2 {
                if i.advertInt != i.advertInt.rounded(.up) {
                    let rounded = max(1, i.advertInt.rounded(.up))
                    reader.warning(i.location, "vrrp_instance \(i.name): VRRPv2 advertises whole seconds; advert_int \(i.advertInt.formatted) is used as \(rounded.formatted)")
                    i.advertInt = rounded
                }
            } else {
                if i.advertInt > 40.95 {
                    reader.error(i.location, "vrrp_instance \(i.name): VRRPv3 advert_int is at most 40.95 seconds, not \(i.advertInt.formatted)")
                }
                let centiseconds = (i.advertInt * 100).rounded()
                if abs(centiseconds - i.advertInt * 100) > 1e-6 {
                    reader.warning(i.location, "vrrp_instance \(i.name): advert_int \(i.advertInt.formatted) is rounded to \((centiseconds / 100).formatted) (VRRPv3 counts centiseconds)")
                    i.advertInt = centiseconds / 100
                }
            }
            if i.nopreempt && i.state == .master {
                reader.warning(i.location, "vrrp_instance \(i.name): nopreempt has no effect with state MASTER (keepalived says the same); use state BACKUP")
            }
            if i.authType == .password && (i.authPass ?? "").isEmpty {
                reader.error(i.location, "vrrp_instance \(i.name): auth_type PASS needs auth_pass")
            }
            if i.authType == .hmacSHA256 && i.authKeyFile == nil {
                reader.error(i.location, "vrrp_instance \(i.name): auth_type HMAC_SHA256 needs auth_key_file (a key of 16 bytes or more, mode 600)")
            }
            if i.authType != .hmacSHA256 && i.authKeyFile != nil {
                reader.warning(i.location, "vrrp_instance \(i.name): auth_key_file is used only with auth_type HMAC_SHA256")
            }
            if version == 3 && i.authType != nil && i.authType != .hmacSHA256 {
                reader.warning(i.location, "vrrp_instance \(i.name): VRRPv3 has no authentication; the authentication block is ignored")
                i.authType = nil
                i.authPass = nil
            }

            // Transport: explicit, else an overlay interface means gre, peers mean unicast.
            let onOverlay = i.interface.map(overlayNames.contains) ?? false
            let transport = i.transport ?? (onOverlay ? .gre : (i.unicastPeers.isEmpty ? .multicast : .unicast))
            i.transport = transport
            switch transport {
            case .unicast, .replicate:
                if i.unicastPeers.isEmpty {
                    reader.error(i.location, "vrrp_instance \(i.name): transport \(transport.rawValue) needs unicast_peer { ... }")
                }
            case .gre:
                if !onOverlay {
                    reader.error(i.location, "vrrp_instance \(i.name): transport gre needs interface to name an overlay block"
                                 + (config.overlays.isEmpty ? " (there is none)" : " (\(config.overlays.map(\.name).joined(separator: ", ")))"))
                }
            case .multicast:
                break
            }
            if let source = i.unicastSrcIP, i.unicastPeers.contains(source) {
                reader.error(i.location, "vrrp_instance \(i.name): unicast_src_ip \(source) is also listed as a unicast_peer")
            }
            for (n, peer) in i.unicastPeers.enumerated() where i.unicastPeers.prefix(n).contains(peer) {
                reader.warning(i.location, "vrrp_instance \(i.name): unicast_peer \(peer) is listed twice")
            }
            for vip in i.virtualIPAddresses {
                if let other = seenVIPs[vip.address], other != i.name {
                    reader.error(vip.location, "virtual address \(vip.address) is also managed by vrrp_instance \(other)")
                }
                seenVIPs[vip.address] = i.name
            }
            for track in i.trackScripts where !scriptNames.contains(track.name) {
                reader.warning(track.location, "track_script \(track.name) is not defined by any vrrp_script; ignored")
            }
            i.trackScripts.removeAll { !scriptNames.contains($0.name) }
            config.instances[index] = i
        }

        let instanceNames = Set(config.instances.map(\.name))
        for g in config.syncGroups {
            for member in g.group where !instanceNames.contains(member) {
                reader.warning(g.location, "vrrp_sync_group \(g.name): no vrrp_instance named \(member); ignored")
            }
            if g.group.isEmpty { reader.error(g.location, "vrrp_sync_group \(g.name) has an empty group") }
        }
        warnOfSyncGroupWeights()
        validateVirtualServers()
        validateOverlays()
        validateRouting()
    }

    /// keepalived sets the tracking weights of a sync group's members to 0 unless the
    /// group has `sync_group_tracking_weight`: said at each weight it drops.
    private mutating func warnOfSyncGroupWeights() {
        let weights = Dictionary(config.vrrpScripts.map { ($0.name, $0.weight) }, uniquingKeysWith: { first, _ in first })
        let fileWeights = Dictionary(config.trackFiles.map { ($0.name, $0.weight) }, uniquingKeysWith: { first, _ in first })
        for g in config.syncGroups where !g.trackingWeight {
            let note = "weight ignored: members of vrrp_sync_group \(g.name) track with weight 0 (a failure is a FAULT) unless it sets sync_group_tracking_weight"
            for track in g.trackScripts where (track.weight ?? weights[track.name] ?? 0) != 0 {
                reader.warning(track.location, "track_script \(track.name): \(note)")
            }
            if g.trackInterfaces.contains(where: { $0.weight != 0 }) { reader.warning(g.location, "track_interface: \(note)") }
            for track in g.trackFiles where (track.weight ?? fileWeights[track.name] ?? 0) != 0 {
                reader.warning(track.location, "track_file \(track.name): \(note)")
            }
            for i in config.instances where g.group.contains(i.name) {
                for track in i.trackScripts where (track.weight ?? weights[track.name] ?? 0) != 0 {
                    reader.warning(track.location, "vrrp_instance \(i.name) track_script \(track.name): \(note)")
                }
                for track in i.trackFiles where (track.weight ?? fileWeights[track.name] ?? 0) != 0 {
                    reader.warning(track.location, "vrrp_instance \(i.name) track_file \(track.name): \(note)")
                }
                if i.trackInterfaces.contains(where: { $0.weight != 0 }) {
                    reader.warning(i.location, "vrrp_instance \(i.name) track_interface: \(note)")
                }
            }
        }
    }

    /// A virtual server by fwmark, or of a group with a fwmark entry.
    private func usesFwmark(_ v: VirtualServer) -> Bool {
        switch v.key {
        case .fwmark: return true
        case .address: return false
        case .group(let name):
            return config.virtualServerGroups.contains { $0.name == name && $0.members.contains { $0.fwmark != nil } }
        }
    }

    private mutating func validateVirtualServers() {
        let groups = Set(config.virtualServerGroups.map(\.name))
        for index in config.virtualServers.indices {
            var v = config.virtualServers[index]
            if case .group(let name) = v.key, !groups.contains(name) {
                reader.error(v.location, "virtual_server group \(name): no virtual_server_group of that name")
            }
            if v.haSuspend && usesFwmark(v) {
                // keepalived's check_data.c: an error there, and ha_suspend is cleared.
                reader.warning(v.location, "ha_suspend cannot be used with fwmarks (a mark has no address to wait for): ignored")
                v.haSuspend = false
            }
            var port: Int?
            if case .address(_, let p) = v.key { port = p }
            for r in v.realServers.indices {
                if v.realServers[r].port == nil { v.realServers[r].port = port }
                for c in v.realServers[r].checkers.indices {
                    v.realServers[r].checkerDefaults.fill(&v.realServers[r].checkers[c])
                    v.checkerDefaults.fill(&v.realServers[r].checkers[c])
                    if v.realServers[r].checkers[c].connectTimeout == nil {
                        v.realServers[r].checkers[c].connectTimeout = HealthChecker.defaultConnectTimeout
                    }
                }
                for checker in v.realServers[r].checkers where [.httpGet, .sslGet].contains(checker.kind) && checker.urls.isEmpty {
                    reader.error(checker.location, "\(checker.kind.rawValue) needs at least one url { path ... }")
                }
            }
            if v.realServers.isEmpty && v.sorryServer == nil {
                reader.warning(v.location, "virtual_server has no real_server")
            }
            config.virtualServers[index] = v
        }
    }

    private mutating func validateOverlays() {
        for o in config.overlays {
            if o.local == nil { reader.error(o.location, "overlay \(o.name) needs local (this node's underlay address)") }
            if o.peers.isEmpty { reader.error(o.location, "overlay \(o.name) needs peers { ... }") }
            if o.address == nil { reader.error(o.location, "overlay \(o.name) needs address (this node's overlay CIDR)") }
            if let local = o.local, o.peers.contains(local) {
                reader.error(o.location, "overlay \(o.name): local \(local) is also listed as a peer")
            }
            if o.name.utf8.count > 15 { reader.error(o.location, "overlay name \(o.name) is longer than an interface name may be (15)") }
        }
    }
}

/// The result of reading a configuration: the model, every diagnostic, the files read.
public struct ConfigurationReport: Sendable {
    public var configuration: OvercastConfiguration
    public var diagnostics: [Diagnostic]
    public var files: [String]
    /// Statements read and not acted on (ignored and unknown keywords), in file order.
    public var ignored: [IgnoredStatement] = []
    public var isValid: Bool { !diagnostics.contains { $0.severity == .error } }

    /// `check-config --strict`: every warning counts as an error (for CI of users' files,
    /// where a line Overcast does not act on should stop the change).
    public func strict() -> ConfigurationReport {
        var report = self
        report.diagnostics = diagnostics.map { Diagnostic(.error, $0.location, $0.message) }
        return report
    }
}

public enum ConfigurationLoader {
    /// Reads `path` (and its includes) into a validated configuration. Never throws:
    /// every problem is a diagnostic, and as much as could be read is kept.
    /// `verifyAuthKeyFiles: false` keeps each `auth_key_file` path without opening it
    /// (see `ValueReader.verifiesAuthKeyFiles`).
    public static func load(path: String, configID: String? = nil, hostInterfaces: Set<String>? = nil,
                            verifyAuthKeyFiles: Bool = true) -> ConfigurationReport {
        var source = ConfigSource(configID: configID)
        let statements = source.read(path: path)
        return build(statements, source: source, hostInterfaces: hostInterfaces, verifyAuthKeyFiles: verifyAuthKeyFiles)
    }

    /// `expansionBudget` bounds what `$NAME` and `~SEQ` may produce (the fuzzer keeps it small).
    public static func load(text: String, file: String = "<text>", configID: String? = nil,
                            hostInterfaces: Set<String>? = nil, verifyAuthKeyFiles: Bool = true,
                            expansionBudget: Int = 16 << 20) -> ConfigurationReport {
        var source = ConfigSource(configID: configID, expansionBudget: expansionBudget)
        let statements = source.parse(text: text, file: file)
        return build(statements, source: source, hostInterfaces: hostInterfaces, verifyAuthKeyFiles: verifyAuthKeyFiles)
    }

    /// Reads already parsed statements: for callers that also need the statements
    /// themselves (the cluster check indexes their source locations).
    public static func load(statements: [Statement], source: ConfigSource, hostInterfaces: Set<String>? = nil,
                            verifyAuthKeyFiles: Bool = true) -> ConfigurationReport {
        build(statements, source: source, hostInterfaces: hostInterfaces, verifyAuthKeyFiles: verifyAuthKeyFiles)
    }

    private static func build(_ statements: [Statement], source: ConfigSource, hostInterfaces: Set<String>?,
                              verifyAuthKeyFiles: Bool) -> ConfigurationReport {
        var reader = ValueReader()
        reader.verifiesAuthKeyFiles = verifyAuthKeyFiles
        var config = OvercastConfiguration()
        TopLevelKeywords.schema.apply(statements, to: &config, &reader)
        var validator = Validator(config: config, reader: reader, hostInterfaces: hostInterfaces)
        validator.run()
        let diagnostics = (source.diagnostics.all + validator.reader.diagnostics.all).sorted { $0.location < $1.location }
        return ConfigurationReport(configuration: validator.config, diagnostics: diagnostics, files: source.files,
                                   ignored: validator.reader.ignored.sorted { $0.location < $1.location })
    }
}
