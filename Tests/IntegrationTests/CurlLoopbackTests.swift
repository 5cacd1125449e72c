import Foundation
import Testing
import HTTPClient
import Lab

/// libcurl through the HTTPClient wrapper against a real HTTP server on loopback.
@Suite struct CurlLoopbackTests {
    @Test func curlFetchesFromARealHTTPServerOnLoopback() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-curl-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("hello from a real server\n".utf8).write(to: directory.appendingPathComponent("index.txt"))
        let port = 20000 + Int(getpid() % 20000)
        let server = try ChildProcess(["python3", "-m", "http.server", "--bind", "127.0.0.1",
                                       "--directory", directory.path, String(port)])
        defer { server.stop() }

        // Poll until the server answers (bounded), then check what it served.
        var response: HTTPResponse?
        for _ in 0..<100 where response == nil {
            response = try? CurlEasyRequest().get("http://127.0.0.1:\(port)/index.txt", timeoutMilliseconds: 1000)
            if response == nil { usleep(50_000) }
        }
        let ok = try #require(response)
        #expect(ok.status == 200)
        #expect(String(decoding: ok.body, as: UTF8.self) == "hello from a real server\n")
        #expect(try CurlEasyRequest().get("http://127.0.0.1:\(port)/missing").status == 404)
        #expect(throws: CurlError.self) { try CurlEasyRequest().get("http://127.0.0.1:1/", timeoutMilliseconds: 500) }
    }
}
