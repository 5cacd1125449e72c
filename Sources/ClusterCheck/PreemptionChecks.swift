import Config

/// Who wins the election and when a returning node takes over: priorities, `nopreempt`,
/// `preempt_delay` and `state`. The rules are RFC 5798's (§6.4): a higher priority wins,
/// a tie goes to the higher primary address, 255 is the address owner that always
/// preempts, and only a BACKUP of higher priority preempts a MASTER.
extension ClusterChecker {
    mutating func checkPriorities(_ router: RouterContext) {
        let owners = router.entries.filter { $0.instance.priority == 255 }
        if owners.count > 1 {
            findings.error(.severalAddressOwners, router.group,
                           "priority 255 on \(owners.map(\.file).joined(separator: ", ")): each is the address owner, "
                           + "which becomes MASTER at once on start and always preempts, so both hold the addresses "
                           + "at every start; give 255 to one node at most", at: owners.map { $0.at("priority") })
        }
        let byPriority = Dictionary(grouping: router.entries.filter { $0.instance.priority < 255 }, by: \.instance.priority)
        for (priority, tied) in byPriority.sorted(by: { $0.key > $1.key }) where tied.count > 1 {
            findings.warning(.priorityTie, router.group,
                             "priority \(priority) on \(tied.map(\.file).joined(separator: " and ")): \(tieBreak(tied)); "
                             + "give the node meant to be MASTER a higher priority", at: tied.map { $0.at("priority") })
        }
    }

    /// Which of `tied` wins: the higher primary address (RFC 5798 §6.4.3), when the files say them.
    private func tieBreak(_ tied: [RouterEntry]) -> String {
        let addresses = tied.map { entry in entry.sourceAddress.flatMap(ipv4Value).map { (entry, $0) } }
        guard !addresses.contains(where: { $0 == nil }) else {
            return "the tie goes to the higher primary address, which the files do not all give (set unicast_src_ip)"
        }
        let known = addresses.compactMap { $0 }
        guard let winner = known.max(by: { $0.1 < $1.1 }) else { return "the tie goes to the higher primary address" }
        return "the tie goes to the higher primary address, \(winner.0.sourceAddress ?? "?") (\(winner.0.file))"
    }

    mutating func checkPreemption(_ router: RouterContext) {
        let preemptLocations = router.entries.map { entry in
            entry.node.locations.instance(entry.instance.name, "nopreempt")
                ?? entry.node.locations.instance(entry.instance.name, "preempt") ?? entry.instance.location
        }
        if router.differ(\.instance.nopreempt) {
            findings.warning(.preemptDiffers, router.group,
                             "nopreempt differs (\(router.each { $0.instance.nopreempt ? "nopreempt" : "preempt" })): a node "
                             + "preempts only a lower priority, so each node's own setting decides what it does when it "
                             + "returns: \(returns(router))", at: preemptLocations)
        }
        if router.differ(\.instance.preemptDelay) {
            var message = "preempt_delay differs (\(router.each { $0.instance.preemptDelay.seconds })): a returning node "
                + "waits its own delay before it takes over, so how long the old MASTER keeps the addresses depends on "
                + "which node returns"
            let ignored = router.entries.filter { $0.instance.nopreempt && $0.instance.preemptDelay > 0 }.map(\.file)
            if !ignored.isEmpty { message += "; with nopreempt it has no effect on \(ignored.joined(separator: ", "))" }
            findings.warning(.preemptDelayDiffers, router.group, message, at: router.entries.map { $0.at("preempt_delay") })
        }
        let masters = router.entries.filter { $0.instance.state == .master }
        let nopreempt = router.entries.filter(\.instance.nopreempt)
        if masters.count > 1 && !nopreempt.isEmpty {
            findings.warning(.masterStateWithoutPreemption, router.group,
                             "state MASTER on \(masters.map(\.file).joined(separator: ", ")) with nopreempt on "
                             + "\(nopreempt.map(\.file).joined(separator: ", ")): keepalived ignores nopreempt with state "
                             + "MASTER, so a returning node takes over after all; write state BACKUP on every node",
                             at: masters.map { $0.at("state") } + nopreempt.map { $0.at("nopreempt") })
        }
    }

    /// What each node does when it comes back while a lower priority is MASTER.
    private func returns(_ router: RouterContext) -> String {
        let lowest = router.entries.map(\.instance.priority).min() ?? 0
        return router.entries.sorted { $0.instance.priority > $1.instance.priority }.map { entry in
            let name = "\(entry.file) (priority \(entry.instance.priority))"
            if entry.instance.priority == lowest {
                return entry.instance.nopreempt ? "nopreempt on \(name) has no effect, no node has a lower priority"
                                                : "\(name) has no lower priority to preempt"
            }
            if entry.instance.priority == 255 { return "\(name) takes over again (the address owner always does)" }
            return entry.instance.nopreempt ? "\(name) stays BACKUP" : "\(name) takes over again"
        }.joined(separator: "; ")
    }
}

/// `a.b.c.d` as a number, for the tie-break; nil for anything else.
func ipv4Value(_ text: String) -> UInt32? {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    guard parts.count == 4 else { return nil }
    var value: UInt32 = 0
    for part in parts {
        guard let octet = UInt8(part) else { return nil }
        value = value << 8 | UInt32(octet)
    }
    return value
}
