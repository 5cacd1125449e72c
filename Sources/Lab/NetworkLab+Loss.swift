import ChildProcesses

extension NetworkLab {
    /// Drops `percent` of the frames to and from each node's switch port, at random
    /// (nftables `numgen` in the switch, the host's kernel has no netem): loss on a link
    /// whose carrier stays up. Replaces what an earlier call set; an empty map ends the
    /// loss. Every frame dropped is counted, per port, in the counter `loss_PORT`
    /// (`lossDropped`), so a test can tell the fault's drops from everyone else's.
    public func setLoss(_ percents: [Node: Int]) throws {
        var text = ["table bridge lab_loss {"]
        text += nodes.indices.map { "  counter loss_\(port($0)) { }" }
        text += ["  chain forward { type filter hook forward priority -300; policy accept; }", "}",
                 "flush chain bridge lab_loss forward"]
        for (node, percent) in percents.sorted(by: { $0.key.name < $1.key.name }) {
            guard let port = port(of: node), percent > 0 else { continue }
            for direction in ["iifname", "oifname"] {
                text.append("add rule bridge lab_loss forward \(direction) \"\(port)\" numgen random mod 100 < \(min(percent, 100)) counter name \"loss_\(port)\" drop")
            }
        }
        let file = path("loss.nft")
        try (text.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        try exec(switchNamespace, ["nft", "-f", file])
    }

    /// The frames `setLoss` has dropped so far on `node`'s port (0 before any loss).
    public func lossDropped(_ node: Node) -> Int {
        guard let port = port(of: node),
              let text = try? exec(switchNamespace, ["nft", "list", "counter", "bridge", "lab_loss", "loss_\(port)"]),
              let range = text.range(of: "packets ") else { return 0 }
        return Int(text[range.upperBound...].prefix { $0.isNumber }) ?? 0
    }
}
