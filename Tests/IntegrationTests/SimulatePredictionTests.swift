import Foundation
import Lab
import PacketCapture
import Testing

/// Namespace tier: what `overcast simulate` predicts for two nodes' files equals what two
/// daemons running those files do on the lab VPC. Both sides are timed from the same
/// wire event, the victim's last advertisement (the simulator plays the fault right
/// after one), to the survivor's first advertisement as MASTER, both read from one
/// capture on the survivor: the comparison is of the protocol's timing, not of polling.
@Suite(.serialized) struct SimulatePredictionTests {
    /// The daemons' timers fire from epoll to the microsecond; the rest is scheduling
    /// on a loaded CI machine and the capture's timestamps.
    static let tolerance = 0.050

    @Test(.enabled(if: VPCLab.available(commands: ["ip", "tcpdump"], test: "simulate's predictions against the lab")),
          arguments: ["kill-master", "reload"])
    func predictedTakeoverEqualsTheMeasuredOne(scenario: String) throws {
        let (lab, nodes) = try UnicastClusterTests.lab(2)
        defer { lab.teardown() }
        let configs = [UnicastClusterTests.unicast(nodes, 0, priority: 150, advertInt: "1").text,
                       UnicastClusterTests.unicast(nodes, 1, priority: 100, advertInt: "1").text]
        let files = try configs.enumerated().map { i, text in
            let path = lab.path("node\(i + 1).conf")
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let predicted = try Self.prediction(files: files, scenario: scenario)

        let master = try lab.startOvercast(nodes[0], config: configs[0])
        _ = try lab.startOvercast(nodes[1], config: configs[1])
        #expect(waitUntil(timeout: 10) { lab.state(nodes[0]) == "MASTER" && lab.state(nodes[1]) == "BACKUP" },
                "\(lab.log(nodes[0]))\n\(lab.log(nodes[1]))")
        let capture = try lab.startCapture(nodes[1], file: "vrrp.pcap", filter: "ip proto 112")
        usleep(2_500_000)
        // SIGKILL: no last word. SIGTERM: priority 0, as a reload that changes the instance does.
        master.stop(signal: scenario == "kill-master" ? SIGKILL : SIGTERM, timeout: 5)
        #expect(waitUntil(timeout: 8) { lab.state(nodes[1]) == "MASTER" })
        usleep(300_000)
        capture.stop(signal: SIGINT, timeout: 3)

        let frames = try CaptureFile.read(lab.path("vrrp.pcap")).compactMap(Self.advertisement)
        let victim = UnicastClusterTests.address(0), survivor = UnicastClusterTests.address(1)
        let first = try #require(frames.first { $0.source == survivor }, "no advertisement from the survivor: \(frames)")
        let last = try #require(frames.last { $0.source == victim && $0.time < first.time }, "no advertisement from the victim")
        if scenario == "reload" { #expect(last.priority == 0, "a graceful stop's last advertisement has priority 0") }
        let measured = first.time - last.time
        print("simulate \(scenario): predicted \(predicted) s, measured \(measured) s on the lab")
        #expect(abs(measured - predicted) <= Self.tolerance,
                "predicted \(predicted) s, measured \(measured) s (tolerance \(Self.tolerance) s)\n\(lab.log(nodes[1]))")
    }

    /// `overcast simulate --json`'s takeover for the scenario.
    static func prediction(files: [String], scenario: String) throws -> Double {
        let run = try ChildProcess.run([Binaries.overcast, "simulate", "--json", "--scenario", scenario]
                                       + files.flatMap { ["-f", $0] }, timeout: 60)
        #expect(run.status == 0, "simulate: \(run.output)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(run.output.utf8)) as? [String: Any])
        let scenarios = try #require(document["scenarios"] as? [[String: Any]], "\(run.output)")
        return try #require(scenarios.first?["takeoverSeconds"] as? Double, "\(run.output)")
    }

    struct Advertisement: CustomStringConvertible {
        var time: Double
        var source: String
        var priority: UInt8
        var description: String { "\(time) \(source) prio \(priority)" }
    }

    /// An Ethernet frame's VRRP advertisement: its capture time, IP source and priority.
    static func advertisement(_ frame: CaptureFile.Frame) -> Advertisement? {
        let ip = frame.bytes.dropFirst(14)
        guard ip.count >= 20 + 3, let first = ip.first, first >> 4 == 4 else { return nil }
        let headerLength = Int(first & 0x0F) * 4
        guard ip.count > headerLength + 2 else { return nil }
        let start = ip.startIndex
        let source = ip[(start + 12)..<(start + 16)].map(String.init).joined(separator: ".")
        return Advertisement(time: frame.time, source: source, priority: ip[start + headerLength + 2])
    }
}
