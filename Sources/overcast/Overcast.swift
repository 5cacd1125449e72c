import ArgumentParser
import OvercommitExecutor

/// The version of this build, as `overcast --version` prints it: the release and the
/// commit it was built from.
let overcastVersion = BuildInfo.commit == "unknown" ? BuildInfo.version : "\(BuildInfo.version) (commit \(BuildInfo.commit))"

@main
struct Overcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overcast",
        abstract: "VRRP failover for networks without multicast (unicast, GRE overlay, or replicated multicast).",
        discussion: """
            Overcast runs VRRP (v2 and v3) between load-balancer nodes and moves the virtual IP \
            to the MASTER. It reads keepalived.conf syntax.
            """,
        version: overcastVersion,
        subcommands: [Run.self, Status.self, OverlayCommand.self, Replicate.self, Genhash.self, Demo.self, CheckConfig.self, DumpConfig.self, Keywords.self, DoctorCommand.self, Simulate.self, DecodePacket.self, LibraryVersions.self]
    )

    /// ArgumentParser's entry point, after making a serial dispatch queue Swift
    /// Concurrency's default executor. This must come before the first `await`: the first
    /// hop off the main actor already uses the default executor, and Swift's own starts a
    /// worker that arms libdispatch's 1 Hz monitor for the life of the process (see
    /// `OvercommitExecutor`).
    static func main() async {
        OvercommitExecutor.install()
        await main(nil)
    }
}
