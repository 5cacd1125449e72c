import Testing
import VRRP

/// keepalived's tracking arithmetic (`TrackingState`), item by item.
@Suite struct TrackingArithmeticTests {
    typealias Item = (String, Int, Bool)

    static let cases: [(String, UInt8, [Item], [Item], UInt8, Set<String>)] = [
        ("all up, no weights", 100, [("eth0", 0, true)], [("chk", 0, true)], 100, []),
        ("weight 0 interface down: FAULT", 100, [("eth0", 0, false)], [], 100, ["interface eth0 down"]),
        ("weight 0 script failing: FAULT", 100, [], [("chk", 0, false)], 100, ["script chk failed"]),
        ("negative weight applies while down", 150, [], [("chk", -60, false)], 90, []),
        ("negative weight ignored while up", 150, [], [("chk", -60, true)], 150, []),
        ("positive weight applies while up", 100, [("eth1", 20, true)], [("chk", 5, true)], 125, []),
        ("positive weight ignored while down", 100, [("eth1", 20, false)], [], 100, []),
        ("clamped to 254", 250, [], [("chk", 50, true)], 254, []),
        ("clamped to 1", 20, [], [("chk", -100, false)], 1, []),
        ("the address owner never moves", 255, [], [("chk", -100, false)], 255, []),
        ("a weight beyond the range saturates", 100, [], [("chk", Int.max, true), ("chk2", Int.max, true)], 254, []),
    ]

    @Test(arguments: cases.indices)
    func keepalivedsRules(_ i: Int) {
        let (name, base, interfaces, scripts, priority, faults) = Self.cases[i]
        var state = TrackingState(items: interfaces.map { TrackedItem(.interface, $0.0, weight: $0.1) }
                                  + scripts.map { TrackedItem(.script, $0.0, weight: $0.1) })
        for (item, _, up) in interfaces { let known = state.record(.interface, name: item, up: up); #expect(known) }
        for (item, _, up) in scripts { let known = state.record(.script, name: item, up: up); #expect(known) }
        let result = state.evaluate(base: base)
        #expect(result.priority == priority, "\(name)")
        #expect(result.faults == faults, "\(name)")
    }

    @Test func reverseSwapsUpAndDown() {
        var state = TrackingState(items: [TrackedItem(.script, "chk", weight: -30, reverse: true)])
        _ = state.record(.script, name: "chk", up: true)
        #expect(state.evaluate(base: 100).priority == 70)
        _ = state.record(.script, name: "chk", up: false)
        #expect(state.evaluate(base: 100).priority == 100)
    }

    @Test func untrackedItemsAreIgnored() {
        var state = TrackingState(items: [TrackedItem(.interface, "eth0")])
        let otherInterface = state.record(.interface, name: "eth1", up: false)
        let sameNameOtherKind = state.record(.script, name: "eth0", up: false)
        #expect(!otherInterface && !sameNameOtherKind)
        #expect(state.evaluate(base: 100).faults.isEmpty)
    }
}
