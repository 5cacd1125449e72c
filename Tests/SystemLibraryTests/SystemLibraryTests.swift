import Foundation
import NetworkTypes
import Testing
import HTTPClient
import LinuxNet
import PacketCapture
import Lab
import VRRP

/// The first real use of each C library through its Swift wrapper.
@Suite struct SystemLibraryTests {
    @Test func versionsAreReported() {
        #expect(NetlinkSocket.libraryVersion.hasPrefix("libnl 3."))
        #expect(Curl.version.hasPrefix("libcurl/"))
        #expect(PacketCaptureLibrary.version.hasPrefix("libpcap version"))
    }

    @Test func routeSocketConnectsAndListsLoopback() throws {
        let socket = try NetlinkSocket(.route)
        #expect(socket.localPort != 0)
        let links = try socket.links()
        let lo = try #require(links.first { $0.name == "lo" })
        #expect(lo.index == 1)
        #expect(lo.mtu == 65536)
    }

    @Test func genericNetlinkResolvesTheControllerAndNamesMissingFamilies() throws {
        let socket = try NetlinkSocket(.generic)
        #expect(try socket.genericFamilyID("nlctrl") == 16)  // GENL_ID_CTRL
        do {
            _ = try socket.genericFamilyID("NO_SUCH_FAMILY", module: "no_such_module")
            Issue.record("a family that does not exist resolved")
        } catch {
            #expect(error.description.contains("modprobe no_such_module"))
        }
    }

    @Test func bpfFilterSelectsOutgoingVRRPMulticastFrames() throws {
        let filter = try BPFFilter("ether dst 01:00:5e:00:00:12 and ip proto 112")
        #expect(filter.instructionCount > 0)
        // Ethernet to 01:00:5e:00:00:12, IPv4 proto 112, then a VRRP message.
        var frame: [UInt8] = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, 0x08, 0x00]
        let ip: [UInt8] = [0x45, 0xc0, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x00, 0x00,
                           172, 31, 18, 163, 224, 0, 0, 18]
        frame += ip + Array(repeating: 0, count: 20)
        #expect(filter.matches(frame))
        var tcp = frame
        tcp[14 + 9] = 6
        #expect(!filter.matches(tcp))
        #expect(throws: PcapError.self) { try BPFFilter("ether dst and and") }
    }

    /// The kernel runs the sibling-VRID filter: on loopback in a lab namespace, packets
    /// with a sibling's VRID never reach the socket, other VRIDs (ours, strangers) do.
    @Test(.enabled(if: Prerequisites.available(commands: ["ip"], test: "vrrpSocketDropsSiblingRouterIDsInTheKernel")))
    func vrrpSocketDropsSiblingRouterIDsInTheKernel() throws {
        try Prerequisites.require(commands: ["ip"])
        let lab = try NetworkLab()
        defer { lab.teardown() }
        let node = try lab.addNode("n1", address: "172.31.18.10/16")
        let received = try inNetworkNamespace(node.namespace) { () -> [UInt8] in
            let loopback = IPv4Address(127, 0, 0, 1)
            let filtered = try VRRPSocket(.init(interfaceName: "lo", interfaceIndex: 1, source: loopback, multicast: false,
                                                siblingRouterIDs: [52, 53, 200]))
            let sender = try VRRPSocket(.init(interfaceName: "lo", interfaceIndex: 1, source: loopback, multicast: false))
            for vrid: UInt8 in [51, 52, 53, 54, 200, 201] {
                try sender.send([0x21, vrid, 100, 1, 0, 1, 0, 0], to: loopback)
            }
            var ids: [UInt8] = []
            while let packet = try filtered.receive(timeoutMilliseconds: 200) {
                if packet.count > 21 { ids.append(packet[21]) }
            }
            return ids
        }
        #expect(received == [51, 54, 201])
    }

}

/// On a kernel without IPVS (this development machine's) resolving the family must
/// say which module is missing; on one with IPVS it must resolve.
@Suite struct IPVSAvailabilityTests {
    @Test func ipvsFamilyResolvesOrNamesTheModule() throws {
        let socket = try NetlinkSocket(.generic)
        let loaded = FileManager.default.fileExists(atPath: "/proc/net/ip_vs")
        do {
            let id = try socket.genericFamilyID("IPVS", module: "ip_vs")
            #expect(loaded, "IPVS resolved (\(id)) but /proc/net/ip_vs is absent")
        } catch {
            #expect(!loaded)
            #expect(error.description == "IPVS is not available in this kernel (modprobe ip_vs): Object not found (libnl error 12)")
        }
    }
}
