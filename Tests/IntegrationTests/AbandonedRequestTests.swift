import Foundation
import HTTPClient
import Lab
import Testing

/// Namespace tier: a request given up on at its timeout, on a connection whose packets
/// are being lost, must not reach the server later through the kernel's retransmissions
/// when it changes something (`abortiveClose`, on every EC2 call): the soak (seed 501)
/// saw a MASTER's route write land 3.3 s after it was sent, its sender BACKUP by then.
@Suite struct AbandonedRequestTests {
    /// An HTTP/1.1 server (kept-alive connections) that logs each request's path.
    static let server = """
        import http.server, sys
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(n)
                with open(sys.argv[1], "a") as f: f.write(self.path + "\\n")
                self.send_response(200); self.send_header("Content-Length", "2"); self.end_headers(); self.wfile.write(b"ok")
            do_GET = do_POST = answer
            def log_message(self, *a): pass
        http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
        """

    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "nft", "python3"], test: "abandoned requests")))
    func aRequestGivenUpOnIsNotDeliveredLaterWithAnAbortiveClose() throws {
        let lab = try NetworkLab(dropsMulticast: true)
        defer { lab.teardown() }
        let client = try lab.addNode("c", address: "10.9.0.1/24")
        let server = try lab.addNode("s", address: "10.9.0.2/24")
        let script = lab.path("server.py"), seen = lab.path("seen.txt")
        try Self.server.write(toFile: script, atomically: true, encoding: .utf8)
        _ = try lab.spawn(server, ["python3", script, seen], log: "server.log")
        func paths() -> [String] { ((try? String(contentsOfFile: seen, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        let drop = lab.path("drop.nft")
        try "table inet lab_drop {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    tcp dport 8080 drop\n  }\n}\n"
            .write(toFile: drop, atomically: true, encoding: .utf8)

        // One round per kind of close, each on a kept-alive connection made before the loss.
        for (abortive, path) in [(true, "/abandoned-abortive"), (false, "/abandoned-graceful")] {
            try inNetworkNamespace(client.namespace) {
                let http = try CurlEasyRequest()
                let warm = HTTPRequest(url: "http://10.9.0.2:8080/warm", timeoutMilliseconds: 500, abortiveClose: abortive)
                #expect(waitUntil(timeout: 10) { (try? http.perform(warm).status) == 200 })
                try lab.exec(server, ["nft", "-f", drop])
                let request = HTTPRequest(method: "POST", url: "http://10.9.0.2:8080" + path, body: Array("x=1".utf8),
                                          timeoutMilliseconds: 1000, abortiveClose: abortive)
                #expect(throws: CurlError.self) { try http.perform(request) }
                try lab.exec(server, ["nft", "delete", "table", "inet", "lab_drop"])
            }
            if abortive {
                usleep(4_000_000)
                #expect(!paths().contains(path), "the abandoned request arrived after all: \(paths())")
            } else {
                // The control: closed gracefully, the kernel delivers it once the loss ends.
                #expect(waitUntil(timeout: 8) { paths().contains(path) }, "\(paths())")
            }
        }
    }
}
