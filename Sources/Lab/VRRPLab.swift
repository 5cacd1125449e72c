import Foundation
import LinuxNet
import OvercastDaemon
#if canImport(Glibc)
import Glibc
#endif

/// Running VRRP daemons (Overcast and stock keepalived) on lab nodes, and reading what
/// they did: the state through `overcast status --json`, the VIP through `ip addr`.
extension NetworkLab {
    /// Writes `config` and starts `overcast run` inside `node`, with `environment`
    /// ("NAME=value") added to this process's own. Tests log at debug (their failure
    /// messages show the log); benchmarks at info, as keepalived logs by default.
    public func startOvercast(_ node: Node, config: String, tag: String = "", environment: [String] = [],
                              logLevel: String = "debug") throws -> ChildProcess {
        let path = self.path("\(node.name)\(tag).conf")
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let command = [Binaries.overcast, "run", "-f", path, "--log-level", logLevel]
        return try spawn(node, environment.isEmpty ? command : ["env"] + environment + command, log: "\(node.name)\(tag).log")
    }

    /// Starts stock keepalived (VRRP only) inside `node` with its own pid files.
    public func startKeepalived(_ node: Node, config: String, tag: String = "") throws -> ChildProcess {
        let path = self.path("\(node.name)\(tag)-keepalived.conf")
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        return try spawn(node, ["keepalived", "-f", path, "-p", self.path("\(node.name)\(tag)-k.pid"),
                                "-r", self.path("\(node.name)\(tag)-v.pid"), "-n", "-l", "-D", "--vrrp"],
                         log: "\(node.name)\(tag)-keepalived.log")
    }

    /// Starts tcpdump writing `file` in `node` and returns once it is capturing (it says
    /// "listening on"), so nothing sent after this call is missed. `outgoingOnly` keeps
    /// only what the node sends (`-Q out`): a multicast sender otherwise also captures
    /// the kernel's looped-back copy of each packet, late under emulation.
    public func startCapture(_ node: Node, file: String, filter: String, interface: String? = nil,
                             outgoingOnly: Bool = false) throws -> ChildProcess {
        let log = "tcpdump-\(node.name)-\(file).log"
        // --immediate-mode: each packet handed over as it comes, not in buffer-timeout
        // batches, so a packet just before the stop is in the file (status became fresh
        // enough that tests stop a capture 0.15 s after the last thing they wait for).
        let capture = try spawn(node, ["tcpdump", "--immediate-mode", "-i", interface ?? node.interface]
                                + (outgoingOnly ? ["-Q", "out"] : []) + ["-U", "-w", path(file), filter], log: log)
        let ready = waitUntil(timeout: 20, interval: 0.05) {
            ((try? String(contentsOfFile: self.path(log), encoding: .utf8)) ?? "").contains("listening on")
        }
        guard ready else { throw ChildProcessError("tcpdump in \(node.name) did not start capturing") }
        return capture
    }

    /// The log a process started with `tag` wrote, for failure messages.
    public func log(_ node: Node, tag: String = "", keepalived: Bool = false) -> String {
        (try? String(contentsOfFile: path("\(node.name)\(tag)\(keepalived ? "-keepalived" : "").log"), encoding: .utf8)) ?? ""
    }

    /// The status JSON of the Overcast daemon in `node`, or nil when none answers.
    /// Asked in-process through the namespace's abstract status socket.
    public func overcastStatus(_ node: Node, timeout: Double = 5) -> [String: Any]? {
        guard let data = try? inNetworkNamespace(node.namespace, { try StatusSocket.query(timeout: timeout) }) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// The named instance's status fields in `node`.
    public func instance(_ node: Node, _ name: String = "VI_1", timeout: Double = 5) -> [String: Any]? {
        (overcastStatus(node, timeout: timeout)?["instances"] as? [[String: Any]])?.first { $0["name"] as? String == name }
    }

    public func state(_ node: Node, _ name: String = "VI_1", timeout: Double = 5) -> String? {
        instance(node, name, timeout: timeout)?["state"] as? String
    }

    /// The named instance's dropped packets by reason (empty when none, or no status).
    public func rejected(_ node: Node, _ name: String = "VI_1") -> [String: Int] {
        instance(node, name)?["rejected"] as? [String: Int] ?? [:]
    }

    /// True when `address` is on one of the node's interfaces (asked through netlink
    /// inside the namespace).
    public func holds(_ node: Node, _ address: String) -> Bool {
        let addresses = try? inNetworkNamespace(node.namespace) { try NetlinkSocket(.route).addresses().map(\.address.description) }
        return addresses?.contains(address) ?? false
    }

    /// The nodes among `nodes` that hold `address`.
    public func holders(_ address: String, among nodes: [Node]) -> [String] {
        nodes.filter { holds($0, address) }.map(\.name)
    }
}

/// Polls `condition` every `interval` seconds until it holds or `timeout` passes.
@discardableResult
public func waitUntil(timeout: Double, interval: Double = 0.1, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return condition()
}

/// A keepalived.conf vrrp_instance (also read by Overcast) for lab tests.
public struct LabInstance: Sendable {
    public var name = "VI_1"
    public var vrid = 51
    public var interface = "eth0"
    public var priority: Int
    public var version = 2
    public var advertInt = "1"
    public var password: String?
    public var source: String?
    public var peers: [String] = []
    public var vip = LabInstance.defaultVIP
    public var nopreempt = false
    public static let defaultVIP = "192.168.20.11"
    public var extra: [String] = []

    public init(priority: Int, version: Int = 2, advertInt: String = "1", password: String? = nil,
                source: String? = nil, peers: [String] = [], extra: [String] = []) {
        self.priority = priority
        self.version = version
        self.advertInt = advertInt
        self.password = password
        self.source = source
        self.peers = peers
        self.extra = extra
    }

    public var text: String {
        var lines = ["vrrp_instance \(name) {", "  state BACKUP", "  interface \(interface)", "  virtual_router_id \(vrid)",
                     "  priority \(priority)", "  version \(version)", "  advert_int \(advertInt)"]
        if nopreempt { lines.append("  nopreempt") }
        if let password { lines += ["  authentication {", "    auth_type PASS", "    auth_pass \(password)", "  }"] }
        if let source { lines.append("  unicast_src_ip \(source)") }
        if !peers.isEmpty { lines += ["  unicast_peer {"] + peers.map { "    \($0)" } + ["  }"] }
        lines += ["  virtual_ipaddress {", "    \(vip)", "  }"] + extra.map { "  \($0)" } + ["}"]
        return lines.joined(separator: "\n") + "\n"
    }
}
