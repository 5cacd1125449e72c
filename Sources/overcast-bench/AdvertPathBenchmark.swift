import Foundation
import Lab
import LinuxNet
import NetworkTypes
import PacketCapture
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// The advertisement path, per transport, for 2, 4, 8 and 16 nodes: one MASTER
/// advertising every 100 ms (VRRPv3) to silent backups.
///
/// tcpdump in every node records each VRRP frame with the kernel's timestamp (all
/// namespaces share one clock). At the MASTER the frames of one advertisement are the
/// burst it sends each interval (N-1 unicast copies; the multicast original plus N-1
/// replicated copies; N-1 GRE packets under the overlay's one multicast frame). Latency
/// is from the burst's first frame to the frame's arrival in each backup's VRRP
/// interface; "to the last peer" is the slowest backup of each advertisement, what
/// grows with the fan-out. Frames and bytes are what leaves the MASTER's eth0 per
/// advertisement (Ethernet frames as captured, without preamble and FCS). CPU is the
/// MASTER daemon's scheduler run time over the window divided by its advertisements.
struct AdvertPathBenchmark {
    var runs: Int
    var quick: Bool
    var log: (String) -> Void

    static let interval = 0.1

    struct Sample {
        var latency: [Double] = []
        var lastPeer: [Double] = []
        var cpuPerAdvert: [Double] = []
        var frames: [Double] = []
        var bytes: [Double] = []
    }

    func run() throws -> [ResultRow] {
        try Prerequisites.require(commands: ["ip", "tcpdump", "keepalived"])
        let sizes = quick ? [2, 4] : [2, 4, 8, 16]
        let window = quick ? 2.0 : 10.0
        let runs = quick ? 1 : min(self.runs, 3)
        let transports = BenchTransport.available()
        var rows: [ResultRow] = []
        for size in sizes {
            var samples: [String: Sample] = [:]
            for transport in transports {
                for run in 0..<runs {
                    let sample = try once(transport, nodes: size, window: window)
                    samples[transport.name, default: Sample()].append(sample)
                    log("adverts \(size) nodes \(transport.name) run \(run + 1)/\(runs): \(sample.latency.count) deliveries, "
                        + String(format: "latency median %.3f ms, %.1f frames and %.0f bytes per advert, %.1f us CPU per advert",
                                 Summary(sample.latency)?.median ?? 0, Summary(sample.frames)?.median ?? 0,
                                 Summary(sample.bytes)?.median ?? 0, Summary(sample.cpuPerAdvert)?.median ?? 0))
                }
            }
            let measures: [(String, String, KeyPath<Sample, [Double]>)] = [
                ("send to receive", "ms", \.latency), ("send to the last peer", "ms", \.lastPeer),
                ("sender CPU per advertisement", "us", \.cpuPerAdvert), ("frames on the wire per advertisement", "frames", \.frames),
                ("bytes on the wire per advertisement", "bytes", \.bytes)]
            for (title, unit, path) in measures {
                let reference = Summary(samples[BenchTransport.keepalivedUnicast.name]?[keyPath: path] ?? [])
                for transport in transports {
                    let s = Summary(samples[transport.name]?[keyPath: path] ?? [])
                    let ours = !transport.keepalived
                    rows.append(ResultRow(benchmark: "adverts: \(title), \(size) nodes", variant: transport.name, unit: unit, summary: s,
                                          reference: ours ? BenchTransport.keepalivedUnicast.name : nil,
                                          ratio: ours ? s.flatMap { o in reference.flatMap { $0.median > 0 ? o.median / $0.median : nil } } : nil))
                }
            }
        }
        return rows
    }

    private func once(_ transport: BenchTransport, nodes count: Int, window: Double) throws -> Sample {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let addresses = (0..<count).map { "172.31.18.\(10 + $0)" }
        let nodes = try addresses.enumerated().map { try lab.addNode("n\($0.offset + 1)", address: "\($0.element)/16") }
        func config(_ n: Int) -> String {
            transport.configuration(n, addresses: addresses,
                                    instance: LabInstance(priority: n == 0 ? 200 : 100, version: 3, advertInt: "\(Self.interval)"))
        }
        let master = try transport.start(lab, nodes[0], config: config(0))
        guard waitUntil(timeout: 30, interval: 0.05, { lab.holds(nodes[0], "192.168.20.11") }) else {
            throw ChildProcessError("adverts \(transport.name): n1 never held the VIP\n\(lab.log(nodes[0], keepalived: transport.keepalived))")
        }
        for n in 1..<count { _ = try transport.start(lab, nodes[n], config: config(n)) }
        for n in 1..<count { try transport.waitForBackup(lab, nodes[n]) }
        // Settled: every backup has heard the MASTER (and learnt its MAC) for a second.
        usleep(1_500_000)
        var captures: [ChildProcess] = []
        for (n, node) in nodes.enumerated() {
            captures.append(try lab.startCapture(node, file: "vrrp\(n).pcap", filter: "ip proto 112", interface: transport.vrrpInterface,
                                                 outgoingOnly: n == 0))
        }
        if transport.kind == "gre" {
            captures.append(try lab.startCapture(nodes[0], file: "wire.pcap", filter: "ip proto 47", interface: "eth0", outgoingOnly: true))
        }
        // One window for every count: the captures start one after another (each takes up
        // to a second under emulation) and run until all are stopped, so each covers a
        // different span. Only frames inside the CPU window are counted (pcap times and
        // Date share the wall clock); counting whole captures made the GRE path look
        // duplicated (more deliveries than advertisements) and its wire frames halved.
        let windowStart = Date().timeIntervalSince1970
        let cpu = CPUMeter(ProcessTree(root: master.pid)).measure(for: window)
        let windowEnd = Date().timeIntervalSince1970
        for capture in captures { capture.stop(signal: SIGINT, timeout: 5) }
        func inWindow(_ frame: CaptureFile.Frame) -> Bool { frame.time >= windowStart && frame.time < windowEnd }
        guard lab.holders("192.168.20.11", among: Array(nodes.dropFirst())).isEmpty else {
            throw ChildProcessError("adverts \(transport.name): a backup took the VIP during the window")
        }

        let master4 = try IPv4Address(transport.vrrpSource(0, addresses: addresses)).orThrow("address")
        let underlay = try IPv4Address(addresses[0]).orThrow("address")
        func fromMaster(_ frame: CaptureFile.Frame) -> Bool { Self.sourceAddress(frame) == master4 }
        let sent = try CaptureFile.read(lab.path("vrrp0.pcap")).filter { fromMaster($0) && inWindow($0) }.sorted { $0.time < $1.time }
        let bursts = Self.bursts(sent.map(\.time), gap: Self.interval / 2)
        // Whole advertisements only: the first and last bursts may be cut by the window.
        guard bursts.count >= 3 else { throw ChildProcessError("adverts \(transport.name): only \(bursts.count) advertisements captured") }
        let inner = Array(bursts.dropFirst().dropLast())
        var sample = Sample()
        sample.cpuPerAdvert = [cpu * 1e6 / Double(bursts.count)]
        var last = [Double](repeating: 0, count: inner.count)
        var seen = [Int](repeating: 0, count: inner.count)
        for n in 1..<count {
            let received = try CaptureFile.read(lab.path("vrrp\(n).pcap")).filter(fromMaster)
            for frame in received {
                guard let index = Self.burst(containing: frame.time, in: inner, within: Self.interval / 2) else { continue }
                let latency = (frame.time - inner[index]) * 1000
                sample.latency.append(latency)
                last[index] = max(last[index], latency)
                seen[index] += 1
            }
        }
        sample.lastPeer = zip(last, seen).filter { $0.1 == count - 1 }.map(\.0)
        let wire = transport.kind == "gre"
            ? try CaptureFile.read(lab.path("wire.pcap")).filter { Self.sourceAddress($0) == underlay && inWindow($0) }
            : sent
        // Per advertisement: what left eth0 from the first whole advertisement to the end
        // of the last, divided by their number (robust to the two captures' skew in GRE).
        if let first = inner.first, let last = inner.last {
            let frames = wire.filter { $0.time >= first - 0.001 && $0.time < last + Self.interval / 2 }
            sample.frames.append(Double(frames.count) / Double(inner.count))
            sample.bytes.append(Double(frames.reduce(0) { $0 + $1.wireLength }) / Double(inner.count))
        }
        return sample
    }

    /// Start times of bursts: frames closer than `gap` to the previous one belong to it.
    static func bursts(_ times: [Double], gap: Double) -> [Double] {
        var starts: [Double] = []
        var previous = -Double.infinity
        for time in times {
            if time - previous > gap { starts.append(time) }
            previous = time
        }
        return starts
    }

    /// The burst that started at most `within` seconds before `time`.
    static func burst(containing time: Double, in starts: [Double], within: Double) -> Int? {
        guard let index = starts.lastIndex(where: { $0 <= time + 0.000_001 }), time - starts[index] < within else { return nil }
        return index
    }

    /// The IPv4 source of an Ethernet frame (untagged), or nil.
    static func sourceAddress(_ frame: CaptureFile.Frame) -> IPv4Address? {
        let b = frame.bytes
        guard frame.linkType == 1, b.count >= 34, b[12] == 0x08, b[13] == 0x00 else { return nil }
        return IPv4Address(b[26], b[27], b[28], b[29])
    }
}

extension AdvertPathBenchmark.Sample {
    mutating func append(_ other: Self) {
        latency += other.latency
        lastPeer += other.lastPeer
        cpuPerAdvert += other.cpuPerAdvert
        frames += other.frames
        bytes += other.bytes
    }
}
