import Foundation

/// The top level of keepalived.conf and `global_defs`.
enum TopLevelKeywords {
    static let schema: Schema<OvercastConfiguration> = {
        var s = Schema<OvercastConfiguration>("the top level")
        s.block("global_defs") { config, statement, reader in
            _ = reader.arguments(statement, 0...0)
            GlobalKeywords.schema.apply(statement.block ?? [], to: &config.globalDefs, &reader)
        }
        s.block("vrrp_script", "track_script") { config, statement, reader in
            guard let name = reader.string(statement) else { return }
            var script = VRRPScript(name: name, location: statement.location)
            VRRPScriptKeywords.schema.apply(statement.block ?? [], to: &script, &reader)
            config.vrrpScripts.append(script)
        }
        s.block("vrrp_sync_group") { config, statement, reader in
            guard let name = reader.string(statement) else { return }
            var group = SyncGroup(name: name, location: statement.location)
            SyncGroupKeywords.schema.apply(statement.block ?? [], to: &group, &reader)
            config.syncGroups.append(group)
        }
        s.block("vrrp_instance") { config, statement, reader in
            guard let name = reader.string(statement) else { return }
            var instance = VRRPInstance(name: name, location: statement.location)
            VRRPInstanceKeywords.schema.apply(statement.block ?? [], to: &instance, &reader)
            RoutingKeywords.assignPriorities(&instance.virtualRules, in: config, &reader)
            config.instances.append(instance)
        }
        s.block("virtual_server_group") { config, statement, reader in
            guard let name = reader.string(statement) else { return }
            config.virtualServerGroups.append(VirtualServerKeywords.group(name, statement, &reader))
        }
        s.block("virtual_server") { config, statement, reader in
            if let server = VirtualServerKeywords.virtualServer(statement, &reader) { config.virtualServers.append(server) }
        }
        s.block("overlay") { config, statement, reader in
            guard let name = reader.string(statement) else { return }
            var overlay = Overlay(name: name, location: statement.location)
            OverlayKeywords.schema.apply(statement.block ?? [], to: &overlay, &reader)
            config.overlays.append(overlay)
        }
        s.block("static_ipaddress") { config, statement, reader in
            config.staticAddresses += (statement.block ?? []).compactMap { VRRPInstanceKeywords.vip($0, &reader) }
        }
        s.block("static_routes") { config, statement, reader in config.staticRoutes += RoutingKeywords.routes(statement, &reader) }
        s.block("static_rules") { config, statement, reader in
            var rules = RoutingKeywords.rules(statement, &reader)
            RoutingKeywords.assignPriorities(&rules, in: config, &reader)
            config.staticRules += rules
        }
        s.ignore(["net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance"],
                 "run one Overcast per network namespace instead")
        s.block("track_file", "vrrp_track_file") { config, statement, reader in
            if let file = TrackFileKeywords.block(statement, &reader) { config.trackFiles.append(file) }
        }
        s.ignore(["track_bfd"], "Overcast has no BFD; track_interface, track_script and track_file are supported")
        s.ignore(["vrrp_track_process", "track_process"], "process tracking: use a vrrp_script that runs pidof or systemctl is-active",
                 containing: ["process", "param_match", "full_command", "quorum", "quorum_max", "delay", "terminate_delay",
                              "fork_delay", "weight"])
        s.ignore(["bfd_instance"], "Overcast has no BFD; detect a dead peer with VRRP's own timers (advert_int)",
                 containing: ["neighbor_ip", "neighbour_ip", "source_ip", "min_rx", "min_tx", "idle_tx", "multiplier",
                              "passive", "ttl", "hoplimit", "max_hops", "multihop", "vrrp", "checker", "weight"])
        s.ignore(["garp_group"], "gratuitous ARPs go out on each VIP's interface",
                 containing: ["garp_interval", "gna_interval", "interface", "interfaces"])
        s.ignore(["track_group"], "track_group limits which instances an interface's failure affects; use track_interface per instance",
                 containing: ["group"])
        s.ignore(["linkbeat_interfaces", "linkbeat_use_polling"], "Overcast follows link state through netlink events only")
        s.ignore(["interface_up_down_delays"], "link changes take effect at once; use a vrrp_script with rise/fall to damp them")
        s.ignore(["SSL"], "SSL_GET connects without a client certificate and does not verify the server's, as keepalived without this block",
                 containing: ["ca", "certificate", "key", "password"])
        s.ignore(["child_wait_time", "use_pid_dir"], "not needed by Overcast")
        return s
    }()
}

enum GlobalKeywords {
    static let schema: Schema<GlobalDefs> = {
        var s = Schema<GlobalDefs>("global_defs")
        s.value("router_id") { g, st, r in g.routerID = r.string(st) }
        s.value("enable_script_security") { g, st, r in g.enableScriptSecurity = r.flag(st) }
        s.value("script_user") { g, st, r in
            guard let args = r.arguments(st, 1...2) else { return }
            g.scriptUser = args[0].text
            g.scriptGroup = args.count > 1 ? args[1].text : nil
        }
        s.value("vrrp_version") { g, st, r in g.vrrpVersion = r.int(st, 2...3) ?? g.vrrpVersion }
        s.value("vrrp_garp_master_delay") { g, st, r in g.vrrpGarpMasterDelay = r.seconds(st, 0...255) ?? g.vrrpGarpMasterDelay }
        s.value("vrrp_garp_master_repeat") { g, st, r in g.vrrpGarpMasterRepeat = r.int(st, 1...255) ?? g.vrrpGarpMasterRepeat }
        s.value("vrrp_garp_master_refresh") { g, st, r in g.vrrpGarpMasterRefresh = r.seconds(st, 0...86400) ?? g.vrrpGarpMasterRefresh }
        s.value("vrrp_garp_master_refresh_repeat") { g, st, r in
            g.vrrpGarpMasterRefreshRepeat = r.int(st, 1...255) ?? g.vrrpGarpMasterRefreshRepeat
        }
        s.value("vrrp_garp_interval") { g, st, r in g.vrrpGarpInterval = r.seconds(st, 0...1) ?? g.vrrpGarpInterval }
        s.note("vrrp_garp_interval", "the pause between the rounds of a burst (each round announces every VIP)")
        s.value("vrrp_strict") { g, st, r in
            g.vrrpStrict = r.flag(st)
            g.vrrpStrictLocation = st.location
        }
        s.note("vrrp_strict", "keepalived's strict checks and resets for every instance without strict_mode, and Accept Mode "
               + "off by default (docs/accept-mode.md)")
        VIPFirewallKeywords.install(&s)
        // Behaviours Overcast always has: the keyword asks for nothing more.
        s.value("vrrp_skip_check_adv_addr") { _, st, r in _ = r.flag(st) }
        s.note("vrrp_skip_check_adv_addr", "always in effect: an advertisement is never dropped for its address list "
               + "(`overcast simulate` compares the nodes' lists)")
        s.value("vrrp_check_unicast_src") { _, st, r in _ = r.flag(st) }
        s.note("vrrp_check_unicast_src", "always in effect: a unicast advertisement from a source not in unicast_peer is dropped")
        s.value("script_timeout") { g, st, r in g.scriptTimeout = r.seconds(st, 1...3600) ?? g.scriptTimeout }
        s.value("default_interface") { g, st, r in g.defaultInterface = r.string(st) ?? g.defaultInterface }
        s.value("metrics_listen") { g, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            switch ListenAddress.parse(token.text) {
            case .success(let listen): g.metricsListen = listen
            case .failure(let reason): r.error(token.location, "metrics_listen: \(reason)")
            }
        }
        NotifyGlobalKeywords.install(&s)
        SMTPKeywords.install(&s)
        s.ignore(["enable_traps", "enable_snmp_vrrp", "enable_snmp_checker", "enable_snmp_rfc", "enable_snmp_rfcv2",
                  "enable_snmp_rfcv3", "enable_snmp_keepalived", "snmp_socket", "enable_dbus", "dbus_service_name"],
                 "SNMP and D-Bus: Overcast has `overcast status` and metrics")
        s.ignore(["lvs_sync_daemon", "lvs_timeouts", "lvs_flush", "lvs_flush_onstop", "lvs_id", "lvs_sync_daemon_interface"],
                 "IPVS connection sync and global IPVS settings")
        s.ignore(["lvs_flush_on_stop", "nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark"],
                 "IPVS: Overcast changes only the services it configures and never flushes the table")
        s.ignore(["bfd_cpu_affinity", "bfd_no_swap", "bfd_process_name", "bfd_rlimit_rtime", "bfd_rlimit_rttime", "bfd_rt_priority",
                  "bfd_priority"], "Overcast has no BFD process")
        s.ignore(["checker_rlimit_rtime", "checker_rlimit_rttime", "vrrp_rlimit_rtime", "vrrp_rlimit_rttime", "lvs_process_name",
                  "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force", "vrrp_netlink_cmd_rcv_bufs_force",
                  "vrrp_netlink_monitor_rcv_bufs_force", "lvs_netlink_cmd_rcv_bufs_force", "lvs_netlink_monitor_rcv_bufs_force"],
                 "keepalived's per-process tuning; Overcast is one process with its own buffer sizing")
        s.ignore(["json_dump_file", "json_version", "state_dump_file", "stats_dump_file"],
                 "keepalived's dump files: use `overcast status --json` and the metrics endpoint")
        s.ignore(["config_save_dir", "iproute_etc_dir", "iproute_usr_dir", "use_symlink_paths"], "not needed by Overcast")
        s.ignore(["vmac_prefix", "vmac_addr_prefix", "vrrp_vmac_garp_intvl"], "VMAC interfaces do not exist on cloud networks")
        s.ignore(["dbus_no_interface_name"], "SNMP and D-Bus: Overcast has `overcast status` and metrics")
        s.ignore(["snmp_rs_stats_update_interval", "snmp_vs_stats_update_interval"], "SNMP: Overcast has `overcast status` and metrics")
        s.ignore(["checker_log_all_failures", "log_unknown_vrids", "rs_init_notifies"],
                 "Overcast logs each change of state, and counts advertisements for other VRIDs in status and metrics")
        s.ignore(["disable_local_igmp"], "Overcast joins 224.0.0.18 only for the multicast transport")
        s.ignore(["vrrp_down_timer_adverts", "vrrp_owner_ignore_adverts", "v3_checksum_as_v2"],
                 "a keepalived tuning knob with no Overcast equivalent")
        s.ignore(["vrrp_mcast_group4", "vrrp_mcast_group6", "vrrp_gna_interval", "vrrp_lower_prio_no_advert",
                  "vrrp_higher_prio_send_advert", "vrrp_min_garp", "vrrp_garp_lower_prio_delay",
                  "vrrp_garp_lower_prio_repeat", "vrrp_no_swap", "checker_no_swap", "vrrp_priority",
                  "checker_priority", "bfd_priority", "max_auto_priority", "min_auto_priority_delay", "vrrp_rt_priority",
                  "checker_rt_priority", "vrrp_cpu_affinity", "checker_cpu_affinity", "dynamic_interfaces",
                  "process_names", "process_name", "vrrp_process_name", "checker_process_name", "vrrp_netlink_cmd_rcv_bufs",
                  "vrrp_netlink_monitor_rcv_bufs",
                  "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_monitor_rcv_bufs", "vrrp_rx_bufs_policy",
                  "vrrp_rx_bufs_multiplier", "vrrp_garp_extra_if", "vrrp_version_2_checksum_compat",
                  "vrrp_check_unicast_src_compat", "umask", "random_seed", "reload_check_config", "reload_time_file",
                  "reload_repeat", "reload_file", "include_check", "tmp_config_directory", "data_use_instance"],
                 "a keepalived tuning knob with no Overcast equivalent")
        return s
    }()
}

enum VRRPScriptKeywords {
    static let schema: Schema<VRRPScript> = {
        var s = Schema<VRRPScript>("vrrp_script")
        s.value("script") { v, st, r in v.script = r.command(st) ?? "" }
        s.value("interval") { v, st, r in v.interval = r.seconds(st, 0.001...86400) ?? v.interval }
        s.value("timeout") { v, st, r in v.timeout = r.seconds(st, 0.001...86400) }
        s.value("weight") { v, st, r in
            guard let args = r.arguments(st, 1...2) else { return }
            v.weight = r.int(args[0], -253...253, what: "weight") ?? 0
            if args.count == 2 {
                if args[1].text == "reverse" { v.weightReverse = true } else {
                    r.error(args[1].location, "weight: '\(args[1].text)' is not 'reverse'")
                }
            }
        }
        s.value("rise") { v, st, r in v.rise = r.int(st, 1...1_000_000) ?? v.rise }
        s.value("fall") { v, st, r in v.fall = r.int(st, 1...1_000_000) ?? v.fall }
        s.value("user") { v, st, r in
            guard let args = r.arguments(st, 1...2) else { return }
            v.user = args[0].text
            v.group = args.count > 1 ? args[1].text : nil
        }
        s.ignore(["init_fail"], "scripts start in the state their first run gives")
        return s
    }()
}

enum SyncGroupKeywords {
    static let schema: Schema<SyncGroup> = {
        var s = Schema<SyncGroup>("vrrp_sync_group")
        // keepalived 1.x listed the instances directly in the block; its samples still do.
        s.fallback = { g, st, r in
            guard st.block == nil, st.words.count == 1 else { return false }
            r.warning(st.location, "instance name \(st.keyword.text) directly in vrrp_sync_group (keepalived 1.x form); put it in group { }")
            g.group.append(st.keyword.text)
            return true
        }
        s.block("group") { g, st, r in
            for line in st.block ?? [] {
                g.group += line.words.map(\.text)
                if line.block != nil { r.error(line.location, "group lists instance names; no { } block here") }
            }
        }
        NotifyKeywords.install(&s, \.notify)
        // Priority-change lines are an instance's (keepalived writes none for a group).
        s.keywords["notify_priority_changes"] = nil
        s.ignore(["notify_priority_changes"], "a group has no priority: set it in the member instances")
        s.block("track_script") { g, st, r in g.trackScripts += TrackKeywords.lines(st, &r) }
        s.block("track_interface") { g, st, r in g.trackInterfaces += TrackKeywords.interfaces(st, &r) }
        s.value("sync_group_tracking_weight") { g, st, r in
            _ = r.arguments(st, 0...0)
            g.trackingWeight = true
        }
        s.value("global_tracking") { g, st, r in
            _ = r.arguments(st, 0...0)
            r.warning(st.location, "global_tracking is deprecated (keepalived too); read as sync_group_tracking_weight")
            g.trackingWeight = true
        }
        s.value("smtp_alert") { g, st, r in g.smtpAlert = r.flag(st) }
        s.block("track_file") { g, st, r in g.trackFiles += TrackKeywords.lines(st, &r) }
        s.ignore(["track_process", "track_bfd"], "track in each vrrp_instance instead")
        return s
    }()
}

/// notify, notify_master, ... in instances and sync groups.
enum NotifyKeywords {
    static func install<Model>(_ s: inout Schema<Model>, _ path: any WritableKeyPath<Model, Notify> & Sendable) {
        s.value("notify_master") { m, st, r in m[keyPath: path].master = script(st, &r, &m[keyPath: path]) }
        s.value("notify_backup") { m, st, r in m[keyPath: path].backup = script(st, &r, &m[keyPath: path]) }
        s.value("notify_fault") { m, st, r in m[keyPath: path].fault = script(st, &r, &m[keyPath: path]) }
        s.value("notify_stop") { m, st, r in m[keyPath: path].stop = script(st, &r, &m[keyPath: path]) }
        s.value("notify") { m, st, r in m[keyPath: path].any = script(st, &r, &m[keyPath: path]) }
        s.value("notify_master_rx_lower_pri") { m, st, r in
            m[keyPath: path].masterRxLowerPriority = script(st, &r, &m[keyPath: path])
        }
        s.value("notify_priority_changes") { m, st, r in m[keyPath: path].priorityChanges = r.flag(st) }
        s.ignore(["notify_deleted"], "instances are never deleted at run time")
    }

    /// keepalived's `SCRIPT [USER [GROUP]]`: the script is one word (quoted when it has
    /// arguments); the words after it say who it runs as.
    static func script(_ st: Statement, _ r: inout ValueReader, _ notify: inout Notify) -> String? {
        guard let args = r.arguments(st, 1...3) else { return nil }
        let command = args[0].text
        if args.count > 1 {
            if !userExists(args[1].text) {
                r.warning(args[1].location, "\(st.keyword.text): no user '\(args[1].text)' on this host; the words after the "
                          + "script are USER [GROUP] (quote the script to give it arguments)")
            }
            notify.runAs[command] = ScriptUser(user: args[1].text, group: args.count > 2 ? args[2].text : nil)
        } else {
            notify.runAs[command] = nil
        }
        return command
    }

    /// Whether the host has `name`.
    static func userExists(_ name: String) -> Bool { SystemAccounts.user(named: name) != nil }
}

/// track_script { NAME [weight N] } and track_interface { NAME [weight N] }.
enum TrackKeywords {
    /// `track_script { ... }` and `track_file { ... }`: one `NAME [weight W [reverse|noreverse]]` a line.
    static func lines(_ st: Statement, _ r: inout ValueReader) -> [TrackingLine] {
        (st.block ?? []).compactMap { line in
            let (name, weight, reverse) = nameAndWeight(line, &r)
            return name.map { TrackingLine(name: $0, weight: weight, reverse: reverse, location: line.location) }
        }
    }

    static func interfaces(_ st: Statement, _ r: inout ValueReader) -> [TrackedInterface] {
        (st.block ?? []).compactMap { line in
            let (name, weight, reverse) = nameAndWeight(line, &r)
            return name.map { TrackedInterface(name: $0, weight: weight ?? 0, reverse: reverse ?? false) }
        }
    }

    /// `reverse` or `noreverse` after a weight; nil (and an error) for anything else.
    static func direction(_ word: Token, _ r: inout ValueReader) -> Bool? {
        switch word.text {
        case "reverse": return true
        case "noreverse": return false
        default:
            r.error(word.location, "expected 'reverse' or 'noreverse', not '\(word.text)'")
            return nil
        }
    }

    /// `NAME [weight W [reverse|noreverse]]`: nil weight or direction when not written.
    private static func nameAndWeight(_ line: Statement, _ r: inout ValueReader) -> (String?, Int?, Bool?) {
        let words = line.words
        if line.block != nil { r.error(line.location, "a tracked item takes no { } block") }
        guard words.count == 1 || (words.count >= 3 && words[1].text == "weight" && words.count <= 4) else {
            r.error(line.location, "expected 'NAME' or 'NAME weight N [reverse|noreverse]'")
            return (nil, nil, nil)
        }
        guard words.count >= 3 else { return (words[0].text, nil, nil) }
        let weight = r.int(words[2], -254...254, what: "weight")
        return (words[0].text, weight, words.count == 4 ? direction(words[3], &r) : nil)
    }
}
