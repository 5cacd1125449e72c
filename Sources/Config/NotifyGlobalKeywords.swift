/// The global_defs keywords of keepalived's notify machinery and daemon life cycle:
/// notify FIFOs and their scripts, priority-change notifies, the instances' start-up
/// delay, and the start-up and shutdown scripts.
enum NotifyGlobalKeywords {
    static func install(_ s: inout Schema<GlobalDefs>) {
        for keyword in ["notify_fifo", "vrrp_notify_fifo", "lvs_notify_fifo"] {
            s.value(keyword) { g, st, r in
                guard let args = r.arguments(st, 1...3) else { return }
                var fifo = fifo(keyword, in: &g)
                fifo.path = args[0].text
                fifo.owner = args.count > 1 ? args[1].text : nil
                fifo.ownerGroup = args.count > 2 ? args[2].text : nil
                g.notifyFIFOs = g.notifyFIFOs.filter { $0.keyword != keyword } + [fifo]
                if let other = g.notifyFIFOs.first(where: { $0.keyword != keyword && $0.path == fifo.path }), !fifo.path.isEmpty {
                    r.error(args[0].location, "\(keyword): \(other.keyword) writes to this FIFO too; they must be different FIFOs")
                }
            }
            s.value(keyword + "_script") { g, st, r in
                guard let args = r.arguments(st, 1...3) else { return }
                var fifo = fifo(keyword, in: &g)
                fifo.script = args[0].text
                fifo.scriptUser = args.count > 1 ? args[1].text : nil
                fifo.scriptGroup = args.count > 2 ? args[2].text : nil
                g.notifyFIFOs = g.notifyFIFOs.filter { $0.keyword != keyword } + [fifo]
            }
        }
        s.value("fifo_write_vrrp_states_on_reload") { g, st, r in g.fifoWriteStatesOnReload = r.flag(st) }
        s.value("vrrp_notify_priority_changes") { g, st, r in g.vrrpNotifyPriorityChanges = r.flag(st) }
        s.value("vrrp_startup_delay") { g, st, r in g.vrrpStartupDelay = r.seconds(st, 0...3600) ?? g.vrrpStartupDelay }
        s.value("startup_script") { g, st, r in g.startupScript = script(st, &r, keeping: g.startupScript) }
        s.value("shutdown_script") { g, st, r in g.shutdownScript = script(st, &r, keeping: g.shutdownScript) }
        s.value("startup_script_timeout") { g, st, r in
            guard let timeout = r.seconds(st, 1...1000) else { return }
            g.startupScript = g.startupScript ?? LifecycleScript(command: "")
            g.startupScript?.timeout = timeout
        }
        s.value("shutdown_script_timeout") { g, st, r in
            guard let timeout = r.seconds(st, 1...1000) else { return }
            g.shutdownScript = g.shutdownScript ?? LifecycleScript(command: "")
            g.shutdownScript?.timeout = timeout
        }
    }

    /// The FIFO of `keyword` so far (its path and its script may come in either order).
    private static func fifo(_ keyword: String, in g: inout GlobalDefs) -> NotifyFIFO {
        g.notifyFIFOs.first { $0.keyword == keyword } ?? NotifyFIFO(keyword: keyword, path: "")
    }

    /// `SCRIPT [USER [GROUP]]`, keeping a timeout given before it.
    private static func script(_ st: Statement, _ r: inout ValueReader, keeping old: LifecycleScript?) -> LifecycleScript? {
        guard let args = r.arguments(st, 1...3) else { return old }
        var script = LifecycleScript(command: args[0].text)
        script.user = args.count > 1 ? args[1].text : nil
        script.group = args.count > 2 ? args[2].text : nil
        script.timeout = old?.timeout ?? script.timeout
        return script
    }
}
