import Foundation
import Lab
import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// A way of carrying VRRP between lab nodes, as one daemon implements it: the lines its
/// configuration needs, and where its advertisements can be seen.
struct BenchTransport: Sendable {
    var name: String
    /// Stock keepalived rather than Overcast.
    var keepalived: Bool
    /// unicast, replicate or gre.
    var kind: String

    static let overcastUnicast = BenchTransport(name: "overcast unicast", keepalived: false, kind: "unicast")
    static let overcastReplicate = BenchTransport(name: "overcast replicate", keepalived: false, kind: "replicate")
    static let overcastGRE = BenchTransport(name: "overcast gre", keepalived: false, kind: "gre")
    static let keepalivedUnicast = BenchTransport(name: "keepalived unicast", keepalived: true, kind: "unicast")

    /// The variants this kernel can run (GRE only where gretap exists, the kernel-tier
    /// VM), narrowed to `only` (names) when it is not empty.
    nonisolated(unsafe) static var only: [String] = []
    static func available() -> [BenchTransport] {
        let all = [overcastUnicast, overcastReplicate] + (KernelFeatures.hasGRE ? [overcastGRE] : []) + [keepalivedUnicast]
        return only.isEmpty ? all : all.filter { only.contains($0.name) }
    }

    /// The interface VRRP runs on inside a node.
    var vrrpInterface: String { kind == "gre" ? "ovc0" : "eth0" }

    /// The source address of node `n`'s advertisements: its overlay address for GRE
    /// (VRRP runs on the overlay bridge), its own address otherwise.
    func vrrpSource(_ n: Int, addresses: [String]) -> String {
        kind == "gre" ? Self.overlayAddress(n) : addresses[n]
    }

    static func overlayAddress(_ n: Int) -> String { "10.200.0.\(n + 1)" }

    /// A whole configuration for node `n` of `addresses`: the overlay block for GRE, then
    /// `instance` with this transport's lines (the VIP stays on eth0, the client's link).
    func configuration(_ n: Int, addresses: [String], instance: LabInstance) -> String {
        var instance = instance
        let others = addresses.enumerated().filter { $0.offset != n }.map(\.element)
        var head = ""
        switch kind {
        case "gre":
            head = (["overlay ovc0 {", "  local \(addresses[n])", "  peers {"] + others.map { "    \($0)" }
                    + ["  }", "  key 42", "  address \(Self.overlayAddress(n))/24", "}", ""]).joined(separator: "\n")
            instance.interface = "ovc0"
            instance.source = nil
            instance.peers = []
            instance.vip = "\(instance.vip)/32 dev eth0"
        case "replicate":
            instance.source = addresses[n]
            instance.peers = others
            // l3: unicast copies, which a VPC carries (l2 rests on delivery by MAC).
            instance.extra += ["transport replicate", "replicate_mode l3"]
        default:
            instance.source = addresses[n]
            instance.peers = others
        }
        return head + instance.text
    }

    /// Waits until the daemon in `node` runs as BACKUP (Overcast says so in its status,
    /// keepalived in its log): in the emulated VM a start takes seconds.
    func waitForBackup(_ lab: NetworkLab, _ node: NetworkLab.Node, timeout: Double = 90) throws {
        let ready = waitUntil(timeout: timeout, interval: 0.1) {
            keepalived ? lab.log(node, keepalived: true).contains("Entering BACKUP STATE") : lab.state(node) == "BACKUP"
        }
        guard ready else {
            throw ChildProcessError("\(name): \(node.name) never became BACKUP\n\(lab.log(node, keepalived: keepalived).suffix(2000))")
        }
    }

    /// Starts the daemon in `node` (Overcast logging at info, as keepalived does).
    func start(_ lab: NetworkLab, _ node: NetworkLab.Node, config: String, tag: String = "") throws -> ChildProcess {
        keepalived ? try lab.startKeepalived(node, config: config, tag: tag)
            : try lab.startOvercast(node, config: config, tag: tag, logLevel: "info")
    }
}

/// What this kernel offers (after trying to load the modules): the kernel-tier VM has
/// both, this machine's own kernel neither.
enum KernelFeatures {
    static let hasGRE: Bool = {
        _ = try? ChildProcess.run(["modprobe", "-q", "ip_gre"], timeout: 20)
        return FileManager.default.fileExists(atPath: "/sys/module/ip_gre")
    }()

    static let hasIPVS: Bool = {
        _ = try? ChildProcess.run(["modprobe", "-q", "ip_vs"], timeout: 20)
        return FileManager.default.fileExists(atPath: "/proc/net/ip_vs")
    }()
}
