/// What an instance, sync group or real server tracks, as the configuration says it:
/// interfaces, `vrrp_script`s and `track_file`s, and the lines that name them.

public struct TrackedInterface: Codable, Hashable, Sendable {
    public var name: String
    public var weight: Int = 0
    /// `weight W reverse`: the weight applies while the interface is down.
    public var reverse = false
    public init(name: String, weight: Int = 0, reverse: Bool = false) {
        self.name = name
        self.weight = weight
        self.reverse = reverse
    }
}

/// A `track_script` or `track_file` line (or FILE_CHECK's `track_file`): nil weight and
/// reverse take the named block's.
public struct TrackingLine: Codable, Hashable, Sendable {
    public var name: String
    public var weight: Int?
    public var reverse: Bool?
    public var location: SourceLocation
    public init(name: String, weight: Int? = nil, reverse: Bool? = nil, location: SourceLocation) {
        self.name = name
        self.weight = weight
        self.reverse = reverse
        self.location = location
    }

    /// The weight and direction in effect, given the named block's.
    public func resolved(weight blockWeight: Int, reverse blockReverse: Bool) -> (weight: Int, reverse: Bool) {
        (weight ?? blockWeight, reverse ?? blockReverse)
    }
}

public typealias TrackedScript = TrackingLine
public typealias TrackedFile = TrackingLine

/// `track_file NAME { file PATH; weight W [reverse]; init_file [VALUE] [overwrite] }`
/// (`vrrp_track_file` is keepalived's older name): a file holding a number that another
/// program writes, read each time it is written. VRRP instances and sync groups track it
/// (`track_file { NAME [weight W [reverse|noreverse]] }`) and real servers check it
/// (`FILE_CHECK { track_file NAME; weight W [reverse] }`): the number times the weight
/// moves the priority or the real server's weight.
public struct TrackFile: Codable, Hashable, Sendable {
    public var name: String
    public var path = ""
    /// keepalived's default weight is 1: the number itself is the adjustment.
    public var weight = 1
    public var reverse = false
    /// `init_file [VALUE]`: written at start when the file is missing (always with
    /// `overwrite`), never on reload; nil without `init_file`.
    public var initialValue: Int?
    public var initialOverwrite = false
    public var location: SourceLocation
    public init(name: String, location: SourceLocation) {
        self.name = name
        self.location = location
    }
}

extension TrackingLine {
    /// The weight and direction in effect for a `track_file` line, given the block it names.
    public func resolved(_ file: TrackFile) -> (weight: Int, reverse: Bool) {
        resolved(weight: file.weight, reverse: file.reverse)
    }
}
