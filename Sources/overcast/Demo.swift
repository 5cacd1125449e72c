import ArgumentParser
import VRRP
import VRRPSimulation

/// `overcast demo`: the VRRP engine in a simulated network, printed as a timeline.
/// It runs the same `VirtualRouter` as the daemon on an in-memory network with a
/// virtual clock, so it finishes at once and shows the protocol's own timing.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the VRRP engine electing a MASTER and failing over, in a simulated cloud network.")

    @Option(help: "VRRP version: 2 or 3.")
    var vrrpVersion: Int = 3

    @Option(help: "Advertisement interval in seconds (v3 takes hundredths, e.g. 0.1).")
    var advertInt: Double = 1

    mutating func validate() throws {
        guard vrrpVersion == 2 || vrrpVersion == 3 else { throw ValidationError("--vrrp-version must be 2 or 3") }
        let cs = (advertInt * 100).rounded()
        guard advertInt > 0, cs >= 1, cs <= 4095 else { throw ValidationError("--advert-int must be 0.01-40.95") }
        if vrrpVersion == 2 && (cs.truncatingRemainder(dividingBy: 100) != 0 || cs > 25500) {
            throw ValidationError("VRRPv2 takes whole seconds for --advert-int")
        }
    }

    func run() throws {
        let version: VRRPVersion = vrrpVersion == 2 ? .v2 : .v3
        let interval = Centiseconds(Int((advertInt * 100).rounded()))
        let wait = interval.duration * 5
        var ok = true

        print("== 1. keepalived's default (multicast) on a cloud network that drops multicast ==")
        let split = SimulatedCluster.make(priorities: [150, 100, 50], version: version, interval: interval,
                                          unicast: false, dropsMulticast: true)
        split.startAll()
        split.run(for: wait)
        printTimeline(split)
        print("MASTERs: \(split.masters.joined(separator: ", "))  <- split brain: every node holds the VIP\n")
        ok = ok && split.masters.count == 3

        print("== 2. The same nodes with the unicast transport (unicast_peer) ==")
        let c = SimulatedCluster.make(priorities: [150, 100, 50], version: version, interval: interval,
                                      unicast: true, dropsMulticast: true)
        c.startAll()
        c.run(for: wait)
        note(c, "elected: \(c.masters.joined(separator: ", "))")
        ok = ok && c.masters == ["lvs1"]

        let killedAt = c.now
        c.crash("lvs1")
        c.run(for: wait)
        let lastAdvert = c.lastAdvertisementSent(by: "lvs1") ?? killedAt
        let takeover = c.lastBecameMaster("lvs2") ?? .zero
        let mdi = c.router("lvs2").machine.masterDownInterval
        note(c, "failover after kill -9: lvs2 MASTER \(formatSeconds(takeover - lastAdvert - c.latency)) after lvs1's last advertisement arrived (Master_Down_Interval \(formatSeconds(mdi)))")
        ok = ok && c.masters == ["lvs2"]

        c.start("lvs1")
        c.run(for: wait)
        note(c, "lvs1 back: preempts, MASTER is \(c.masters.joined(separator: ", "))")
        ok = ok && c.masters == ["lvs1"]

        let stopAt = c.now
        c.shutdown("lvs1")
        c.run(for: wait)
        let graceful = c.lastBecameMaster("lvs2") ?? .zero
        note(c, "graceful stop (priority 0): lvs2 MASTER after \(formatSeconds(graceful - stopAt)) (Skew_Time \(formatSeconds(c.router("lvs2").machine.skewTime)))")
        ok = ok && c.masters == ["lvs2"]

        c.cut("lvs2", "lvs3")
        c.run(for: wait)
        note(c, "partition lvs2 | lvs3: MASTERs \(c.masters.joined(separator: ", "))")
        ok = ok && c.masters.count == 2
        c.heal()
        c.run(for: interval.duration * 2)
        note(c, "healed: MASTER \(c.masters.joined(separator: ", "))")
        ok = ok && c.masters == ["lvs2"]

        printTimeline(c)
        print(ok ? "\nDemo outcome: as the protocol requires." : "\nDemo outcome: UNEXPECTED (see timeline).")
        if !ok { throw ExitCode(1) }
    }

    private func note(_ cluster: SimulatedCluster, _ text: String) {
        cluster.annotate(text)
    }

    private func printTimeline(_ cluster: SimulatedCluster) {
        for entry in cluster.timeline { print(entry) }
    }
}
