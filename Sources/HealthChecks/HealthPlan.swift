import Config
import PCRE

/// The health checks a configuration asks for, as values: every real server of every
/// `virtual_server`, each of its checkers with keepalived's defaults applied (delay_loop,
/// retry, delay_before_retry and warmup from the checker or its virtual server) and what
/// one run asks: HTTP_GET or SSL_GET URLs, a TCP connect, or a MISC_CHECK script. Worked
/// out once per configuration and off the checks thread, so the checker only schedules,
/// and testable without a socket.
///
/// Takes the Config model itself, as `DesiredTable` and `OverlayPlan` do: the checker
/// reads about fifteen of its fields, and a copy of them as plain values would be a second
/// model to keep in step with the parser.
public struct HealthPlan: Sendable, Hashable {
    /// A real server and how status and the log name its virtual server.
    public struct Server: Sendable, Hashable {
        public var id: RealServerID
        /// `TCP 10.0.0.1:80`, `fwmark 3` or `group web`.
        public var label: String
        /// ha_suspend: its checkers run only while one of these addresses (its virtual
        /// server's, in network byte order) is on the host; nil: they always run.
        public var haSuspendAddresses: [[UInt8]]?
        /// The configured weight, which FILE_CHECKs add to.
        public var weight: Int
        public init(id: RealServerID, label: String, haSuspendAddresses: [[UInt8]]? = nil, weight: Int = 1) {
            self.id = id
            self.label = label
            self.haSuspendAddresses = haSuspendAddresses
            self.weight = weight
        }
    }

    /// MISC_CHECK: the command line, how long it may run, and whether its exit status sets
    /// the weight (misc_dynamic).
    public struct Script: Sendable, Hashable {
        public var command: String
        public var timeout: Double
        public var dynamic: Bool
        /// MISC_CHECK's `user USER [GROUP]`: whom the script runs as (nil: script_user).
        public var user: String?
        public var group: String?
        public init(command: String, timeout: Double, dynamic: Bool, user: String? = nil, group: String? = nil) {
            self.command = command
            self.timeout = timeout
            self.dynamic = dynamic
            self.user = user
            self.group = group
        }
    }

    /// One checker of one real server.
    public struct Checker: Sendable, Hashable {
        /// Who the checker is across a reload: its virtual server, real server, place among
        /// the server's checkers and its whole configuration. A checker whose key and
        /// policy settings are unchanged keeps its state (up or down, retries, next run).
        public var key: String
        /// Its real server's place in `servers`.
        public var server: Int
        public var settings: CheckerPolicy.Settings
        /// What one run asks; the run ends when every target has answered. Empty for
        /// MISC_CHECK (and for a MISC_CHECK without misc_path, whose runs always succeed).
        public var targets: [CheckTarget]
        public var script: Script?
        /// The real server's notify_up and notify_down.
        public var notifyUp: String?
        public var notifyDown: String?
        public init(key: String, server: Int, settings: CheckerPolicy.Settings, targets: [CheckTarget] = [],
                    script: Script? = nil, notifyUp: String? = nil, notifyDown: String? = nil) {
            self.key = key
            self.server = server
            self.settings = settings
            self.targets = targets
            self.script = script
            self.notifyUp = notifyUp
            self.notifyDown = notifyDown
        }
    }

    /// Each real server once, in configuration order: two `real_server` blocks with the
    /// same address and port in one virtual server are one server.
    public var servers: [Server]
    /// Each checker once, in configuration order: a checker met twice at the same place
    /// (one file included twice) runs once.
    public var checkers: [Checker]
    /// Each FILE_CHECK once, in configuration order; one naming no track_file block was
    /// warned about and removed by the configuration reader.
    public var fileChecks: [FileCheck]

    public init(servers: [Server] = [], checkers: [Checker] = [], fileChecks: [FileCheck] = []) {
        self.servers = servers
        self.checkers = checkers
        self.fileChecks = fileChecks
    }

    /// Whether any real server's checkers depend on the host's addresses (ha_suspend).
    public var watchesLocalAddresses: Bool { servers.contains { $0.haSuspendAddresses != nil } }

    /// The checks of `config`'s virtual servers.
    public init(_ config: OvercastConfiguration) {
        self.init()
        var serverSlots: [RealServerID: Int] = [:]
        var keys: Set<String> = []
        let files = Dictionary(config.trackFiles.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for (index, vs) in config.virtualServers.enumerated() {
            let label = Self.label(of: vs)
            let suspendUnless = HASuspension.addresses(of: vs, in: config)
            for real in vs.realServers {
                let id = RealServerID(virtualServer: index, address: real.address, port: UInt16(clamping: real.port ?? 0))
                let server = serverSlots[id] ?? servers.count
                if server == servers.count {
                    serverSlots[id] = server
                    servers.append(Server(id: id, label: label, haSuspendAddresses: suspendUnless, weight: real.weight))
                }
                for (n, checker) in real.checkers.enumerated() {
                    let key = "\(label)|\(real.address):\(id.port)|\(n)|\(checker)"
                    guard keys.insert(key).inserted else { continue }
                    checkers.append(Checker(
                        key: key, server: server, settings: Self.settings(of: checker, server: real, in: vs),
                        targets: Self.targets(of: checker, key: key, server: real, port: id.port, in: vs),
                        script: Self.script(of: checker, in: vs), notifyUp: real.notifyUp, notifyDown: real.notifyDown))
                }
                for (n, check) in real.fileChecks.enumerated() {
                    guard let file = files[check.name], keys.insert("\(label)|\(real.address):\(id.port)|file\(n)|\(check.name)").inserted
                    else { continue }
                    let (weight, reverse) = check.resolved(file)
                    fileChecks.append(FileCheck(server: server, file: check.name, weight: weight, reverse: reverse,
                                                notifyUp: real.notifyUp, notifyDown: real.notifyDown))
                }
            }
        }
    }

    static func label(of vs: VirtualServer) -> String {
        switch vs.key {
        case .address(let a, let p): return "\(vs.protocolName) \(a):\(p)"
        case .fwmark(let m): return "fwmark \(m)"
        case .group(let g): return "group \(g)"
        }
    }

    /// keepalived's defaults: delay_loop from the virtual server, one retry a second later,
    /// and a warmup of one delay_loop, so that first checks spread over one interval instead
    /// of every server being asked in the same instant.
    /// DNS_CHECK has keepalived's own defaults (check_dns.c): three retries, a delay_loop apart.
    /// `alpha` is the checker's, else its real server's, else its virtual server's (keepalived's check_data.c).
    static func settings(of checker: HealthChecker, server real: RealServer, in vs: VirtualServer) -> CheckerPolicy.Settings {
        let delayLoop = checker.delayLoop ?? vs.delayLoop
        let dns = checker.kind == .dnsCheck
        return CheckerPolicy.Settings(
            delayLoop: milliseconds(delayLoop), retry: checker.retry ?? (dns ? 3 : 1),
            delayBeforeRetry: milliseconds(checker.delayBeforeRetry ?? (dns ? delayLoop : 1)),
            warmup: milliseconds(checker.warmup ?? delayLoop), alpha: checker.alpha ?? real.alpha ?? vs.alpha)
    }

    /// HTTP_GET and SSL_GET ask each `url` of the checker; TCP_CHECK, SMTP_CHECK, UDP_CHECK,
    /// DNS_CHECK and PING_CHECK ask once. All go to connect_ip and connect_port when set,
    /// else to the real server itself (PING_CHECK has no port).
    static func targets(of checker: HealthChecker, key: String, server real: RealServer, port: UInt16,
                        in vs: VirtualServer) -> [CheckTarget] {
        let host = checker.connectIP ?? real.address
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let authority = "\(hostPart):\(checker.connectPort ?? Int(port))"
        let timeout = checker.connectTimeout ?? HealthChecker.defaultConnectTimeout
        let source = CheckSource(address: checker.bindTo, port: checker.bindPort.map { UInt16(clamping: $0) },
                                 interface: checker.bindInterface, mark: checker.fwmark.map { UInt32(clamping: $0) })
        switch checker.kind {
        case .httpGet, .sslGet:
            let scheme = checker.kind == .sslGet ? "https" : "http"
            return checker.urls.enumerated().map { n, url in
                CheckTarget(id: "\(key)#\(n)", url: "\(scheme)://\(authority)\(url.path)",
                            virtualHost: url.virtualhost ?? checker.virtualhost ?? vs.virtualhost,
                            connectTimeout: timeout,
                            kind: .http(expectedStatus: Set(url.statusCodes), digest: url.digest, regex: bodyRegex(of: url)),
                            source: source)
            }
        case .tcpCheck:
            return [CheckTarget(id: "\(key)#0", url: "tcp://\(authority)", connectTimeout: timeout, kind: .tcpConnect,
                                source: source)]
        case .miscCheck:
            return []
        case .pingCheck:
            return [CheckTarget(id: "\(key)#0", url: "icmp://\(hostPart)", connectTimeout: timeout, kind: .ping,
                                source: source)]
        case .udpCheck:
            let probe = UDPProbe(payload: checker.payload, requireReply: checker.requireReply, replyData: checker.replyData,
                                 replyMask: checker.replyMask, minReplyLength: checker.minReplyLength ?? 0,
                                 maxReplyLength: checker.maxReplyLength ?? 255)
            return [CheckTarget(id: "\(key)#0", url: "udp://\(authority)", connectTimeout: timeout, kind: .udp(probe),
                                source: source)]
        case .dnsCheck:
            let type = DNSMessage.types[checker.dnsType ?? "SOA"] ?? 6
            return [CheckTarget(id: "\(key)#0", url: "dns://\(authority)", connectTimeout: timeout,
                                kind: .dns(type: type, name: checker.dnsName ?? "."), source: source)]
        case .smtpCheck:
            return [CheckTarget(id: "\(key)#0", url: "smtp://\(authority)", connectTimeout: timeout,
                                kind: .smtp(helo: checker.heloName ?? SMTPDialogue.defaultHelo), source: source)]
        }
    }

    /// A url's regex, compiled once for all its checks. The reader has compiled it
    /// already; one that does not compile (a model built by other means) gets a pattern
    /// that never matches, so the check fails rather than passing unchecked.
    static func bodyRegex(of url: HTTPURL) -> BodyRegex? {
        guard let text = url.regex else { return nil }
        let pattern = (try? RegexPattern(text, options: url.regexOptions)) ?? (try? RegexPattern("(*FAIL)"))
        return pattern.map { BodyRegex(pattern: $0, noMatch: url.regexNoMatch && text == $0.pattern) }
    }

    /// MISC_CHECK's script; misc_timeout defaults to the virtual server's delay_loop.
    static func script(of checker: HealthChecker, in vs: VirtualServer) -> Script? {
        guard checker.kind == .miscCheck, let command = checker.miscPath else { return nil }
        return Script(command: command, timeout: checker.miscTimeout ?? vs.delayLoop, dynamic: checker.miscDynamic,
                      user: checker.user, group: checker.group)
    }

    /// Seconds as a whole number of milliseconds, as the checker has always counted them.
    /// The parser bounds every value; a model built by other means gets a bounded one
    /// (0 to ~31 years, NaN as 0) rather than a trap.
    static func milliseconds(_ seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }
        return .milliseconds(Int64(min(seconds, 1e9) * 1000))
    }
}
