import Foundation
import Testing
import Lab

/// Namespace tier: `track_file` and FILE_CHECK in running daemons. Another program writes
/// a number into a file; the MASTER's priority moves with it (and the VIP with that), a
/// weight-0 file puts the instance in FAULT, and a FILE_CHECK takes its real server down
/// or changes its weight, each as soon as the file is written.
@Suite struct TrackFileDaemonTests {
    static let vip = "192.168.20.11"

    /// Writes `text` as a program would: a new file renamed over the old one (inotify's
    /// moved-to) or, with `inPlace`, the file truncated and written (close-write).
    static func write(_ text: String, to path: String, inPlace: Bool = false) throws {
        if inPlace {
            try text.write(toFile: path, atomically: false, encoding: .utf8)
        } else {
            try text.write(toFile: path + ".new", atomically: false, encoding: .utf8)
            guard rename(path + ".new", path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "track_file")))
    func aTrackedFilesNumberMovesTheVIPAndAWeightZeroFileIsAFault() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "172.31.18.10/16")
        let n2 = try lab.addNode("n2", address: "172.31.18.11/16")
        let load = lab.path("load")
        let gate = lab.path("gate")
        let files = """
            track_file load {
              file \(load)
              weight -10
              init_file 0
            }
            track_file gate {
              file \(gate)
              weight 0
            }

            """
        let tracked = files + LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"],
                                          extra: ["track_file {", "  load", "  gate", "}"]).text
        _ = try lab.startOvercast(n1, config: tracked)
        _ = try lab.startOvercast(n2, config: LabInstance(priority: 100, version: 3, advertInt: "0.2", source: "172.31.18.11",
                                                          peers: ["172.31.18.10"]).text)
        #expect(waitUntil(timeout: 10) { lab.state(n1) == "MASTER" && lab.state(n2) == "BACKUP" }, "\(lab.log(n1))")
        // init_file wrote the missing file.
        #expect((try? String(contentsOfFile: load, encoding: .utf8)) == "0\n")

        // 6 × -10: 150 - 60 = 90 < 100, and n2 preempts.
        try Self.write("6\n", to: load)
        #expect(waitUntil(timeout: 5) { lab.instance(n1)?["effectivePriority"] as? Int == 90 }, "\(lab.log(n1))")
        #expect(waitUntil(timeout: 5) { lab.state(n2) == "MASTER" && lab.holders(Self.vip, among: [n1, n2]) == ["n2"] })
        // Written in place, in hex: 1 × -10, n1 is back above n2.
        try Self.write("0x1", to: load, inPlace: true)
        #expect(waitUntil(timeout: 5) { lab.instance(n1)?["effectivePriority"] as? Int == 140 })
        #expect(waitUntil(timeout: 5) { lab.state(n1) == "MASTER" && lab.holders(Self.vip, among: [n1, n2]) == ["n1"] })
        // A number beyond 32 bits changes nothing and is said.
        try Self.write("99999999999", to: load)
        #expect(waitUntil(timeout: 5) { lab.log(n1).contains("is not a 32-bit number; the last value stays") })
        #expect(lab.instance(n1)?["effectivePriority"] as? Int == 140)

        // The weight-0 file: any number but 0 is a FAULT; removing the file reads 0.
        try Self.write("1", to: gate)
        #expect(waitUntil(timeout: 5) { lab.state(n1) == "FAULT" && lab.state(n2) == "MASTER" }, "\(lab.log(n1))")
        #expect(lab.instance(n1)?["faults"] as? [String] == ["tracked file gate in FAULT"])
        try FileManager.default.removeItem(atPath: gate)
        #expect(waitUntil(timeout: 8) { lab.state(n1) == "MASTER" && lab.holders(Self.vip, among: [n1, n2]) == ["n1"] })
    }

    @Test(.enabled(if: VPCLab.available(commands: ["ip"], test: "FILE_CHECK")))
    func aFileCheckTakesItsRealServerDownAndMovesItsWeight() throws {
        let lab = try VPCLab.network()
        defer { lab.teardown() }
        let lb = try lab.addNode("lb", address: "172.31.18.10/16")
        let drain = lab.path("drain")
        let extra = lab.path("extra")
        // `drain` starts at 1 (init_file): the server starts down and is never programmed up.
        let config = """
            track_file drain {
              file \(drain)
              weight 0
              init_file 1 overwrite
            }
            track_file extra {
              file \(extra)
              weight 5
            }
            virtual_server 192.168.20.11 80 {
              delay_loop 1
              lb_kind DR
              protocol TCP
              real_server 172.31.18.20 80 {
                weight 10
                FILE_CHECK {
                  track_file drain
                }
                FILE_CHECK {
                  track_file extra
                }
              }
            }

            """ + LabInstance(priority: 150, version: 3, advertInt: "0.2", source: "172.31.18.10", peers: ["172.31.18.11"]).text
        try Self.write("0\n", to: drain)
        _ = try lab.startOvercast(lb, config: config)
        func server() -> [String: Any]? { (lab.overcastStatus(lb)?["realServers"] as? [[String: Any]])?.first }
        #expect(waitUntil(timeout: 8) { server()?["up"] as? Bool == false }, "\(lab.log(lb))")
        #expect(server()?["lastFailure"] as? String == "tracked file drain reads 1")
        try Self.write("0\n", to: drain)
        #expect(waitUntil(timeout: 5) { server()?["up"] as? Bool == true })
        #expect(lab.log(lb).contains("real server up"))
        // 3 × 5 on top of the configured 10.
        try Self.write("3\n", to: extra)
        #expect(waitUntil(timeout: 5) { server()?["weight"] as? Int == 25 }, "\(String(describing: server()))")
        try Self.write("-2\n", to: extra)
        #expect(waitUntil(timeout: 5) { server()?["weight"] as? Int == 0 })
    }
}
