import Testing
@testable import HealthChecks

/// The plain checker's reading of answers, fed in every split a network could make.
@Suite struct HTTPAnswerReaderTests {
    /// Feeds `text` in pieces of `size` bytes, then the close when `close` is set.
    static func read(_ text: String, in size: Int, keepBody: Bool = true, close: Bool = true) -> HTTPAnswerReader.Outcome {
        var reader = HTTPAnswerReader(keepBody: keepBody)
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let piece = Array(bytes[offset..<min(bytes.count, offset + size)])
            offset += piece.count
            let outcome = piece.withUnsafeBytes { reader.consume($0) }
            if outcome != .needMore { return outcome }
        }
        return close ? reader.end() : .needMore
    }

    static let sizes = [1, 2, 3, 7, 64, 4096]

    @Test(arguments: sizes) func aLengthEndsTheAnswerWithoutWaitingForTheClose(size: Int) {
        let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\ncontent-length: 5\r\n\r\nhello"
        #expect(Self.read(answer, in: size, close: false) == .complete(status: 200, body: Array("hello".utf8)))
    }

    @Test(arguments: sizes) func withoutALengthTheCloseEndsTheBody(size: Int) {
        let answer = "HTTP/1.0 503 Service Unavailable\r\nServer: x\r\n\r\nbusy, come back later"
        #expect(Self.read(answer, in: size, close: false) == .needMore)
        #expect(Self.read(answer, in: size) == .complete(status: 503, body: Array("busy, come back later".utf8)))
    }

    @Test(arguments: sizes) func bareLineFeedsAndInterimAnswers(size: Int) {
        #expect(Self.read("HTTP/1.1 200\nContent-Length: 2\n\nok", in: size) == .complete(status: 200, body: Array("ok".utf8)))
        let interim = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        #expect(Self.read(interim, in: size, close: false) == .complete(status: 404, body: []))
    }

    @Test func bytesPastTheLengthAreNotPartOfTheBody() {
        #expect(Self.read("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA", in: 100) == .complete(status: 200, body: Array("ok".utf8)))
    }

    @Test func aBodyNotKeptIsOnlyCounted() {
        #expect(Self.read("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", in: 2, keepBody: false, close: false)
                == .complete(status: 200, body: []))
        #expect(Self.read("HTTP/1.1 204 No Content\r\n\r\n", in: 3, close: false) == .complete(status: 204, body: []))
    }

    @Test(arguments: [
        ("", "the server closed the connection without answering"),
        ("HTTP/1.1 200 OK\r\nContent-", "the connection closed inside the answer's header"),
        ("SSH-2.0-OpenSSH_9.2\r\n\r\n", "the status line \"SSH-2.0-OpenSSH_9.2\" is not \"HTTP/x.y NNN\""),
        ("HTTP/1.1 2000 OK\r\n\r\n", "the status line \"HTTP/1.1 2000 OK\" is not \"HTTP/x.y NNN\""),
        ("HTTP/1.1 OK\r\n\r\n", "the status line \"HTTP/1.1 OK\" is not \"HTTP/x.y NNN\""),
        ("\u{1}\r\n\r\n", "the status line \"\\x01\" is not \"HTTP/x.y NNN\""),
        ("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "Content-Length \"-1\" is not a number of bytes"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "Content-Length \"99999999999999999999\" is not a number of bytes"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "two Content-Length headers disagree (1 and 2)"),
        ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "the connection closed after 5 of the 10 body bytes announced"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
         "the body came chunked, though the request was HTTP/1.0; its digest cannot be checked"),
    ])
    func malformedAnswersSayWhatIsWrong(answer: String, reason: String) {
        for size in Self.sizes { #expect(Self.read(answer, in: size) == .malformed(reason)) }
    }

    @Test func aChunkedBodyIsFineWhenNoDigestIsWanted() {
        let answer = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
        #expect(Self.read(answer, in: 5, keepBody: false) == .complete(status: 200, body: []))
    }

    @Test func aHeaderThatNeverEndsIsRefusedAtItsLimit() {
        var reader = HTTPAnswerReader(keepBody: false)
        let line = Array("X-Filler: 0123456789012345678901234567890123456789\r\n".utf8)
        var outcome = Array("HTTP/1.1 200 OK\r\n".utf8).withUnsafeBytes { reader.consume($0) }
        var fed = 0
        while outcome == .needMore && fed < 4 * HTTPAnswerReader.headLimit {
            outcome = line.withUnsafeBytes { reader.consume($0) }
            fed += line.count
        }
        #expect(outcome == .malformed("the answer's header is over 64 KiB"))
        #expect(fed <= HTTPAnswerReader.headLimit + line.count)
        // Settled: later bytes and the close do not change it.
        #expect(line.withUnsafeBytes { reader.consume($0) } == outcome)
        #expect(reader.end() == outcome)
    }
}

@Suite struct PlainEndpointTests {
    static let get = CheckTarget.Kind.http(expectedStatus: [], digest: nil)

    @Test func anHTTPAddressGetsKeepalivedsRequest() throws {
        let endpoint = try #require(PlainEndpoint(url: "http://10.0.0.5:8080/health?full=1#top", virtualHost: nil, kind: Self.get))
        #expect(endpoint.address == [10, 0, 0, 5] && endpoint.port == 8080 && !endpoint.ipv6)
        #expect(endpoint.name == "10.0.0.5:8080")
        #expect(endpoint.request.map { String(decoding: $0, as: UTF8.self) }
                == "GET /health?full=1 HTTP/1.0\r\nHost: 10.0.0.5:8080\r\nUser-Agent: Overcast\r\nConnection: close\r\n\r\n")
        let vhost = try #require(PlainEndpoint(url: "http://[fd00::1]/", virtualHost: "www.example.com", kind: Self.get))
        #expect(vhost.ipv6 && vhost.port == 80 && vhost.name == "[fd00::1]:80" && vhost.address.count == 16)
        #expect(vhost.request.map { String(decoding: $0, as: UTF8.self) }?.contains("\r\nHost: www.example.com\r\n") == true)
        let bare = try #require(PlainEndpoint(url: "http://[fd00::1]:80", virtualHost: nil, kind: Self.get))
        #expect(bare.request.map { String(decoding: $0, as: UTF8.self) }?.hasPrefix("GET / HTTP/1.0\r\nHost: [fd00::1]\r\n") == true)
    }

    @Test func aTCPCheckSendsNothing() throws {
        let endpoint = try #require(PlainEndpoint(url: "tcp://192.0.2.1:443", virtualHost: nil, kind: .tcpConnect))
        #expect(endpoint.request == nil && endpoint.port == 443)
        #expect(PlainEndpoint(url: "tcp://192.0.2.1", virtualHost: nil, kind: .tcpConnect) == nil)
    }

    /// What libcurl keeps: TLS, names to resolve, and what cannot go in a request line
    /// (libcurl's own error says what is wrong with it).
    @Test(arguments: ["https://10.0.0.5:443/", "http://backend.internal:80/", "http://10.0.0.5:0/", "http://10.0.0.5:65536/",
                      "http://10.0.0.5:80/a b", "http://10.0.0.5:80/a\r\nX: y", "http://[fd00::1:80/", "ftp://10.0.0.5/", "http://10.0.0.5:80x/"])
    func otherURLsAreLeftToLibcurl(url: String) {
        #expect(PlainEndpoint(url: url, virtualHost: nil, kind: Self.get) == nil)
        #expect(CheckTarget(id: "x", url: url, connectTimeout: 1, kind: Self.get).plain == nil)
    }

    @Test func aVirtualHostThatCouldSplitTheRequestIsLeftToLibcurl() {
        #expect(PlainEndpoint(url: "http://10.0.0.5/", virtualHost: "a\r\nInjected: 1", kind: Self.get) == nil)
    }

    @Test func changingTheURLChangesTheEndpoint() {
        var target = CheckTarget(id: "x", url: "http://10.0.0.5:80/", connectTimeout: 1, kind: Self.get)
        #expect(target.plain?.port == 80)
        target.url = "https://10.0.0.5:443/"
        #expect(target.plain == nil)
        target.url = "http://10.0.0.6:81/"
        #expect(target.plain?.address == [10, 0, 0, 6])
    }
}
