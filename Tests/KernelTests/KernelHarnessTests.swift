import Foundation
import Testing
import Lab
import LinuxNet

/// Kernel tier: runs inside the VM that scripts/kernel-tier.sh boots with Debian's stock
/// kernel (this machine's kernel has no GRE and no IPVS). Outside the VM these tests are
/// not run at all: scripts/test.sh skips them in the first two tiers and runs them in
/// the third.
enum KernelTier {
    static var inside: Bool { ProcessInfo.processInfo.environment["OVERCAST_KERNEL_TIER"] == "1" }
}

@Suite(.serialized, .enabled(if: KernelTier.inside, "runs only inside the kernel-tier VM (scripts/kernel-tier.sh)"))
struct KernelHarnessTests {
    @Test func runsOnAStockDebianKernel() throws {
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        print("kernel tier: running on kernel \(release)")
        #expect(release.hasSuffix("-amd64"), "expected a Debian kernel, got \(release)")
    }

    @Test func ipvsAndGREModulesAreLoaded() throws {
        let modules = try String(contentsOfFile: "/proc/modules", encoding: .utf8)
            .split(whereSeparator: \.isNewline).compactMap { $0.split(separator: " ").first.map(String.init) }
        print("kernel tier: modules \(modules.filter { $0.hasPrefix("ip_vs") || $0.contains("gre") }.sorted())")
        #expect(modules.contains("ip_vs"))
        #expect(modules.contains("ip_gre"))
    }

    /// The IPVS generic netlink family is what the IPVS target will program; here it
    /// must resolve through the project's own libnl wrapper.
    @Test func ipvsGenericNetlinkFamilyResolvesThroughLibnl() throws {
        let socket = try NetlinkSocket(.generic)
        let id = try socket.genericFamilyID("IPVS", module: "ip_vs")
        #expect(id > 16)
    }

    /// A gretap port (what `overcast overlay` builds) can be made in a namespace and is
    /// seen through the project's libnl link listing.
    @Test func gretapLinksExistInThisKernel() throws {
        let lab = try NetworkLab(dropsMulticast: true)
        defer { lab.teardown() }
        let node = try lab.addNode("n1", address: "10.99.0.1/24")
        try lab.exec(node, ["ip", "link", "add", "gt0", "type", "gretap", "local", "10.99.0.1", "remote", "10.99.0.2"])
        let details = try lab.exec(node, ["ip", "-d", "link", "show", "gt0"])
        #expect(details.contains("gretap"))
    }
}
