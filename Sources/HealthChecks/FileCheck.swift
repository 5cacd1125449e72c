import Config

/// FILE_CHECK: a real server that follows a tracked file's number. Nothing runs on a
/// schedule; the number is read when the file is written, and it either adds to the real
/// server's weight or, as keepalived's IPVS_WEIGHT_FAULT, takes the server down.
public struct FileCheck: Sendable, Hashable {
    /// Its real server's place in `HealthPlan.servers`.
    public var server: Int
    /// The `track_file` block's name.
    public var file: String
    public var weight: Int
    public var reverse: Bool
    public var notifyUp: String?
    public var notifyDown: String?
    public init(server: Int, file: String, weight: Int, reverse: Bool, notifyUp: String? = nil, notifyDown: String? = nil) {
        self.server = server
        self.file = file
        self.weight = weight
        self.reverse = reverse
        self.notifyUp = notifyUp
        self.notifyDown = notifyDown
    }

    /// What the file's number does, keepalived's arithmetic for checkers: with weight 0
    /// any number but 0 is down (`reverse`: only 0 is); otherwise the number times the
    /// weight (negated by `reverse`), kept within Int32, is added to the server's weight,
    /// and Int32.min is down.
    public enum Effect: Sendable, Hashable {
        case down
        case weight(Int)
    }

    public func effect(of value: Int) -> Effect {
        if weight == 0 { return (value != 0) != reverse ? .down : .weight(0) }
        let factor = reverse ? -weight : weight
        let (product, overflow) = value.multipliedReportingOverflow(by: factor)
        let wide = overflow ? ((value < 0) == (factor < 0) ? Int.max : Int.min) : product
        let change = min(Int(Int32.max), max(Int(Int32.min), wide))
        return change == Int(Int32.min) ? .down : .weight(change)
    }
}
