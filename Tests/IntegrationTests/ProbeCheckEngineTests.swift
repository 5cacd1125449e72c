import Foundation
import Testing
import Lab
import HealthChecks

/// PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK on the checker engine against real
/// servers in lab namespaces: a host that answers ping and one told to ignore it
/// (icmp_echo_ignore_all in its own namespace), a UDP echo service, dnsmasq with one
/// record, aiosmtpd, and servers that answer garbage; each up, then down. The engine runs
/// on a thread inside the checker's namespace, as the daemon's would.
@Suite(.serialized) struct ProbeCheckEngineTests {
    /// Small servers for what no real one does: `echo` (UDP echo), `garbage` (answers every
    /// datagram with b"garbage"), `whoami` (answers with the sender's address), `silent`
    /// (reads, never answers), `badbanner` (a TCP
    /// server whose greeting is not SMTP), `badhelo` (greets 220, refuses HELO with 502).
    static let helper = """
        import socket, sys
        mode, port = sys.argv[1], int(sys.argv[2])
        if mode in ("echo", "garbage", "silent", "whoami"):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", port))
            print("ready", flush=True)
            while True:
                data, peer = s.recvfrom(65535)
                if mode == "echo": s.sendto(data, peer)
                if mode == "garbage": s.sendto(b"garbage", peer)
                if mode == "whoami": s.sendto(peer[0].encode(), peer)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", port)); s.listen(16)
            print("ready", flush=True)
            while True:
                c, _ = s.accept()
                if mode == "badbanner":
                    c.sendall(b"HTTP/1.0 400 Bad Request\\r\\n\\r\\n")
                else:
                    c.sendall(b"220-lab.example ESMTP\\r\\n220 ready\\r\\n")
                    c.recv(512)
                    c.sendall(b"502 HELO not here\\r\\n")
                c.close()
        """

    struct Bed {
        let lab: NetworkLab
        let checker: NetworkLab.Node
        let services: NetworkLab.Node
        let silent: NetworkLab.Node
        var processes: [String: ChildProcess] = [:]

        /// Runs `targets` on an engine in the checker's namespace.
        func run(_ targets: [CheckTarget]) throws -> [String: CheckResult] {
            try inNetworkNamespace(checker.namespace) { CheckEngine().run(targets) }
        }

        func waitFor(_ target: CheckTarget, timeout: Double = 15) -> Bool {
            waitUntil(timeout: timeout, interval: 0.2) { (try? run([target]))?[target.id] == .success }
        }
    }

    static let servicesAddress = "10.77.0.2", silentAddress = "10.77.0.3"
    /// A second address of the checker's, for `bindto`.
    static let bindAddress = "10.77.0.5"

    static func bed() throws -> Bed {
        let lab = try NetworkLab()
        let checker = try lab.addNode("chk", address: "10.77.0.1/24")
        try lab.exec(checker, ["ip", "address", "add", "\(bindAddress)/24", "dev", "eth0"])
        let services = try lab.addNode("svc", address: "\(servicesAddress)/24")
        let silent = try lab.addNode("quiet", address: "\(silentAddress)/24")
        try lab.exec(silent, ["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=1"])
        let script = lab.path("helper.py")
        try helper.write(toFile: script, atomically: true, encoding: .utf8)
        var bed = Bed(lab: lab, checker: checker, services: services, silent: silent)
        func log(_ name: String) -> String { (try? String(contentsOfFile: lab.path(name + ".log"), encoding: .utf8)) ?? "" }
        let helpers = [("echo", 7), ("garbage", 5300), ("whoami", 7070), ("silent", 9999), ("badbanner", 2525), ("badhelo", 2526)]
        for (mode, port) in helpers {
            bed.processes[mode] = try lab.spawn(services, ["python3", script, mode, "\(port)"], log: "\(mode).log")
        }
        bed.processes["dnsmasq"] = try lab.spawn(services, [
            "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=",
            "--user=root", "--listen-address=\(servicesAddress)", "--bind-interfaces", "--port=53", "--log-facility=-",
            "--address=/www.example.test/10.9.9.9", "--local=/example.test/"], log: "dnsmasq.log")
        bed.processes["smtp"] = try lab.spawn(services, ["python3", "-m", "aiosmtpd", "-n", "-l", "\(servicesAddress):25"], log: "smtp.log")
        for (mode, _) in helpers where !waitUntil(timeout: 15, { log(mode).contains("ready") }) {
            throw ChildProcessError("the \(mode) helper did not start: \(log(mode))")
        }
        guard bed.waitFor(dns("ready", "www.example.test")), bed.waitFor(smtp("ready", 25)) else {
            throw ChildProcessError("dnsmasq or aiosmtpd did not start: \(log("dnsmasq")) \(log("smtp"))")
        }
        return bed
    }

    static func ping(_ id: String, _ address: String, timeout: Double = 1) -> CheckTarget {
        CheckTarget(id: id, url: "icmp://\(address.contains(":") ? "[\(address)]" : address)", connectTimeout: timeout, kind: .ping)
    }
    static func udp(_ id: String, _ port: Int, _ probe: UDPProbe, address: String = servicesAddress) -> CheckTarget {
        CheckTarget(id: id, url: "udp://\(address):\(port)", connectTimeout: 1, kind: .udp(probe))
    }
    static func dns(_ id: String, _ name: String, type: UInt16 = 1, port: Int = 53) -> CheckTarget {
        CheckTarget(id: id, url: "dns://\(servicesAddress):\(port)", connectTimeout: 1, kind: .dns(type: type, name: name))
    }
    static func smtp(_ id: String, _ port: Int) -> CheckTarget {
        CheckTarget(id: id, url: "smtp://\(servicesAddress):\(port)", connectTimeout: 1, kind: .smtp(helo: "checker.lab"))
    }

    static let needed = ["ip", "python3", "dnsmasq", "sysctl"]

    @Test(.enabled(if: Prerequisites.available(commands: needed, pythonModules: ["aiosmtpd"], test: "probe checkers")))
    func eachServerGivesItsResultUpAndDown() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        let echoed = Array("hello".utf8)
        let targets = [
            Self.ping("ping", Self.servicesAddress),
            Self.ping("ping-ignored", Self.silentAddress),
            Self.udp("udp-echo", 7, UDPProbe(payload: echoed, requireReply: true, replyData: echoed)),
            Self.udp("udp-echo-unrequired", 7, UDPProbe()),
            Self.udp("udp-silent", 9999, UDPProbe()),
            Self.udp("udp-silent-required", 9999, UDPProbe(requireReply: true)),
            Self.udp("udp-closed", 4444, UDPProbe()),
            Self.udp("udp-mismatch", 5300, UDPProbe(requireReply: true, replyData: [0x67, 0x61, 0x72, 0x62, 0x00])),
            Self.udp("udp-too-long", 5300, UDPProbe(requireReply: true, replyData: [0x67], maxReplyLength: 4)),
            Self.dns("dns-record", "www.example.test"),
            Self.dns("dns-soa-root", ".", type: 6),
            Self.dns("dns-nxdomain", "gone.example.test"),
            Self.dns("dns-garbage", "www.example.test", port: 5300),
            Self.dns("dns-silent", "www.example.test", port: 9999),
            Self.smtp("smtp", 25),
            Self.smtp("smtp-bad-banner", 2525),
            Self.smtp("smtp-bad-helo", 2526),
            Self.smtp("smtp-closed", 26),
        ]
        let results = try bed.run(targets)
        func reason(_ id: String) -> String {
            if case .failure(let text) = results[id] { return text }
            return "\(String(describing: results[id]))"
        }
        let svc = Self.servicesAddress
        #expect(results["ping"] == .success, "\(reason("ping"))")
        #expect(reason("ping-ignored") == "Timeout: no echo reply from \(Self.silentAddress) within connect_timeout (1.0 s)")
        #expect(results["udp-echo"] == .success, "\(reason("udp-echo"))")
        #expect(results["udp-echo-unrequired"] == .success)
        #expect(results["udp-silent"] == .success, "keepalived: silence passes unless a reply is required")
        #expect(reason("udp-silent-required").hasPrefix("Timeout:"), "\(reason("udp-silent-required"))")
        #expect(reason("udp-closed") == "\(svc):4444: port unreachable (an ICMP error answered the datagram)")
        #expect(reason("udp-mismatch") == "\(svc):5300: reply octet 4 is 0x61, expected 0x00")
        #expect(reason("udp-too-long") == "\(svc):5300: reply of 7 octets, outside min_reply_length 0 - max_reply_length 4")
        #expect(results["dns-record"] == .success, "\(reason("dns-record"))")
        // dnsmasq is not authoritative for the root, yet answers: whatever it says about
        // the root with no upstream, the check reports its rcode or passes.
        #expect(results["dns-soa-root"] == .success || reason("dns-soa-root").contains("DNS answer rcode"), "\(reason("dns-soa-root"))")
        #expect(reason("dns-nxdomain") == "\(svc):53: DNS answer rcode 3 (NXDOMAIN)")
        #expect(reason("dns-garbage") == "\(svc):5300: malformed DNS answer: answer of 7 octets, shorter than a DNS header (12)")
        #expect(reason("dns-silent") == "Timeout: no DNS answer from \(svc):9999 within connect_timeout (1.0 s)")
        #expect(results["smtp"] == .success, "\(reason("smtp"))")
        #expect(reason("smtp-bad-banner") == "\(svc):2525: SMTP greeting reply line is not 'NNN text': 'HTTP/1.0 400 Bad Request'")
        #expect(reason("smtp-bad-helo") == "\(svc):2526: SMTP HELO reply 502, expected 250: '502 HELO not here'")
        #expect(reason("smtp-closed").contains("Connection refused"), "\(reason("smtp-closed"))")

        // Down: the echo service, dnsmasq and the SMTP server stop; the answering host
        // starts ignoring ping.
        for name in ["echo", "dnsmasq", "smtp"] { bed.processes[name]?.stop(signal: SIGKILL) }
        try bed.lab.exec(bed.services, ["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=1"])
        let down = try bed.run([targets[0], targets[2], targets[9], targets[14]])
        #expect(down["ping"] == .failure("Timeout: no echo reply from \(svc) within connect_timeout (1.0 s)"))
        #expect(down["udp-echo"] == .failure("\(svc):7: port unreachable (an ICMP error answered the datagram)"))
        #expect(down["dns-record"] == .failure("\(svc):53: port unreachable (an ICMP error answered the datagram)"))
        #expect(down["smtp"].map { !$0.succeeded && "\($0)".contains("Connection refused") } == true, "\(String(describing: down["smtp"]))")

        // And up again: ping answered once more.
        try bed.lab.exec(bed.services, ["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=0"])
        #expect(bed.waitFor(Self.ping("ping", svc)))
    }

    /// bindto: the checks leave from the address given (the server sees it), on every
    /// kind of the engine's sockets; an address the host does not have fails the bind.
    @Test(.enabled(if: Prerequisites.available(commands: needed, pythonModules: ["aiosmtpd"], test: "probe checkers bindto")))
    func bindtoChoosesTheSourceAddress() throws {
        let bed = try Self.bed()
        defer { bed.lab.teardown() }
        func whoami(_ id: String, expect: String, bindTo: String?) -> CheckTarget {
            var target = Self.udp(id, 7070, UDPProbe(requireReply: true, replyData: Array(expect.utf8)))
            target.bindTo = bindTo
            return target
        }
        var ping = Self.ping("ping-bound", Self.servicesAddress)
        ping.bindTo = Self.bindAddress
        var smtp = Self.smtp("smtp-bound", 25)
        smtp.bindTo = Self.bindAddress
        var nowhere = Self.smtp("smtp-nowhere", 25)
        nowhere.bindTo = "10.77.0.77"
        let results = try bed.run([
            whoami("bound", expect: Self.bindAddress, bindTo: Self.bindAddress),
            whoami("unbound", expect: Self.bindAddress, bindTo: nil),
            ping, smtp, nowhere,
        ])
        #expect(results["bound"] == .success, "\(String(describing: results["bound"]))")
        #expect(results["unbound"] == .failure("\(Self.servicesAddress):7070: reply octet 8 is 0x31, expected 0x35"))
        #expect(results["ping-bound"] == .success && results["smtp-bound"] == .success, "\(results)")
        #expect(results["smtp-nowhere"].map { "\($0)".contains("bind: Cannot assign requested address") } == true, "\(results)")
    }

    @Test(.enabled(if: Prerequisites.available(commands: ["ip"], test: "ping over IPv6 loopback")))
    func pingReachesIPv6AndIPv4Loopback() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let node = try lab.addNode("p6", address: "10.78.0.1/24")
        try lab.exec(node, ["ip", "link", "set", "lo", "up"])
        let results = try inNetworkNamespace(node.namespace) {
            CheckEngine().run([Self.ping("v4", "127.0.0.1"), Self.ping("v6", "::1"), Self.ping("self", "10.78.0.1")])
        }
        #expect(results == ["v4": .success, "v6": .success, "self": .success])
    }

    /// Without CAP_NET_RAW there is no raw socket, and PING_CHECK takes an ICMP datagram
    /// socket, which the namespace's ping_group_range must allow: refused first (the error
    /// says so), then allowed, for IPv4 and IPv6.
    @Test(.enabled(if: Prerequisites.available(commands: ["ip", "sysctl"], test: "ping without CAP_NET_RAW")))
    func pingWithoutRawSocketsUsesADatagramSocket() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let node = try lab.addNode("p4", address: "10.79.0.1/24")
        let peer = try lab.addNode("p5", address: "10.79.0.2/24")
        try lab.exec(node, ["ip", "link", "set", "lo", "up"])
        func unprivileged() throws -> [String: CheckResult] {
            try inNetworkNamespace(node.namespace) {
                try dropThreadCapability(capabilityNetRaw)
                return CheckEngine().run([Self.ping("v4", "10.79.0.2"), Self.ping("v6", "::1")])
            }
        }
        try lab.exec(node, ["sysctl", "-q", "-w", "net.ipv4.ping_group_range=1 0"])   // nobody may
        let refused = try unprivileged()
        #expect(refused.values.allSatisfy { "\($0)".contains("socket: Permission denied") }, "\(refused)")
        try lab.exec(node, ["sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 0"])   // root's group may
        #expect(try unprivileged() == ["v4": .success, "v6": .success])
        // The peer ignoring echo: the datagram socket times out like the raw one.
        try lab.exec(peer, ["sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=1"])
        #expect(try unprivileged()["v4"] == .failure("Timeout: no echo reply from 10.79.0.2 within connect_timeout (1.0 s)"))
        // And the test process itself still has its raw sockets.
        #expect(try inNetworkNamespace(node.namespace) { CheckEngine().run([Self.ping("raw", "::1")]) } == ["raw": .success])
    }
}
