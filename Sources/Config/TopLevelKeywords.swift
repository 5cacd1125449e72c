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
        s.ignore(["static_ipaddress", "static_routes", "static_rules"], "Overcast manages only the addresses of VRRP instances")
        s.ignore(["net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance"],
                 "run one Overcast per network namespace instead")
        s.ignore(["vrrp_track_file", "track_file", "vrrp_track_process", "track_process", "track_bfd", "bfd_instance"],
                 "only track_interface and track_script are supported")
        s.ignore(["garp_group", "linkbeat_use_polling", "child_wait_time", "use_pid_dir"], "not needed by Overcast")
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
        s.value("vrrp_strict") { g, st, r in g.vrrpStrict = r.flag(st) }
        s.value("vrrp_skip_check_adv_addr") { g, st, r in g.vrrpSkipCheckAdvAddr = r.flag(st) }
        s.value("vrrp_check_unicast_src") { g, st, r in g.vrrpCheckUnicastSrc = r.flag(st) }
        s.value("script_timeout") { g, st, r in g.scriptTimeout = r.seconds(st, 1...3600) ?? g.scriptTimeout }
        s.value("metrics_listen") { g, st, r in
            guard let token = r.arguments(st, 1...1)?[0] else { return }
            switch ListenAddress.parse(token.text) {
            case .success(let listen): g.metricsListen = listen
            case .failure(let reason): r.error(token.location, "metrics_listen: \(reason)")
            }
        }
        SMTPKeywords.install(&s)
        s.ignore(["enable_traps", "enable_snmp_vrrp", "enable_snmp_checker", "enable_snmp_rfc", "enable_snmp_rfcv2",
                  "enable_snmp_rfcv3", "enable_snmp_keepalived", "snmp_socket", "enable_dbus", "dbus_service_name"],
                 "SNMP and D-Bus: Overcast has `overcast status` and metrics")
        s.ignore(["lvs_sync_daemon", "lvs_timeouts", "lvs_flush", "lvs_flush_onstop", "lvs_id", "lvs_sync_daemon_interface"],
                 "IPVS connection sync and global IPVS settings")
        s.ignore(["vrrp_mcast_group4", "vrrp_mcast_group6", "vrrp_gna_interval", "vrrp_lower_prio_no_advert",
                  "vrrp_higher_prio_send_advert", "vrrp_min_garp", "vrrp_garp_lower_prio_delay",
                  "vrrp_garp_lower_prio_repeat", "vrrp_iptables", "vrrp_ipsets", "nftables", "nftables_priority",
                  "nftables_counters", "nftables_ifindex", "vrrp_no_swap", "checker_no_swap", "vrrp_priority",
                  "checker_priority", "bfd_priority", "max_auto_priority", "min_auto_priority_delay", "vrrp_rt_priority",
                  "checker_rt_priority", "vrrp_cpu_affinity", "checker_cpu_affinity", "dynamic_interfaces",
                  "process_names", "process_name", "vrrp_process_name", "checker_process_name", "vrrp_notify_fifo",
                  "vrrp_notify_fifo_script", "notify_fifo", "notify_fifo_script", "lvs_notify_fifo",
                  "lvs_notify_fifo_script", "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs",
                  "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_monitor_rcv_bufs", "vrrp_startup_delay", "vrrp_rx_bufs_policy",
                  "vrrp_rx_bufs_multiplier", "vrrp_garp_extra_if", "vrrp_version_2_checksum_compat", "default_interface",
                  "vrrp_check_unicast_src_compat", "umask", "random_seed", "reload_check_config", "reload_time_file",
                  "reload_repeat", "reload_file", "include_check", "tmp_config_directory", "data_use_instance",
                  "startup_script", "startup_script_timeout", "shutdown_script", "shutdown_script_timeout"],
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
        s.block("track_script") { g, st, r in g.trackScripts += TrackKeywords.scripts(st, &r) }
        s.value("smtp_alert") { g, st, r in g.smtpAlert = r.flag(st) }
        s.ignore(["global_tracking", "sync_group_tracking_weight", "track_interface", "track_file", "track_process",
                  "track_bfd"], "track in each vrrp_instance instead")
        return s
    }()
}

/// notify, notify_master, ... in instances and sync groups.
enum NotifyKeywords {
    static func install<Model>(_ s: inout Schema<Model>, _ path: any WritableKeyPath<Model, Notify> & Sendable) {
        s.value("notify_master") { m, st, r in m[keyPath: path].master = r.command(st) }
        s.value("notify_backup") { m, st, r in m[keyPath: path].backup = r.command(st) }
        s.value("notify_fault") { m, st, r in m[keyPath: path].fault = r.command(st) }
        s.value("notify_stop") { m, st, r in m[keyPath: path].stop = r.command(st) }
        s.value("notify") { m, st, r in m[keyPath: path].any = r.command(st) }
        s.value("notify_master_rx_lower_pri") { m, st, r in m[keyPath: path].masterRxLowerPriority = r.command(st) }
        s.ignore(["notify_deleted"], "instances are never deleted at run time")
    }
}

/// track_script { NAME [weight N] } and track_interface { NAME [weight N] }.
enum TrackKeywords {
    static func scripts(_ st: Statement, _ r: inout ValueReader) -> [TrackedScript] {
        (st.block ?? []).compactMap { line in
            let (name, weight) = nameAndWeight(line, &r)
            return name.map { TrackedScript(name: $0, weight: weight, location: line.location) }
        }
    }

    static func interfaces(_ st: Statement, _ r: inout ValueReader) -> [TrackedInterface] {
        (st.block ?? []).compactMap { line in
            let (name, weight) = nameAndWeight(line, &r)
            return name.map { TrackedInterface(name: $0, weight: weight ?? 0) }
        }
    }

    private static func nameAndWeight(_ line: Statement, _ r: inout ValueReader) -> (String?, Int?) {
        let words = line.words
        if line.block != nil { r.error(line.location, "a tracked item takes no { } block") }
        guard words.count == 1 || (words.count >= 3 && words[1].text == "weight" && words.count <= 4) else {
            r.error(line.location, "expected 'NAME' or 'NAME weight N'")
            return (nil, nil)
        }
        if words.count >= 3 {
            let weight = r.int(words[2], -254...254, what: "weight")
            if words.count == 4 && words[3].text != "reverse" { r.error(words[3].location, "expected 'reverse'") }
            return (words[0].text, weight)
        }
        return (words[0].text, nil)
    }
}
