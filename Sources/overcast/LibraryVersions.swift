import ArgumentParser
import HTTPClient
import LinuxNet
import OvercommitExecutor
import PacketCapture

/// `overcast libraries`: the C libraries this build links, as they report themselves, and
/// where Swift's tasks run (see OvercommitExecutor): at first, after `Task.yield` and
/// after `Task.sleep`, the three ways a job reaches the default executor.
struct LibraryVersions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "libraries",
        abstract: "Print the versions of libnl, libcurl and libpcap in use, and the queue and thread tasks run on.")

    func run() async throws {
        print("libnl \(NetlinkSocket.libraryVersion)")
        print(Curl.version)
        print(PacketCaptureLibrary.version)
        // A nonisolated async function runs on the default executor: this is its queue.
        print("tasks: \(OvercommitExecutor.placement)")
        await Task.yield()
        print("after yield: \(OvercommitExecutor.placement)")
        try await Task.sleep(for: .milliseconds(1))
        print("after sleep: \(OvercommitExecutor.placement)")
    }
}
