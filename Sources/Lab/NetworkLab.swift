import Foundation
@_exported import ChildProcesses
import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// A test bed of network namespaces: one "switch" namespace with a bridge, and nodes
/// whose `eth0` is a veth port on that bridge. With `dropsMulticast` each port gets
/// `mcast_flood off`, which makes the bridge behave like a cloud network: frames to
/// 224.0.0.18 are dropped while unicast and ARP pass (LAB.md).
///
/// Everything it creates carries its `id` in the name, lives only inside its own
/// namespaces, and goes away in `teardown()` (also called from `deinit`), so a failing
/// test leaves nothing behind. The test-bed is built with `ip`, like an operator would;
/// the daemon's own network code goes through netlink.
public final class NetworkLab: @unchecked Sendable {
    public struct Node: Sendable, Hashable {
        public var name: String
        public var namespace: String
        public var address: String
        public var interface: String { "eth0" }
    }

    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    public let id: String
    public let switchNamespace: String
    public private(set) var nodes: [Node] = []
    private var processes: [ChildProcess] = []
    private var tornDown = false
    public let directory: String

    public convenience init(dropsMulticast: Bool = true) throws {
        try self.init(dropsMulticast: dropsMulticast, vpcSwitch: false)
    }

    /// `vpcSwitch`: the switch of a VPC fabric (`VPCLab`): no learning, no flooding of any
    /// kind, one static forwarding entry per node's MAC, and IPv4 through the kernel's
    /// conntrack (bridge netfilter) for stateful security groups.
    init(dropsMulticast: Bool, vpcSwitch: Bool) throws {
        self.vpcSwitch = vpcSwitch
        let n = Self.lock.withLock { () -> Int in Self.counter += 1; return Self.counter }
        id = "ovc\(getpid())x\(n)"
        switchNamespace = "\(id)-sw"
        self.dropsMulticast = dropsMulticast
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(id).path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        Self.removeStale()
        try ChildProcess.check(["ip", "netns", "add", switchNamespace])
        try batch(switchNamespace, ["link add br0 type bridge" + (vpcSwitch ? " nf_call_iptables 1" : ""), "link set br0 up", "link set lo up"],
                  "switch")
    }

    private let dropsMulticast: Bool
    private let vpcSwitch: Bool
    /// On a VPC switch, what `addNode` without a MAC does instead: launch an instance
    /// (`VPCLab`), so a test written for a plain lab runs on the VPC unchanged.
    var launcher: ((String, String) throws -> Node)?
    /// The VPC this network is the switch of (nil for a plain lab).
    public internal(set) weak var vpc: VPCLab?
    /// Run first at teardown (the VPC lab stops its fabric and closes its front).
    var teardownHooks: [() -> Void] = []

    deinit { teardown() }

    /// Adds a node namespace with `eth0` at `address` (CIDR) on the switch, with `mac` if
    /// given and a default route through `gateway` if given.
    @discardableResult
    public func addNode(_ name: String, address: String, mac: String? = nil, gateway: String? = nil) throws -> Node {
        if vpcSwitch, mac == nil, let launcher {
            return try launcher(name, String(address.split(separator: "/")[0]))
        }
        let node = Node(name: name, namespace: "\(id)-\(name)", address: address)
        let port = port(nodes.count)
        if vpcSwitch && mac == nil { throw ChildProcessError("a VPC switch port needs its ENI's MAC (\(name))") }
        // One `ip -batch` per namespace: each process costs about a second in the emulated VM.
        var switchSide = ["link add \(port) type veth peer name eth0 netns \(node.namespace)", "link set \(port) master br0 up"]
        if vpcSwitch {
            switchSide.append("link set dev \(port) type bridge_slave learning off flood off mcast_flood off bcast_flood off")
        } else if dropsMulticast {
            switchSide.append("link set dev \(port) type bridge_slave mcast_flood off")
        }
        var nodeSide = mac.map { ["link set eth0 address \($0)"] } ?? []
        nodeSide += ["link set lo up", "addr add \(address) dev eth0", "link set eth0 up"]
        if let gateway { nodeSide.append("route add default via \(gateway) dev eth0") }
        try ChildProcess.check(["ip", "netns", "add", node.namespace])
        try batch(switchNamespace, switchSide, "\(port)-switch")
        if vpcSwitch, let mac { try ChildProcess.check(["bridge", "-n", switchNamespace, "fdb", "add", mac, "dev", port, "master", "static"]) }
        try batch(node.namespace, nodeSide, "\(port)-node")
        nodes.append(node)
        return node
    }

    /// Runs `ip -n NAMESPACE -batch` on `commands`.
    private func batch(_ namespace: String, _ commands: [String], _ tag: String) throws {
        let file = path("ip-\(tag).batch")
        try (commands.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        try ChildProcess.check(["ip", "-n", namespace, "-batch", file])
    }

    /// The switch port of the node added `n`th.
    public func port(_ n: Int) -> String { "p\(n)" }

    /// The switch port of `node`.
    public func port(of node: Node) -> String? { nodes.firstIndex(of: node).map(port) }

    /// Isolates the switch ports of `nodes` from each other (bridge port isolation):
    /// frames between them are dropped while every link keeps its carrier, so VRRP sees
    /// lost advertisements, not an interface failure.
    public func isolate(_ nodes: [Node], _ on: Bool = true) throws {
        for node in nodes {
            guard let index = self.nodes.firstIndex(of: node) else { continue }
            try exec(switchNamespace, ["bridge", "link", "set", "dev", port(index), "isolated", on ? "on" : "off"])
        }
    }

    /// Takes `node`'s switch port down (or back up), in-process through netlink: the node
    /// drops off the network as a crashed machine would, carrier and all, while its
    /// kernel state (addresses, IPVS) stays as it was.
    public func setPort(_ node: Node, up: Bool) throws {
        guard let index = nodes.firstIndex(of: node) else { throw ChildProcessError("\(node.name) is not in this lab") }
        let name = port(index)
        try inNetworkNamespace(switchNamespace) {
            let netlink = try NetlinkSocket(.route)
            guard let link = try netlink.links().first(where: { $0.name == name }) else {
                throw ChildProcessError("no switch port \(name)")
            }
            try netlink.configureLink(index: link.index, up: up)
        }
    }

    /// A veth pair inside `node`, both ends up: taking `peer` down takes the carrier
    /// away from `name`, an interface failure for `track_interface`.
    public func addVethPair(_ node: Node, _ name: String, peer: String) throws {
        try exec(node, ["ip", "link", "add", name, "type", "veth", "peer", "name", peer])
        try exec(node, ["ip", "link", "set", name, "up"])
        try exec(node, ["ip", "link", "set", peer, "up"])
    }

    /// Runs a command inside a namespace and returns its output; throws on failure.
    @discardableResult
    public func exec(_ namespace: String, _ arguments: [String], timeout: Double = 60) throws -> String {
        try ChildProcess.check(["ip", "netns", "exec", namespace] + arguments, timeout: timeout)
    }

    @discardableResult
    public func exec(_ node: Node, _ arguments: [String], timeout: Double = 60) throws -> String {
        try exec(node.namespace, arguments, timeout: timeout)
    }

    /// Starts a long-running process inside a node; it is stopped at teardown.
    public func spawn(_ node: Node, _ arguments: [String], log: String) throws -> ChildProcess {
        let child = try ChildProcess(["ip", "netns", "exec", node.namespace] + arguments, outputPath: path(log))
        processes.append(child)
        return child
    }

    /// A path in this lab's scratch directory.
    public func path(_ name: String) -> String { "\(directory)/\(name)" }

    public func teardown() {
        guard !tornDown else { return }
        tornDown = true
        let hooks = teardownHooks
        teardownHooks = []
        launcher = nil
        for hook in hooks { hook() }
        for process in processes.reversed() { process.stop(signal: SIGTERM, timeout: 3) }
        for node in nodes.reversed() { Self.deleteNamespace(node.namespace) }
        Self.deleteNamespace(switchNamespace)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func deleteNamespace(_ name: String) {
        // Kill whatever still runs inside (e.g. a daemon a test started by hand).
        if let pids = try? ChildProcess.run(["ip", "netns", "pids", name], timeout: 10).output {
            for pid in pids.split(whereSeparator: \.isNewline).compactMap({ pid_t($0) }) { kill(pid, SIGKILL) }
        }
        _ = try? ChildProcess.run(["ip", "netns", "delete", name], timeout: 10)
    }

    /// Deletes namespaces left by labs of processes that no longer exist.
    public static func removeStale() {
        guard let list = try? ChildProcess.run(["ip", "netns", "list"], timeout: 10).output else { return }
        for line in list.split(whereSeparator: \.isNewline) {
            let name = String(line.split(separator: " ").first ?? "")
            guard name.hasPrefix("ovc"), let x = name.firstIndex(of: "x"),
                  let pid = pid_t(name[name.index(name.startIndex, offsetBy: 3)..<x]) else { continue }
            if pid != getpid() && kill(pid, 0) != 0 { deleteNamespace(name) }
        }
    }
}
