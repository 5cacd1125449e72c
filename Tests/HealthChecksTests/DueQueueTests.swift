import Testing
@testable import HealthChecks

@Suite struct DueQueueTests {
    /// Whatever the order of pushes, what is due comes out earliest first, and nothing
    /// that is not yet due comes out.
    @Test func dueEntriesComeOutEarliestFirstAndOnlyWhenDue() {
        var random = SystemRandomNumberGenerator()
        var queue = DueQueue<String>()
        var times: [Double] = []
        for n in 0..<500 {
            let time = Double.random(in: 0..<100, using: &random)
            times.append(time)
            queue.push(time, "k\(n)")
        }
        #expect(queue.count == 500)
        #expect(queue.earliest == times.min())
        #expect(queue.first?.time == times.min() && queue.first?.key == "k\(times.firstIndex(of: times.min() ?? 0) ?? -1)")
        var out: [Double] = []
        while let entry = queue.popDue(at: 50) { out.append(entry.time) }
        #expect(out == times.filter { $0 <= 50 }.sorted())
        #expect((queue.earliest ?? 0) > 50)
        while let entry = queue.popDue(at: 100) { out.append(entry.time) }
        #expect(out == times.sorted())
        #expect(queue.earliest == nil && queue.popDue(at: .infinity) == nil)
    }

    @Test func equalTimesAllComeOut() {
        var queue = DueQueue<String>()
        for key in ["a", "b", "c"] { queue.push(1, key) }
        var keys: [String] = []
        while let entry = queue.popDue(at: 1) { keys.append(entry.key) }
        #expect(keys.sorted() == ["a", "b", "c"])
    }
}
