import Foundation
import Testing
import Lab
import HealthChecks

/// The checker engine against real HTTP servers on loopback (one Python asyncio process
/// listening on many ports): good, wrong status, digest mismatch, refused, hanging,
/// slow, virtual host, TCP connect, and 500 servers in one batch.
@Suite(.serialized) struct CheckEngineTests {
    static let server = """
        import asyncio, ssl, sys
        base, count = int(sys.argv[1]), int(sys.argv[2])
        tls = None
        options = sys.argv[3:]
        for option in options:
            if option.startswith("tls="):
                tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                tls.load_cert_chain(option[4:] + "/cert.pem", option[4:] + "/key.pem")
        async def handle(reader, writer):
            try:
                request = await reader.readuntil(b"\\r\\n\\r\\n")
            except Exception:
                writer.close(); return
            path = request.split(b" ")[1]
            host = b""
            for line in request.split(b"\\r\\n"):
                if line.lower().startswith(b"host:"):
                    host = line[5:].strip()
            if path == b"/hang":
                await asyncio.sleep(30)
            if path == b"/trickle":
                writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 4\\r\\nConnection: close\\r\\n\\r\\n")
                for _ in range(4):
                    writer.write(b"x")
                    await writer.drain()
                    await asyncio.sleep(0.3)
                writer.close(); return
            if path == b"/slow":
                await asyncio.sleep(0.3)
            if path == b"/short":
                writer.write(b"HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\nhello")
                await writer.drain(); writer.close(); return
            if path == b"/smtp":
                writer.write(b"220 mail.example.com ESMTP\\r\\n\\r\\n")
                await writer.drain(); writer.close(); return
            if path == b"/silent-close":
                writer.close(); return
            status = b"500 Internal Server Error" if path == b"/error" else b"200 OK"
            body = b"hello from overcast, host " + host + b"\\n"
            writer.write(b"HTTP/1.1 " + status + b"\\r\\nContent-Length: " + str(len(body)).encode() + b"\\r\\nConnection: close\\r\\n\\r\\n" + body)
            await writer.drain()
            writer.close()
        async def main():
            servers = [await asyncio.start_server(handle, "127.0.0.1", base + i) for i in range(count)]
            if tls:
                servers.append(await asyncio.start_server(handle, "127.0.0.1", base + count, ssl=tls))
            if "ipv6" in options:
                servers.append(await asyncio.start_server(handle, "::1", base))
            print("ready", flush=True)
            await asyncio.sleep(3600)
        asyncio.run(main())
        """

    /// `count` plain HTTP servers on consecutive ports from the base returned; with `tls`,
    /// one more after them speaking HTTPS with a self-signed certificate made here; with
    /// `ipv6`, the first one on ::1 as well.
    static func startServers(count: Int, tls: Bool = false, ipv6: Bool = false) throws -> (ChildProcess, Int, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("overcast-http-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let script = directory + "/server.py", log = directory + "/server.log"
        try server.write(toFile: script, atomically: true, encoding: .utf8)
        if tls {
            let openssl = try ChildProcess(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                            "-nodes", "-days", "1", "-subj", "/CN=localhost",
                                            "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"],
                                           outputPath: directory + "/openssl.log")
            guard openssl.wait() == 0 else {
                throw ChildProcessError("openssl could not make a certificate: \((try? String(contentsOfFile: directory + "/openssl.log", encoding: .utf8)) ?? "")")
            }
        }
        let base = 10000 + Int(getpid() % 16) * 600   // below the ephemeral range, apart from other tests' ports
        let process = try ChildProcess(["python3", script, "\(base)", "\(count)"] + (tls ? ["tls=" + directory] : []) + (ipv6 ? ["ipv6"] : []),
                                       outputPath: log)
        let ready = waitUntil(timeout: 20) { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("ready") }
        guard ready else { throw ChildProcessError("HTTP servers did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")") }
        // "ready" is printed once every listener is up; still, confirm the first and the
        // last port accept connections before the test relies on them.
        let probes = [base, base + count - 1].map {
            CheckTarget(id: "\($0)", url: "tcp://127.0.0.1:\($0)", connectTimeout: 1, kind: .tcpConnect)
        }
        let listening = waitUntil(timeout: 10, interval: 0.1) { CheckEngine().run(probes).values.allSatisfy(\.succeeded) }
        guard listening else { throw ChildProcessError("HTTP servers on \(base)... do not accept connections") }
        return (process, base, directory)
    }

    @Test func eachKindOfServerGivesItsResult() throws {
        let (server, base, directory) = try Self.startServers(count: 1)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        let url = "http://127.0.0.1:\(base)"
        let goodDigest = BodyDigest.md5Hex(Array("hello from overcast, host 127.0.0.1:\(base)\n".utf8))
        let vhostDigest = BodyDigest.md5Hex(Array("hello from overcast, host www.example.com\n".utf8))
        let targets: [CheckTarget] = [
            CheckTarget(id: "good", url: url + "/", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "digest", url: url + "/", connectTimeout: 2, kind: .http(expectedStatus: [], digest: goodDigest)),
            CheckTarget(id: "digest-mismatch", url: url + "/", connectTimeout: 2,
                        kind: .http(expectedStatus: [], digest: String(repeating: "0", count: 32))),
            CheckTarget(id: "vhost", url: url + "/", virtualHost: "www.example.com", connectTimeout: 2,
                        kind: .http(expectedStatus: [200], digest: vhostDigest)),
            CheckTarget(id: "status", url: url + "/error", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "status-accepted", url: url + "/error", connectTimeout: 2, kind: .http(expectedStatus: [500], digest: nil)),
            CheckTarget(id: "refused", url: "http://127.0.0.1:1/", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "hang", url: url + "/hang", connectTimeout: 1, kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "slow", url: url + "/slow", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "tcp", url: "tcp://127.0.0.1:\(base)", connectTimeout: 2, kind: .tcpConnect),
            CheckTarget(id: "tcp-refused", url: "tcp://127.0.0.1:1", connectTimeout: 2, kind: .tcpConnect),
        ]
        let results = CheckEngine().run(targets)
        #expect(results["good"] == .success)
        #expect(results["digest"] == .success)
        #expect(results["digest-mismatch"]?.succeeded == false)
        #expect(results["vhost"] == .success)
        #expect(results["status"] == .failure("HTTP status 500"))
        #expect(results["status-accepted"] == .success)
        #expect(results["refused"]?.succeeded == false)
        if case .failure(let reason)? = results["hang"] { #expect(reason.lowercased().contains("timeout")) } else {
            Issue.record("a hanging server passed its check")
        }
        #expect(results["slow"] == .success)
        #expect(results["tcp"] == .success)
        #expect(results["tcp-refused"]?.succeeded == false)
        #expect(results.count == targets.count)
    }

    /// A check started while another hangs is driven at once, not after the loop's long
    /// wait: `perform` polls before its one pass, so the poll has to return for a new
    /// transfer. Were it to sleep through the wait, the hanging check's 8 s timeout would
    /// end first; the good check must come out while the hanging one is still in flight.
    @Test func aNewCheckIsNotHeldBehindTheWait() throws {
        let (server, base, directory) = try Self.startServers(count: 1)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        let engine = CheckEngine()
        #expect(engine.start(CheckTarget(id: "hang", url: "http://127.0.0.1:\(base)/hang", connectTimeout: 8,
                                         kind: .http(expectedStatus: [], digest: nil))) == nil)
        // Let the hanging check connect and send, so that it only waits from now on.
        for _ in 0..<5 { #expect(engine.perform(waitMilliseconds: 50).isEmpty) }
        #expect(engine.start(CheckTarget(id: "good", url: "http://127.0.0.1:\(base)/", connectTimeout: 8,
                                         kind: .http(expectedStatus: [], digest: nil)), tag: 7) == nil)
        var finished: [FinishedCheck] = []
        while finished.isEmpty { finished = engine.perform(waitMilliseconds: 10_000) }
        #expect(finished == [FinishedCheck(id: "good", tag: 7, result: .success)], "the caller's tag comes back: \(finished)")
        #expect(engine.inFlight == 1, "the hanging check is still in flight")
    }

    /// A checker that is late to look (descheduled, or behind at 1,000 servers) does not
    /// fail a server whose answer is already waiting, and still fails one that sent
    /// nothing: the pass reads the sockets before deadlines are applied. libcurl's own
    /// timeout, checked before reading, failed the answered check too.
    @Test func aLateLookReadsTheAnswerBeforeTheDeadline() throws {
        let (server, base, directory) = try Self.startServers(count: 1)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        let engine = CheckEngine()
        for (id, path) in [("answered", "/slow"), ("silent", "/hang")] {
            #expect(engine.start(CheckTarget(id: id, url: "http://127.0.0.1:\(base)\(path)", connectTimeout: 0.6,
                                             kind: .http(expectedStatus: [], digest: nil))) == nil)
        }
        // Connect and send both requests, then look away for twice the timeout: the
        // answered server replies 0.3 s into that, the silent one never.
        for _ in 0..<3 { #expect(engine.perform(waitMilliseconds: 20).isEmpty) }
        Thread.sleep(forTimeInterval: 1.2)
        var results: [String: CheckResult] = [:]
        for _ in 0..<20 where results.count < 2 {
            for check in engine.perform(waitMilliseconds: 100) { results[check.id] = check.result }
        }
        #expect(results["answered"] == .success, "\(results)")
        #expect(engine.timeouts == 1 && engine.inFlight == 0, "only the silent check timed out")
        #expect(engine.finishedCount == 2 && engine.failedCount == 1)
        if case .failure(let reason)? = results["silent"] { #expect(reason.lowercased().contains("timeout")) } else {
            Issue.record("a server that sent nothing passed its check: \(results)")
        }
    }

    /// connect_timeout bounds each wait, as in keepalived, not the whole check: an answer
    /// that comes in parts 0.3 s apart passes a 0.5 s timeout although it takes 0.9 s,
    /// while a server that stops sending is still timed out.
    @Test func theTimeoutBoundsEachWaitNotTheWholeAnswer() throws {
        let (server, base, directory) = try Self.startServers(count: 1)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        let started = CheckEngine.now()
        let results = CheckEngine().run([
            CheckTarget(id: "trickle", url: "http://127.0.0.1:\(base)/trickle", connectTimeout: 0.5,
                        kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "hang", url: "http://127.0.0.1:\(base)/hang", connectTimeout: 0.5,
                        kind: .http(expectedStatus: [], digest: nil)),
        ])
        #expect(results["trickle"] == .success, "\(results)")
        #expect(results["hang"]?.succeeded == false)
        #expect(CheckEngine.now() - started >= 0.85, "the trickling answer took its 0.9 s")
    }

    /// Answers that are not HTTP, or stop short, fail the check with what was wrong and
    /// where it came from (the plain checker's own reading).
    @Test func malformedAnswersFailWithWhatWasWrong() throws {
        let (server, base, directory) = try Self.startServers(count: 1)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        let results = CheckEngine().run(["/short", "/smtp", "/silent-close"].map {
            CheckTarget(id: $0, url: "http://127.0.0.1:\(base)\($0)", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil))
        })
        let at = "answer from 127.0.0.1:\(base): "
        #expect(results["/short"] == .failure(at + "the connection closed after 5 of the 10 body bytes announced"))
        #expect(results["/smtp"] == .failure(at + "the status line \"220 mail.example.com ESMTP\" is not \"HTTP/x.y NNN\""))
        #expect(results["/silent-close"] == .failure(at + "the server closed the connection without answering"))
    }

    /// A real server by its IPv6 address: the plain checker's IPv6 socket address, the
    /// request's bracketed Host header (the page echoes it, so the digest checks it).
    @Test func anIPv6RealServerIsCheckedOnItsOwnSocket() throws {
        let (server, base, directory) = try Self.startServers(count: 1, ipv6: true)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        let digest = BodyDigest.md5Hex(Array("hello from overcast, host [::1]:\(base)\n".utf8))
        let targets = [
            CheckTarget(id: "http", url: "http://[::1]:\(base)/", connectTimeout: 2, kind: .http(expectedStatus: [], digest: digest)),
            CheckTarget(id: "tcp", url: "tcp://[::1]:\(base)", connectTimeout: 2, kind: .tcpConnect),
            CheckTarget(id: "refused", url: "tcp://[::1]:1", connectTimeout: 2, kind: .tcpConnect),
        ]
        #expect(targets.allSatisfy { $0.plain?.ipv6 == true })
        let results = CheckEngine().run(targets)
        #expect(results["http"] == .success, "\(results)")
        #expect(results["tcp"] == .success)
        #expect(results["refused"]?.succeeded == false)
    }

    /// SSL_GET runs on libcurl, in the same poll as plain checks: both kinds in flight at
    /// once (the slow pages overlap the TLS handshakes), each with its own result.
    @Test func tlsChecksRunOnLibcurlBesidePlainOnes() throws {
        let (server, base, directory) = try Self.startServers(count: 1, tls: true)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        let tls = "https://127.0.0.1:\(base + 1)", plain = "http://127.0.0.1:\(base)"
        let tlsDigest = BodyDigest.md5Hex(Array("hello from overcast, host 127.0.0.1:\(base + 1)\n".utf8))
        let targets: [CheckTarget] = [
            CheckTarget(id: "tls", url: tls + "/", connectTimeout: 2, kind: .http(expectedStatus: [], digest: tlsDigest)),
            CheckTarget(id: "tls-slow", url: tls + "/slow", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "tls-status", url: tls + "/error", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "tls-to-plain", url: "https://127.0.0.1:\(base)/", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "plain-slow", url: plain + "/slow", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil)),
            CheckTarget(id: "plain-status", url: plain + "/error", connectTimeout: 2, kind: .http(expectedStatus: [], digest: nil)),
        ]
        #expect(targets.filter { $0.plain == nil }.map(\.id) == ["tls", "tls-slow", "tls-status", "tls-to-plain"])
        let results = CheckEngine().run(targets)
        #expect(results["tls"] == .success, "\(results)")
        #expect(results["tls-slow"] == .success)
        #expect(results["tls-status"] == .failure("HTTP status 500"))
        #expect(results["tls-to-plain"]?.succeeded == false, "a TLS handshake with a plain HTTP server fails")
        #expect(results["plain-slow"] == .success)
        #expect(results["plain-status"] == .failure("HTTP status 500"))
    }

    /// 500 real servers checked in one batch, each bounded by a 1 s timeout: all answer.
    @Test func fiveHundredServersInOneBatch() throws {
        let (server, base, directory) = try Self.startServers(count: 500)
        defer { server.stop(signal: SIGKILL); try? FileManager.default.removeItem(atPath: directory) }
        let targets = (0..<500).map {
            CheckTarget(id: "s\($0)", url: "http://127.0.0.1:\(base + $0)/", connectTimeout: 1, kind: .http(expectedStatus: [], digest: nil))
        }
        let results = CheckEngine().run(targets)
        #expect(results.count == 500)
        let failed = results.filter { !$0.value.succeeded }
        #expect(failed.count == 0, "\(failed.count) failed, e.g. \(failed.first.map { "\($0.key): \($0.value)" } ?? "")")
    }
}
