import ArgumentParser
import HTTPClient
import LinuxNet
import PacketCapture

/// `overcast libraries`: the C libraries this build links, as they report themselves.
struct LibraryVersions: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "libraries",
        abstract: "Print the versions of libnl, libcurl and libpcap in use.")

    func run() throws {
        print("libnl \(NetlinkSocket.libraryVersion)")
        print(Curl.version)
        print(PacketCaptureLibrary.version)
    }
}
