import Foundation
import LinuxNet
import NetworkTypes

/// A web server behind a VIP by direct routing (LVS-DR), as the article's and the soak's
/// labs have them: the VIP on `lo` with ARP kept quiet about it (arp_ignore 1,
/// arp_announce 2), and Python's http.server on port 80 answering with the server's name.
public enum DirectRoutingWebServer {
    /// Puts the VIP on `lo` and writes the page; set in-process through the namespace (no
    /// `ip`/`sysctl` processes: each costs seconds in the emulated VM).
    public static func prepare(_ node: NetworkLab.Node, name: String, vip: String, in lab: NetworkLab) throws {
        try inNetworkNamespace(node.namespace) {
            let netlink = try NetlinkSocket(.route)
            guard let lo = try netlink.links().first(where: { $0.name == "lo" }), let address = IPv4Address(vip) else {
                throw ChildProcessError("no lo in \(node.name)")
            }
            try netlink.addAddress(InterfaceAddress(address: address, prefixLength: 32, interfaceIndex: lo.index, scope: 254))
            for interface in ["all", "eth0"] {
                try "1".write(toFile: "/proc/sys/net/ipv4/conf/\(interface)/arp_ignore", atomically: false, encoding: .utf8)
                try "2".write(toFile: "/proc/sys/net/ipv4/conf/\(interface)/arp_announce", atomically: false, encoding: .utf8)
            }
        }
        let root = lab.path("www-\(name)")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        try "\(name)\n".write(toFile: root + "/index.html", atomically: true, encoding: .utf8)
    }

    /// Starts (or restarts) the server: Python's http.server on port 80 (half a minute to
    /// start in the emulated VM).
    public static func start(_ node: NetworkLab.Node, name: String, in lab: NetworkLab) throws -> ChildProcess {
        try lab.spawn(node, ["python3", "-m", "http.server", "--bind", "0.0.0.0", "--directory", lab.path("www-\(name)"), "80"],
                      log: "\(name).log")
    }
}
