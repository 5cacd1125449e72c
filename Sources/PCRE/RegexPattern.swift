import CPCRE2

/// A compiled PCRE2 regular expression, as keepalived's HTTP_GET `regex` uses (libpcre2),
/// so a pattern means the same here as there. Compiled once per configuration; matching
/// is safe from any thread (the compiled code is read-only, match data is per call).
///
/// The body matched comes from outside: a match is bounded by PCRE2's match and depth
/// limits, and a pattern that exceeds them on a body is reported, not run on.
public final class RegexPattern: @unchecked Sendable, Hashable {
    public let pattern: String
    public let options: [String]
    private let code: OpaquePointer
    private let context: OpaquePointer?

    /// keepalived's `regex_options` names and their PCRE2 compile options.
    public static let optionBits: [String: UInt32] = [
        "allow_empty_class": UInt32(PCRE2_ALLOW_EMPTY_CLASS), "alt_bsux": UInt32(PCRE2_ALT_BSUX),
        "auto_callout": UInt32(PCRE2_AUTO_CALLOUT), "caseless": UInt32(PCRE2_CASELESS),
        "dollar_endonly": UInt32(PCRE2_DOLLAR_ENDONLY), "dotall": UInt32(PCRE2_DOTALL), "dupnames": UInt32(PCRE2_DUPNAMES),
        "extended": UInt32(PCRE2_EXTENDED), "firstline": UInt32(PCRE2_FIRSTLINE),
        "match_unset_backref": UInt32(PCRE2_MATCH_UNSET_BACKREF), "multiline": UInt32(PCRE2_MULTILINE),
        "never_ucp": UInt32(PCRE2_NEVER_UCP), "never_utf": UInt32(PCRE2_NEVER_UTF),
        "no_auto_capture": UInt32(PCRE2_NO_AUTO_CAPTURE), "no_auto_possess": UInt32(PCRE2_NO_AUTO_POSSESS),
        "no_dotstar_anchor": UInt32(PCRE2_NO_DOTSTAR_ANCHOR), "no_start_optimize": UInt32(PCRE2_NO_START_OPTIMIZE),
        "ucp": UInt32(PCRE2_UCP), "ungreedy": UInt32(PCRE2_UNGREEDY), "utf": UInt32(PCRE2_UTF),
        "never_backslash_c": UInt32(PCRE2_NEVER_BACKSLASH_C), "alt_circumflex": UInt32(PCRE2_ALT_CIRCUMFLEX),
        "alt_verbnames": UInt32(PCRE2_ALT_VERBNAMES),
    ]

    /// A pattern PCRE2 refuses: its message and the offset in the pattern.
    public struct CompileError: Error, Equatable, Sendable {
        public var message: String
        public var offset: Int
    }

    /// The most backtracking one match may do on a body (PCRE2's default is ten million).
    static let matchLimit: UInt32 = 1_000_000

    /// Compiles `pattern` with keepalived's option names (every name must be one of
    /// `optionBits`; the caller reports one that is not).
    public init(_ pattern: String, options: [String] = []) throws(CompileError) {
        self.pattern = pattern
        self.options = options
        let bits = options.reduce(UInt32(0)) { $0 | (Self.optionBits[$1] ?? 0) }
        var errorCode: Int32 = 0
        var errorOffset = 0
        let bytes = Array(pattern.utf8)
        let compiled = bytes.withUnsafeBufferPointer { buffer in
            pcre2_compile_8(buffer.baseAddress, buffer.count, bits, &errorCode, &errorOffset, nil)
        }
        guard let compiled else { throw CompileError(message: Self.message(errorCode), offset: errorOffset) }
        code = compiled
        context = pcre2_match_context_create_8(nil)
        if let context { pcre2_set_match_limit_8(context, Self.matchLimit) }
    }

    deinit {
        pcre2_code_free_8(code)
        if let context { pcre2_match_context_free_8(context) }
    }

    /// Whether `subject` has a match; a failure of the matcher itself (a limit hit, a
    /// malformed UTF-8 body under `utf`) is its message.
    public func matches(_ subject: [UInt8]) -> Result<Bool, MatchError> {
        guard let data = pcre2_match_data_create_from_pattern_8(code, nil) else { return .failure(MatchError(message: "out of memory")) }
        defer { pcre2_match_data_free_8(data) }
        let rc = subject.withUnsafeBufferPointer { buffer in
            // An empty array may have no base address; PCRE2 takes any pointer for length 0.
            withUnsafePointer(to: 0 as UInt8) { empty in
                pcre2_match_8(code, buffer.baseAddress ?? empty, buffer.count, 0, 0, data, context)
            }
        }
        if rc >= 0 { return .success(true) }
        if rc == PCRE2_ERROR_NOMATCH { return .success(false) }
        return .failure(MatchError(message: Self.message(rc)))
    }

    public struct MatchError: Error, Equatable, Sendable {
        public var message: String
    }

    static func message(_ code: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(code, $0.baseAddress, $0.count) }
        return count > 0 ? String(decoding: buffer.prefix(Int(count)), as: UTF8.self) : "PCRE2 error \(code)"
    }

    public static func == (a: RegexPattern, b: RegexPattern) -> Bool { a.pattern == b.pattern && a.options == b.options }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(pattern)
        hasher.combine(options)
    }
}
