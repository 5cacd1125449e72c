import ClusterCheck
import Config
import Foundation
import Testing

/// One node's file, built from fields so that each test changes only what it is about.
/// The defaults are the article's pair: lvs1 (10.0.0.1, priority 101, MASTER) and lvs2
/// (10.0.0.2, priority 100, BACKUP), VRRPv2 unicast with PASS, one VIP.
struct NodeText {
    var file: String
    var name = "VI_1"
    var interface = "eth0"
    var virtualRouterID = 51
    var state = "MASTER"
    var priority = 101
    var advertInt = "1"
    var source: String? = "10.0.0.1"
    var peers = ["10.0.0.2"]
    var addresses = ["192.168.20.11"]
    /// The lines of the authentication block; none means no block.
    var authentication = ["auth_type PASS", "auth_pass secret1"]
    /// More lines inside the instance.
    var extra: [String] = []
    /// More blocks after the instance (another instance, a sync group).
    var after: [String] = []

    static var lvs1: NodeText { NodeText(file: "/cluster/lvs1.conf") }
    static var lvs2: NodeText {
        NodeText(file: "/cluster/lvs2.conf", state: "BACKUP", priority: 100, source: "10.0.0.2", peers: ["10.0.0.1"])
    }

    var text: String {
        var lines = ["vrrp_instance \(name) {", "  state \(state)", "  interface \(interface)",
                     "  virtual_router_id \(virtualRouterID)", "  priority \(priority)", "  advert_int \(advertInt)"]
        if !authentication.isEmpty { lines += ["  authentication {"] + authentication.map { "    " + $0 } + ["  }"] }
        if let source { lines.append("  unicast_src_ip \(source)") }
        if !peers.isEmpty { lines += ["  unicast_peer {"] + peers.map { "    " + $0 } + ["  }"] }
        lines += ["  virtual_ipaddress {"] + addresses.map { "    " + $0 } + ["  }"]
        lines += extra.map { "  " + $0 }
        lines += ["}"] + after
        return lines.joined(separator: "\n") + "\n"
    }

    /// The 1-based line of the first line that, trimmed, starts with `prefix`.
    func line(_ prefix: String) -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return (lines.firstIndex { $0.trimmingCharacters(in: .whitespaces).hasPrefix(prefix) } ?? -1) + 1
    }

    /// `FILE:LINE` of the line that starts with `prefix`, as findings name it.
    func at(_ prefix: String) -> String { "\(file):\(line(prefix))" }
}

/// Reads `texts` as nodes (failing the test on a file that does not read cleanly) and
/// runs the check. `keys` stands in for the key files, by resolved path.
func check(_ texts: [NodeText], keys: [String: [UInt8]] = [:]) -> ClusterCheckReport {
    let nodes = texts.map { text in
        let loaded = ClusterNodeLoader.load(text: text.text, file: text.file) { path in
            keys[path].map { .read(SecretKey($0)) } ?? .unreadable("\(path): no such file")
        }
        #expect(loaded.isValid, "\(text.file): \(loaded.diagnostics)\n\(text.text)")
        return loaded.node
    }
    return ClusterCheck.run(nodes)
}

extension ClusterCheckReport {
    func findings(_ kind: ClusterFinding.Kind) -> [ClusterFinding] { findings.filter { $0.kind == kind } }
}

extension ClusterFinding {
    /// `FILE:LINE` of every location, as the text output prints them.
    var places: [String] { locations.map { "\($0.file):\($0.line)" } }
}
