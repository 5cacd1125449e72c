/// Reads a real server's HTTP/1.x answer to a check as it arrives, in pieces of any size:
/// the status code, and the body when its digest is wanted. Pure: no I/O, so it is tested
/// byte by byte and fuzzed. Anything a server sends ends in `.complete` or in
/// `.malformed` with what was wrong; nothing traps.
///
/// The request it answers is keepalived's: HTTP/1.0 with `Connection: close`, so the
/// body ends at `Content-Length` or when the server closes. A 1xx interim answer is
/// skipped, as libcurl does.
public struct HTTPAnswerReader: Sendable {
    public enum Outcome: Sendable, Equatable {
        case needMore
        case complete(status: Int, body: [UInt8])
        case malformed(String)
    }

    /// A header larger than this is not a health page's.
    public static let headLimit = 64 * 1024
    /// A body kept for its digest is bounded: a server that streams forever is not read
    /// into memory forever (the check's time-outs end it too, but later).
    public static let bodyLimit = 64 << 20

    /// Whether the body is kept (a digest is configured); otherwise only counted.
    public let keepBody: Bool
    private var head: [UInt8] = []
    /// Where to resume the search for the head's end: a terminator may straddle two reads.
    private var searchFrom = 0
    private var status: Int?
    private var contentLength: Int?
    private var chunked = false
    private var body: [UInt8] = []
    private var bodyCount = 0
    private var settled: Outcome?

    public init(keepBody: Bool) { self.keepBody = keepBody }

    /// Bytes received so far, head and body.
    public private(set) var received = 0

    public mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        if let settled { return settled }
        received &+= bytes.count
        var rest = bytes[...]
        while status == nil {
            head.append(contentsOf: rest)
            rest = bytes[bytes.endIndex...]
            // The limit holds wherever the pieces split: a head is too long when its end
            // lies past the limit, whether that end came yet or not (a terminator is at
            // most 3 bytes after where the head ends).
            guard let (end, after) = Self.headEnd(head, from: searchFrom) else {
                guard head.count <= Self.headLimit + 3 else { return settle(Self.headTooLong) }
                searchFrom = max(0, head.count - 3)
                return .needMore
            }
            guard end <= Self.headLimit else { return settle(Self.headTooLong) }
            if let failure = parseHead(head[..<end]) { return settle(.malformed(failure)) }
            searchFrom = 0
            if let code = status, (100...199).contains(code) {
                // An interim answer: the real one follows.
                status = nil
                contentLength = nil
                chunked = false
                head.removeSubrange(..<after)
                continue
            }
            // 204 and 304 have no body, whatever follows them.
            if let code = status, code == 204 || code == 304 { contentLength = 0 }
            let outcome = takeBody(head[after...])
            head.removeAll(keepingCapacity: true)
            return outcome ?? .needMore
        }
        return takeBody(rest) ?? .needMore
    }

    private static let headTooLong = Outcome.malformed("the answer's header is over \(headLimit / 1024) KiB")

    /// The server closed the connection: the answer is whatever came.
    public mutating func end() -> Outcome {
        if let settled { return settled }
        guard status != nil else {
            return settle(.malformed(received == 0 ? "the server closed the connection without answering"
                                                   : "the connection closed inside the answer's header"))
        }
        if let length = contentLength, bodyCount < length {
            return settle(.malformed("the connection closed after \(bodyCount) of the \(length) body bytes announced"))
        }
        return settle(finished())
    }

    private mutating func settle(_ outcome: Outcome) -> Outcome {
        settled = outcome
        head = []
        body = []
        return outcome
    }

    private func finished() -> Outcome {
        guard let status else { return .malformed("no status line") }
        if chunked && keepBody {
            return .malformed("the body came chunked, though the request was HTTP/1.0; its digest cannot be checked")
        }
        return .complete(status: status, body: body)
    }

    /// Takes body bytes (counted, and kept for a digest); the outcome once the body is
    /// complete by its length. Generic, so that neither a read buffer nor the head's
    /// array is copied for bytes that are only counted.
    private mutating func takeBody<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Outcome? {
        let count = contentLength.map { min(bytes.count, max(0, $0 - bodyCount)) } ?? bytes.count
        bodyCount += count
        if keepBody {
            guard body.count + count <= Self.bodyLimit else {
                return settle(.malformed("the body is over \(Self.bodyLimit >> 20) MiB"))
            }
            body.append(contentsOf: bytes.prefix(count))
        }
        if let length = contentLength, bodyCount >= length { return settle(finished()) }
        return nil
    }

    /// Where the head ends (the blank line) and where the body begins. A bare LF is taken
    /// for a line end, as libcurl takes it.
    static func headEnd(_ bytes: [UInt8], from start: Int) -> (end: Int, after: Int)? {
        var i = max(0, start)
        while i < bytes.count {
            if bytes[i] == 0x0A {
                if i + 1 < bytes.count && bytes[i + 1] == 0x0A { return (i, i + 2) }
                if i + 2 < bytes.count && bytes[i + 1] == 0x0D && bytes[i + 2] == 0x0A { return (i, i + 3) }
            }
            i += 1
        }
        return nil
    }

    /// Reads the status line and the headers this reader needs; the reason it is
    /// malformed, if it is.
    /// Walks the lines in place: splitting them into arrays was a third of a check's
    /// instructions (callgrind).
    private mutating func parseHead(_ bytes: ArraySlice<UInt8>) -> String? {
        var start = bytes.startIndex
        var lineNumber = 0
        while start < bytes.endIndex || lineNumber == 0 {
            let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.endIndex
            var line = bytes[start..<end]
            if line.last == 0x0D { line = line.dropLast() }
            start = end < bytes.endIndex ? end + 1 : end
            lineNumber += 1
            if lineNumber == 1 {
                guard let code = Self.statusCode(line) else {
                    return "the status line \(Self.quoted(line.prefix { $0 != 0x0D })) is not \"HTTP/x.y NNN\""
                }
                status = code
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[..<colon]
            let value = Self.trimmed(line[line.index(after: colon)...])
            if Self.equalsIgnoringCase(name, Self.contentLengthName) {
                guard !value.isEmpty, value.count <= 15, value.allSatisfy({ (0x30...0x39).contains($0) }) else {
                    return "Content-Length \(Self.quoted(value)) is not a number of bytes"
                }
                let length = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                if let earlier = contentLength, earlier != length {
                    return "two Content-Length headers disagree (\(earlier) and \(length))"
                }
                contentLength = length
            } else if Self.equalsIgnoringCase(name, Self.transferEncodingName) {
                chunked = Self.containsIgnoringCase(value, "chunked")
            }
        }
        if chunked { contentLength = nil }   // RFC 9112 6.3: chunked wins over a length
        return nil
    }

    private static let contentLengthName = Array("content-length".utf8)
    private static let transferEncodingName = Array("transfer-encoding".utf8)
    private static let httpSlash = Array("HTTP/".utf8)

    /// `HTTP/<digit>[.<digit>] <3 digits>` then a space or the end.
    static func statusCode(_ line: ArraySlice<UInt8>) -> Int? {
        guard line.count >= 10, line.starts(with: httpSlash) else { return nil }
        guard let space = line.firstIndex(of: 0x20), space - line.startIndex > 5 else { return nil }
        let digits = line[(space + 1)...].prefix(4)
        guard digits.count >= 3, digits.prefix(3).allSatisfy({ (0x30...0x39).contains($0) }),
              digits.count == 3 || digits.last == 0x20 else { return nil }
        return digits.prefix(3).reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = bytes
        while let f = s.first, f == 0x20 || f == 0x09 { s = s.dropFirst() }
        while let l = s.last, l == 0x20 || l == 0x09 { s = s.dropLast() }
        return s
    }

    private static func lower(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }

    static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: [UInt8]) -> Bool {
        guard bytes.count == lowercase.count else { return false }
        var i = bytes.startIndex
        for byte in lowercase {
            guard lower(bytes[i]) == byte else { return false }
            i += 1
        }
        return true
    }

    static func containsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: String) -> Bool {
        let needle = Array(lowercase.utf8), hay = bytes.map(lower)
        guard needle.count <= hay.count else { return false }
        return (0...(hay.count - needle.count)).contains { hay[$0..<($0 + needle.count)].elementsEqual(needle) }
    }

    /// A server's bytes for a message: printable ASCII kept, the rest as \xNN, at most 60.
    static func quoted<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var text = "\""
        for byte in bytes.prefix(60) {
            if (0x20...0x7E).contains(byte) && byte != 0x22 && byte != 0x5C {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789abcdef")
                text += "\\x" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0x0F)])
            }
        }
        return text + (bytes.count > 60 ? "...\"" : "\"")
    }
}
