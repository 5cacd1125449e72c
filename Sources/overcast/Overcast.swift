import ArgumentParser
import OvercommitExecutor
#if canImport(Glibc)
import Glibc
#endif

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
    ///
    /// SIGHUP is ignored from the first instruction: its default action ends the process,
    /// and a reload asked for while the daemon starts must not. Nothing is lost: the
    /// configuration is read later, and `overcast run` traps SIGHUP before it reads it
    /// (`Daemon.run`), from which point a reload waits for the daemon to be running.
    static func main() async {
        signal(SIGHUP, SIG_IGN)
        OvercommitExecutor.install()
        await main(nil)
    }
}
