import Config

/// keepalived's `omega` at daemon stop (ipwrapper.c's clear_services, IPVS not flushed,
/// which is Overcast's way): for each virtual server with omega, in configuration order,
/// the notify_down of every real server that is up, then the virtual server's
/// quorum_down. keepalived runs quorum_down at stop whether or not the quorum was up
/// (update_vs_notifies marks it lost and notifies when stopping), and so does this.
/// Without omega nothing runs. The sorry server has no notifiers.
public enum OmegaShutdown {
    public struct Script: Sendable, Hashable {
        public var command: String
        /// `notify_down`, or `quorum_down`, for the log.
        public var what: String
        /// `TCP 10.0.0.1:80` (and ` 10.0.1.1:80` for a real server's), for the log.
        public var subject: String
    }

    /// What to run, in order. `isAlive` is the checker's view of each real server.
    public static func scripts(_ config: OvercastConfiguration, isAlive: (RealServerID) -> Bool) -> [Script] {
        var result: [Script] = []
        for (index, vs) in config.virtualServers.enumerated() where vs.omega {
            let label = HealthPlan.label(of: vs)
            var seen: Set<RealServerID> = []
            for real in vs.realServers {
                let id = RealServerID(virtualServer: index, address: real.address, port: UInt16(clamping: real.port ?? 0))
                // Two blocks of one server are one server, with the first block's notifiers.
                guard seen.insert(id).inserted, isAlive(id), let command = real.notifyDown else { continue }
                result.append(Script(command: command, what: "notify_down", subject: "\(label) \(real.address):\(id.port)"))
            }
            if let command = vs.quorumDown { result.append(Script(command: command, what: "quorum_down", subject: label)) }
        }
        return result
    }
}
