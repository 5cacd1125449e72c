import Foundation
import Testing
import Lab
import HealthChecks

/// bind_port, fwmark and bind_if on the engine's own sockets and on libcurl's (SSL_GET),
/// against servers in a lab namespace that log who connected: the server sees the port,
/// an `ip rule fwmark` steers marked checks to an address only that rule reaches, and
/// bind_if picks the link (a link-local IPv6 server is reached only with it).
@Suite(.serialized) struct CheckSourceLabTests {
    /// HTTP on 8080 and HTTPS on 8443 (IPv4 and IPv6), UDP on 7070 answering "ADDRESS:PORT"
    /// of the sender; each connection and datagram logged as "KIND ADDRESS PORT".
    static let serverScript = """
        import socket, ssl, sys, threading
        directory = sys.argv[1]
        lock = threading.Lock()
        def log(*words):
            with lock: print(*words, flush=True)
        def listener(port):
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", port)); s.listen(64)
            return s
        def serve(c, tls):
            try:
                c.settimeout(2)
                if tls: c = tls.wrap_socket(c, server_side=True)
                if c.recv(4096): c.sendall(b"HTTP/1.0 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok")
            except Exception: pass
            finally:
                try: c.close()
                except Exception: pass
        def accept(s, kind, tls):
            while True:
                c, peer = s.accept()
                log(kind, peer[0].removeprefix("::ffff:"), peer[1])
                threading.Thread(target=serve, args=(c, tls), daemon=True).start()
        def udp(s):
            while True:
                data, peer = s.recvfrom(65535)
                log("udp", peer[0], peer[1])
                s.sendto(("%s:%d" % peer[:2]).encode(), peer)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(directory + "/cert.pem", directory + "/key.pem")
        plain, secure = listener(8080), listener(8443)
        # One UDP socket per address, so each answer leaves from the address asked.
        udps = []
        for address in sys.argv[2:]:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((address, 7070)); udps.append(u)
        threading.Thread(target=accept, args=(plain, "tcp", None), daemon=True).start()
        threading.Thread(target=accept, args=(secure, "tls", tls), daemon=True).start()
        for u in udps: threading.Thread(target=udp, args=(u,), daemon=True).start()
        print("ready", flush=True)
        threading.Event().wait()
        """

    static let checkerAddress = "10.80.0.1", secondAddress = "10.80.0.5", serverAddress = "10.80.0.2"
    /// An address of the server's that only the fwmark rule's table routes to.
    static let markedAddress = "10.81.0.2"
    static let needed = ["ip", "python3", "openssl"]

    struct Bed {
        let lab: NetworkLab
        let checker: NetworkLab.Node
        let server: NetworkLab.Node
        let process: ChildProcess

        func run(_ targets: [CheckTarget]) throws -> [String: CheckResult] {
            try inNetworkNamespace(checker.namespace) { CheckEngine().run(targets) }
        }

        /// The server's log lines so far.
        var seen: [String] {
            ((try? String(contentsOfFile: lab.path("server.log"), encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
    }

    static func bed() throws -> Bed {
        // Multicast passes: IPv6 neighbour discovery for the link-local server needs it.
        let lab = try NetworkLab(dropsMulticast: false)
        do {
            let checker = try lab.addNode("chk", address: "\(checkerAddress)/24")
            try lab.exec(checker, ["ip", "address", "add", "\(secondAddress)/24", "dev", "eth0"])
            let server = try lab.addNode("srv", address: "\(serverAddress)/24")
            try lab.exec(server, ["ip", "address", "add", "\(markedAddress)/32", "dev", "eth0"])
            let openssl = try ChildProcess(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                            "-nodes", "-days", "1", "-subj", "/CN=localhost",
                                            "-keyout", lab.path("key.pem"), "-out", lab.path("cert.pem")],
                                           outputPath: lab.path("openssl.log"))
            guard openssl.wait() == 0 else { throw ChildProcessError("openssl could not make a certificate") }
            try serverScript.write(toFile: lab.path("server.py"), atomically: true, encoding: .utf8)
            let process = try lab.spawn(server, ["python3", lab.path("server.py"), lab.directory, serverAddress, markedAddress], log: "server.log")
            let bed = Bed(lab: lab, checker: checker, server: server, process: process)
            guard waitUntil(timeout: 20, { bed.seen.contains("ready") }) else { throw ChildProcessError("the lab server did not start") }
            return bed
        } catch {
            lab.teardown()
            throw error
        }
    }

    static func tcp(_ id: String, _ host: String, _ source: CheckSource) -> CheckTarget {
        let shown = host.contains(":") ? "[\(host)]" : host
        return CheckTarget(id: id, url: "tcp://\(shown):8080", connectTimeout: 2, kind: .tcpConnect, source: source)
    }
    static func http(_ id: String, _ host: String, tls: Bool = false, _ source: CheckSource) -> CheckTarget {
        CheckTarget(id: id, url: tls ? "https://\(host):8443/" : "http://\(host):8080/", connectTimeout: 2,
                    kind: .http(expectedStatus: [200], digest: nil), source: source)
    }
    static func udp(_ id: String, _ host: String, expect: String, _ source: CheckSource) -> CheckTarget {
        CheckTarget(id: id, url: "udp://\(host):7070", connectTimeout: 2,
                    kind: .udp(UDPProbe(requireReply: true, replyData: Array(expect.utf8))), source: source)
    }

    /// The server sees each check come from bind_port, with bindto's address or the
    /// host's; checks from one port in a row all pass (no TIME_WAIT holds the port).
    @Test(.enabled(if: Prerequisites.available(commands: needed, test: "checker bind_port")))
    func bindPortIsTheSourcePortTheServerSees() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        let svc = Self.serverAddress, me = Self.checkerAddress
        for round in 1...3 {
            let results = try bed.run([
                Self.tcp("tcp", svc, CheckSource(port: 40001)),
                Self.http("http", svc, CheckSource(address: Self.secondAddress, port: 40002)),
                Self.udp("udp", svc, expect: "\(me):40003", CheckSource(port: 40003)),
                Self.http("tls", svc, tls: true, CheckSource(port: 40004)),
            ])
            #expect(results.values.allSatisfy { $0.succeeded }, "round \(round): \(results)")
        }
        func count(_ line: String) -> Int { bed.seen.filter { $0 == line }.count }
        #expect(waitUntil(timeout: 5) {
            count("tcp \(me) 40001") >= 1 && count("tcp \(Self.secondAddress) 40002") == 3 && count("udp \(me) 40003") == 3
                && count("tls \(me) 40004") == 3
        }, "\(bed.seen)")
        let checks = bed.seen.filter { $0.hasPrefix("tcp ") || $0.hasPrefix("tls ") || $0.hasPrefix("udp ") }
        #expect(checks.allSatisfy { ["40001", "40002", "40003", "40004"].contains($0.split(separator: " ").last.map(String.init) ?? "") },
                "every check came from its bind_port: \(checks)")
    }

    /// An address reachable only through `ip rule fwmark 7`: checks marked 7 reach it on
    /// every kind of socket (TCP, UDP, ICMP, libcurl's); unmarked ones find no route.
    @Test(.enabled(if: Prerequisites.available(commands: needed, test: "checker fwmark")))
    func fwmarkSteersTheCheckThroughPolicyRouting() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        let target = Self.markedAddress
        for command in [["ip", "rule", "add", "fwmark", "7", "table", "107"],
                        ["ip", "route", "add", "10.81.0.0/24", "dev", "eth0", "table", "107"],
                        // The answers come from an address the main table has no route back to.
                        ["sysctl", "-q", "-w", "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0"]] {
            _ = try bed.lab.exec(bed.checker, command)
        }
        let marked = CheckSource(mark: 7), other = CheckSource(mark: 8)
        let results = try bed.run([
            Self.tcp("tcp", target, marked), Self.tcp("tcp-other", target, other), Self.tcp("tcp-none", target, CheckSource()),
            Self.udp("udp", target, expect: "\(Self.checkerAddress):", marked),
            CheckTarget(id: "ping", url: "icmp://\(target)", connectTimeout: 2, kind: .ping, source: marked),
            Self.http("tls", target, tls: true, marked), Self.http("tls-none", target, tls: true, CheckSource()),
        ])
        #expect(["tcp", "udp", "ping", "tls"].allSatisfy { results[$0] == .success }, "\(results)")
        #expect(["tcp-other", "tcp-none"].allSatisfy { results[$0].map { "\($0)".contains("Network is unreachable") } == true },
                "\(results)")
        #expect(results["tls-none"]?.succeeded == false, "\(results)")
    }

    /// bind_if: the check leaves through the interface named, an unknown interface is the
    /// check's error, and a link-local IPv6 server is reached only with it (keepalived's
    /// reason for the keyword).
    @Test(.enabled(if: Prerequisites.available(commands: needed, test: "checker bind_if")))
    func bindIfChoosesTheLink() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        // A link with nothing on it (a veth pair whose other end has no address).
        _ = try bed.lab.exec(bed.checker, ["ip", "link", "add", "dum0", "type", "veth", "peer", "name", "dum1"])
        _ = try bed.lab.exec(bed.checker, ["ip", "link", "set", "dum0", "up"])
        _ = try bed.lab.exec(bed.checker, ["ip", "link", "set", "dum1", "up"])
        let svc = Self.serverAddress
        let results = try bed.run([
            Self.tcp("eth0", svc, CheckSource(interface: "eth0")),
            Self.tcp("dum0", svc, CheckSource(interface: "dum0")),
            Self.tcp("nosuch", svc, CheckSource(interface: "nosuch0")),
            Self.http("tls-eth0", svc, tls: true, CheckSource(interface: "eth0")),
            Self.http("tls-nosuch", svc, tls: true, CheckSource(interface: "nosuch0")),
        ])
        #expect(results["eth0"] == .success && results["tls-eth0"] == .success, "\(results)")
        #expect(results["dum0"]?.succeeded == false, "a check bound to a link without the server passed: \(results)")
        for id in ["nosuch", "tls-nosuch"] {
            #expect(results[id].map { "\($0)".contains("setsockopt SO_BINDTODEVICE nosuch0: No such device") } == true, "\(results)")
        }

        // The server's link-local address, once duplicate address detection is done.
        let shown = try bed.lab.exec(bed.server, ["ip", "-6", "-o", "address", "show", "dev", "eth0", "scope", "link"])
        let linkLocal = try #require(shown.split(separator: " ").first { $0.hasPrefix("fe80:") }?.split(separator: "/").first.map(String.init),
                                     "no link-local address: \(shown)")
        #expect(waitUntil(timeout: 15, interval: 0.2) {
            (try? bed.run([Self.tcp("ll", linkLocal, CheckSource(interface: "eth0"))]))?["ll"] == .success
        }, "\(linkLocal) not reached through eth0: \(String(describing: try? bed.run([Self.tcp("ll", linkLocal, CheckSource(interface: "eth0"))])))")
        let without = try bed.run([Self.tcp("ll-none", linkLocal, CheckSource())])
        #expect(without["ll-none"].map { "\($0)".contains("Invalid argument") } == true, "\(without)")
    }
}
