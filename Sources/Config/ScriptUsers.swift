/// Every user a script of this configuration runs as (script_user, vrrp_script and
/// MISC_CHECK `user`, notify and lifecycle scripts' USER, FIFO scripts): the daemon looks
/// their primary groups up when it reads the file, never when a script starts on a
/// VRRP thread (a lookup through NSS may wait on a directory server).
extension OvercastConfiguration {
    public var scriptUsers: Set<String> {
        var users: Set<String> = []
        let g = globalDefs
        users.formUnion([g.scriptUser, g.startupScript?.user, g.shutdownScript?.user].compactMap { $0 })
        users.formUnion(g.notifyFIFOs.compactMap(\.scriptUser))
        users.formUnion(vrrpScripts.compactMap(\.user))
        users.formUnion(instances.flatMap { $0.notify.runAs.values.map(\.user) })
        users.formUnion(syncGroups.flatMap { $0.notify.runAs.values.map(\.user) })
        users.formUnion(virtualServers.flatMap { $0.realServers.flatMap { $0.checkers.compactMap(\.user) } })
        return users
    }
}
