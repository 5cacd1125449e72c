/// What waits for a time, earliest first: a binary min-heap of (time, key). The checkers
/// waiting for their next run use it, and so do the checks in flight waiting for their
/// deadline. With a thousand checkers each finishing once a second, finding what is due
/// must not mean visiting every checker each time one finishes. Entries are never removed
/// early: the owner skips an entry whose time no longer matches its checker (rescheduled,
/// reconfigured or removed), which keeps every operation O(log n).
///
/// Inlinable, so that each user gets a copy specialised for its key: called unspecialised
/// from the daemon, a pop cost ~2,800 instructions (copies through value witnesses), a
/// sixth of what the checker spent per check (callgrind).
public struct DueQueue<Key: Sendable>: Sendable {
    @usableFromInline var items: [(time: Double, key: Key)] = []

    @inlinable public init() {}

    @inlinable public var count: Int { items.count }

    /// The earliest time waiting, if any.
    @inlinable public var earliest: Double? { items.first?.time }

    /// The earliest entry, if any.
    @inlinable public var first: (time: Double, key: Key)? { items.first }

    @inlinable public mutating func push(_ time: Double, _ key: Key) {
        items.append((time, key))
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].time < items[parent].time else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry when it is due at `now`.
    @inlinable public mutating func popDue(at now: Double) -> (time: Double, key: Key)? {
        guard let first = items.first, first.time <= now else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left].time < items[smallest].time { smallest = left }
            if right < items.count && items[right].time < items[smallest].time { smallest = right }
            guard smallest != parent else { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }

    @inlinable public mutating func removeAll() { items.removeAll() }
}
