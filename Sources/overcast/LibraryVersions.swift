import ArgumentParser
import HTTPClient
import LinuxNet
import OvercommitExecutor
import PacketCapture

/// `overcast libraries`: the C libraries this build links, as they report themselves, and
/// the dispatch queue Swift's tasks run on (the overcommit queue, see OvercommitExecutor).
struct LibraryVersions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "libraries",
        abstract: "Print the versions of libnl, libcurl and libpcap in use, and the queue tasks run on.")

    func run() async throws {
        print("libnl \(NetlinkSocket.libraryVersion)")
        print(Curl.version)
        print(PacketCaptureLibrary.version)
        // A nonisolated async function runs on the global executor: this is its queue.
        print("tasks: \(OvercommitExecutor.currentQueueLabel)")
    }
}
