import Foundation
import Lab
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// systemd's watchdog, with the test as systemd: a datagram socket as NOTIFY_SOCKET. The
/// daemon sends WATCHDOG=1 while its VRRP loop answers, withholds it while the loop hangs
/// (the test's stall file), and sends it again once the loop is back.
@Suite struct WatchdogDaemonTests {
    /// A bound AF_UNIX datagram socket, read without blocking.
    final class NotifySocket {
        let fd: Int32
        init(path: String) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard fd >= 0, bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw CocoaError(.fileWriteUnknown) }
            withUnsafeMutableBytes(of: &address.sun_path) { for (i, b) in bytes.enumerated() { $0[i] = b } }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw CocoaError(.fileWriteUnknown) }
        }
        deinit { close(fd) }

        /// Every message waiting now.
        func drain() -> [String] {
            var messages: [String] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard n > 0 else { return messages }
                messages.append(String(decoding: buffer.prefix(n), as: UTF8.self))
            }
        }
    }

    @Test(.enabled(if: Prerequisites.available(commands: ["ip"], test: "systemd watchdog")))
    func watchdogPingsStopWhileAVRRPLoopHangs() throws {
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let n1 = try lab.addNode("n1", address: "10.9.0.10/24")
        let socketPath = lab.path("notify.sock")
        let notify = try NotifySocket(path: socketPath)
        let stall = lab.path("stall")
        _ = try lab.startOvercast(n1, config: LabInstance(priority: 150, advertInt: "0.2").text, environment: [
            "NOTIFY_SOCKET=\(socketPath)", "WATCHDOG_USEC=300000", "OVERCAST_TEST_STALL_FILE=\(stall)",
        ], logLevel: "info")
        var seen: [String] = []
        #expect(waitUntil(timeout: 10) {
            seen += notify.drain()
            return seen.contains { $0.hasPrefix("READY=1") } && seen.filter { $0 == "WATCHDOG=1" }.count >= 3
        }, "\(seen) \(lab.log(n1))")

        // The loop hangs at its next ping: within a few rounds (0.1 s each) the pings stop.
        #expect(FileManager.default.createFile(atPath: stall, contents: Data()))
        Thread.sleep(forTimeInterval: 0.8)
        _ = notify.drain()
        Thread.sleep(forTimeInterval: 1.0)
        #expect(!notify.drain().contains("WATCHDOG=1"), "no WATCHDOG=1 while the loop hangs")
        #expect(lab.log(n1).contains("VRRP loop not answering"), "\(lab.log(n1))")

        try FileManager.default.removeItem(atPath: stall)
        var after: [String] = []
        #expect(waitUntil(timeout: 5) { after += notify.drain(); return after.contains("WATCHDOG=1") })
        #expect(waitUntil(timeout: 3) { lab.log(n1).contains("every VRRP loop answers again") })
    }
}
