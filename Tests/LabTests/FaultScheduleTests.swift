import Lab
import Testing

/// The soak's schedule: a seed replays it, and faults that would undo each other never
/// overlap while the others do.
@Suite struct FaultScheduleTests {
    @Test func aSeedReplaysTheSameScheduleAndAnotherSeedDoesNot() {
        let a = FaultSchedule(seed: 42, duration: 120, nodes: 3)
        #expect(a == FaultSchedule(seed: 42, duration: 120, nodes: 3))
        #expect(a.faults != FaultSchedule(seed: 43, duration: 120, nodes: 3).faults)
        #expect(a.faults.count > 40, "about one fault per 1.5 s")
    }

    @Test(arguments: [1, 2, 3, 99, 12345] as [UInt64])
    func faultsOverlapButNeverOnTheSameResource(_ seed: UInt64) {
        let schedule = FaultSchedule(seed: seed, duration: 600, nodes: 3, meanGap: 0.5)
        let faults = schedule.faults
        var overlapping = 0
        for (i, a) in faults.enumerated() {
            #expect(a.start < a.end && a.end <= 600 - 5, "\(a.description) ends in the quiet tail")
            if a.kind == .cutPair { #expect(a.peer != nil && a.peer != a.node) }
            for b in faults[(i + 1)...] where b.start < a.end && a.start < b.end {
                overlapping += 1
                let sameProcess = Self.process(a.kind) && Self.process(b.kind) && a.node == b.node
                let bothIsolation = Self.isolation(a.kind) && Self.isolation(b.kind)
                let sameLink = Self.link(a.kind) && Self.link(b.kind) && a.node == b.node
                let bothAPI = FaultSchedule.Kind.api.contains(a.kind) && FaultSchedule.Kind.api.contains(b.kind)
                let bothClock = a.kind == .clockStep && b.kind == .clockStep
                #expect(!sameProcess && !bothIsolation && !sameLink && !bothAPI && !bothClock, "\(a.description) overlaps \(b.description)")
            }
        }
        #expect(overlapping > 50, "faults combine")
        #expect(Set(schedule.counts.keys) == Set(FaultSchedule.Kind.allCases), "every kind drawn")
    }

    @Test func onlyTheKindsAskedForAreDrawn() {
        let schedule = FaultSchedule(seed: 5, duration: 100, nodes: 3, kinds: [.kill, .partition])
        #expect(Set(schedule.faults.map(\.kind)).isSubset(of: [.kill, .partition]) && !schedule.faults.isEmpty)
        #expect(FaultSchedule(seed: 5, duration: 100, nodes: 1, kinds: [.cutPair]).faults.isEmpty, "no pair among one node")
    }

    /// The steady node is never killed nor stopped, and gets every other kind; levels
    /// come in their ranges.
    @Test func theSteadyNodeLivesThroughAndLevelsAreInRange() {
        let schedule = FaultSchedule(seed: 77, duration: 1200, nodes: 3, meanGap: 0.5, steadyNode: 2)
        let steady = schedule.faults.filter { $0.node == 2 }
        #expect(!steady.contains { [.kill, .stop].contains($0.kind) })
        #expect(Set(steady.map(\.kind)).isSuperset(of: [.pause, .reloadPriority, .flood, .loss, .linkFlap]))
        #expect(schedule.faults.contains { $0.kind == .kill && $0.node != 2 })
        for fault in schedule.faults {
            switch fault.kind {
            case .loss: #expect((10...60).contains(fault.level ?? -1))
            case .apiSlow: #expect((200...700).contains(fault.level ?? -1))
            case .delay: #expect((20...200).contains(fault.level ?? -1))
            case .duplicate: #expect((5...50).contains(fault.level ?? -1))
            case .clockStep: #expect((-120...120).contains(fault.level ?? -999))
            default: #expect(fault.level == nil)
            }
        }
    }

    static func process(_ k: FaultSchedule.Kind) -> Bool {
        [.kill, .pause, .stop, .reloadUnchanged, .reloadPriority, .reloadBroken, .reloadPeerRemoved, .flood].contains(k)
    }
    static func isolation(_ k: FaultSchedule.Kind) -> Bool { [.partition, .cutPair].contains(k) }
    static func link(_ k: FaultSchedule.Kind) -> Bool { [.linkDown, .linkFlap, .loss, .delay, .duplicate, .flood].contains(k) }
}
