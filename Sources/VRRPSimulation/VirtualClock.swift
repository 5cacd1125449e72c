/// Virtual time for simulations: nothing happens between events, and a test advances
/// time by running the event queue, never by sleeping (as swift-nio's
/// `EmbeddedEventLoop.advanceTime(by:)`). Events at the same instant run in the order
/// they were scheduled, so every run is the same.
public struct EventQueue<Payload>: Sendable where Payload: Sendable {
    public private(set) var now: Duration = .zero
    private var heap: [(at: Duration, sequence: UInt64, payload: Payload)] = []
    private var nextSequence: UInt64 = 0

    public init() {}

    public var isEmpty: Bool { heap.isEmpty }
    public var nextDeadline: Duration? { heap.first?.at }

    public mutating func schedule(_ payload: Payload, at instant: Duration) {
        heap.append((max(instant, now), nextSequence, payload))
        nextSequence += 1
        siftUp(heap.count - 1)
    }

    public mutating func schedule(_ payload: Payload, after delay: Duration) {
        schedule(payload, at: now + delay)
    }

    /// Removes and returns the earliest event if it is due at or before `limit`,
    /// moving the clock to its time.
    public mutating func popNext(notAfter limit: Duration) -> Payload? {
        guard let first = heap.first, first.at <= limit else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        now = first.at
        return first.payload
    }

    /// Moves the clock to `instant` once no event is left before it.
    public mutating func advanceClock(to instant: Duration) {
        if instant > now { now = instant }
    }

    private func before(_ i: Int, _ j: Int) -> Bool {
        heap[i].at != heap[j].at ? heap[i].at < heap[j].at : heap[i].sequence < heap[j].sequence
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(child, parent) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < heap.count && before(left, best) { best = left }
            if right < heap.count && before(right, best) { best = right }
            if best == parent { return }
            heap.swapAt(parent, best)
            parent = best
        }
    }
}
