/// One thing an instance tracks (`track_interface`, `track_script`, `track_file`, and the
/// VRRP interface itself unless `dont_track_primary`, the source address with
/// `track_src_ip`), with keepalived's weight rules:
/// - weight 0: the item failing puts the instance in FAULT;
/// - weight > 0: added to the priority while the item is up (script succeeds);
/// - weight < 0: added (so subtracted) while the item is down (script fails);
/// - `weight N reverse` swaps up and down.
/// A tracked file holds a number instead of up or down (`TrackedFileAdjustment`).
public struct TrackedItem: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case interface, script
        /// `track_src_ip`: the instance's source address is on the host (weight 0: its
        /// absence is a FAULT, as keepalived's VRRP_FAULT_FL_NO_SOURCE_IP).
        case sourceAddress = "source address"
        /// `track_file`: a number in a file, times the weight.
        case file = "file"
    }
    public var kind: Kind
    public var name: String
    public var weight: Int
    public var reverse: Bool

    public init(_ kind: Kind, _ name: String, weight: Int = 0, reverse: Bool = false) {
        self.kind = kind
        self.name = name
        self.weight = weight
        self.reverse = reverse
    }

    /// The FAULT reason an item with weight 0 gives while down.
    public var faultReason: String {
        switch kind {
        case .interface: "interface \(name) down"
        case .script: "script \(name) failed"
        case .sourceAddress: "source address \(name) missing"
        case .file: "tracked file \(name) in FAULT"
        }
    }
}

/// keepalived's tracking arithmetic over the items' last known states. An item never
/// reported counts as up: the tracker reports every item as soon as it knows, and an
/// instance must not start in FAULT for want of a first reading.
public struct TrackingState: Sendable, Hashable {
    public private(set) var items: [TrackedItem]
    private var up: [String: Bool] = [:]
    /// Tracked files' numbers, by key; a file never read counts as 0 (as a missing one).
    private var values: [String: Int] = [:]

    public init(items: [TrackedItem]) { self.items = items }

    private static func key(_ kind: TrackedItem.Kind, _ name: String) -> String { "\(kind.rawValue) \(name)" }

    /// Records an item's state; false when no tracked item has that kind and name.
    public mutating func record(_ kind: TrackedItem.Kind, name: String, up isUp: Bool) -> Bool {
        guard items.contains(where: { $0.kind == kind && $0.name == name }) else { return false }
        up[Self.key(kind, name)] = isUp
        return true
    }

    /// Records a tracked file's number; false when no tracked file has that name.
    public mutating func record(file name: String, value: Int) -> Bool {
        guard items.contains(where: { $0.kind == .file && $0.name == name }) else { return false }
        values[Self.key(.file, name)] = value
        return true
    }

    /// The effective priority from `base`, kept within 1-254 (an address owner, 255,
    /// is never moved), and the reasons for FAULT.
    public func evaluate(base: UInt8) -> (priority: UInt8, faults: Set<String>) {
        var priority = Int(base)
        var faults: Set<String> = []
        for item in items {
            if item.kind == .file {
                let value = values[Self.key(.file, item.name)] ?? 0
                switch TrackedFileAdjustment(value: value, weight: item.weight, reverse: item.reverse) {
                case .fault: faults.insert(item.faultReason)
                case .priority(let change): priority += change
                }
                continue
            }
            let isUp = (up[Self.key(item.kind, item.name)] ?? true) != item.reverse
            if item.weight == 0 {
                if !isUp { faults.insert(item.faultReason) }
            } else if (item.weight > 0) == isUp {
                // Weights beyond the priority range change nothing more (and cannot overflow).
                priority += min(254, max(-254, item.weight))
            }
        }
        return (base == 255 ? 255 : UInt8(min(254, max(1, priority))), faults)
    }

    /// The state for a new list of items, keeping what was known of those still tracked.
    public func carried(to items: [TrackedItem]) -> TrackingState {
        var next = TrackingState(items: items)
        for item in items {
            let key = Self.key(item.kind, item.name)
            if let known = up[key] { next.up[key] = known }
            if let known = values[key] { next.values[key] = known }
        }
        return next
    }
}

/// What a tracked file's number does to an instance, as keepalived reckons it: with weight
/// 0 any number but 0 is a FAULT (`reverse`: only 0 is); otherwise the number times the
/// weight (negated by `reverse`), kept within -254...253, moves the priority, and -254
/// (or less) is a FAULT.
public enum TrackedFileAdjustment: Sendable, Hashable {
    case fault
    case priority(Int)

    public init(value: Int, weight: Int, reverse: Bool) {
        if weight == 0 {
            self = (value != 0) != reverse ? .fault : .priority(0)
            return
        }
        let factor = reverse ? -weight : weight
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        let wide = overflow ? ((value < 0) == (factor < 0) ? Int.max : Int.min) : product
        let change = min(253, max(-254, wide))
        self = change == -254 ? .fault : .priority(change)
    }
}
