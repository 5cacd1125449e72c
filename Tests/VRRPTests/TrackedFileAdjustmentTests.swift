import Testing
import VRRP

/// keepalived's arithmetic for a tracked file's number (track_file.c): weight 0 is a
/// FAULT switch, otherwise number × weight moves the priority within -254...253, and
/// -254 is a FAULT.
@Suite struct TrackedFileAdjustmentTests {
    @Test(arguments: [
        (0, 0, false, TrackedFileAdjustment.priority(0)),
        (1, 0, false, .fault),
        (-3, 0, false, .fault),
        (0, 0, true, .fault),
        (5, 0, true, .priority(0)),
        (3, 1, false, .priority(3)),
        (6, -10, false, .priority(-60)),
        (6, -10, true, .priority(60)),
        (-2, 7, false, .priority(-14)),
        (100, 10, false, .priority(253)),
        (-100, 10, false, .fault),
        (-254, 1, false, .fault),
        (-253, 1, false, .priority(-253)),
        (Int.max, 254, false, .priority(253)),
        (Int.min, 254, false, .fault),
        (Int.min, -254, false, .priority(253)),
        (Int.max, 254, true, .fault),
    ])
    func keepalivedsRules(_ value: Int, _ weight: Int, _ reverse: Bool, _ expected: TrackedFileAdjustment) {
        #expect(TrackedFileAdjustment(value: value, weight: weight, reverse: reverse) == expected)
    }

    @Test func aFilesNumberMovesThePriorityAndItsFaultComesAndGoes() {
        var state = TrackingState(items: [TrackedItem(.file, "load", weight: -10), TrackedItem(.file, "gate"),
                                          TrackedItem(.script, "chk", weight: -5)])
        // Never read: 0, no change.
        #expect(state.evaluate(base: 150).priority == 150 && state.evaluate(base: 150).faults.isEmpty)
        let known = state.record(file: "load", value: 6)
        #expect(known)
        #expect(state.evaluate(base: 150).priority == 90)
        _ = state.record(.script, name: "chk", up: false)
        #expect(state.evaluate(base: 150).priority == 85)
        _ = state.record(file: "gate", value: 1)
        #expect(state.evaluate(base: 150).faults == ["tracked file gate in FAULT"])
        _ = state.record(file: "gate", value: 0)
        #expect(state.evaluate(base: 150).faults.isEmpty)
        // A file name that is not tracked, or a script's name, changes nothing.
        let scriptName = state.record(file: "chk", value: 9), otherName = state.record(file: "other", value: 9)
        #expect(!scriptName && !otherName)
        // A reload keeps the number of a file still tracked.
        let carried = state.carried(to: [TrackedItem(.file, "load", weight: -1)])
        #expect(carried.evaluate(base: 150).priority == 144)
    }
}
