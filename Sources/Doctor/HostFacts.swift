import Foundation

/// What the kernel of this host offers, read from /proc and /sys under `root` (so a test
/// can hand over a fake tree): modules loaded, built in or loadable, and the sysctls
/// that decide whether the VIP's traffic gets through.
public struct HostFacts: Sendable, Hashable {
    /// Modules loaded now (/proc/modules, /sys/module/NAME).
    public var loadedModules: Set<String> = []
    /// Modules compiled into the kernel (modules.builtin).
    public var builtinModules: Set<String> = []
    /// Modules that `modprobe` can load (modules.dep).
    public var loadableModules: Set<String> = []
    /// `uname -r`, from /proc/sys/kernel/osrelease.
    public var kernelRelease: String?
    /// Dotted sysctl names ("net.ipv4.conf.eth0.rp_filter") to their values, for the ones asked.
    public var sysctls: [String: String] = [:]
    /// Interface name to MAC (lowercase), from /sys/class/net/NAME/address.
    public var macAddresses: [String: String] = [:]

    public init() {}

    public enum ModuleState: Sendable, Hashable { case loaded, builtin, loadable, absent }

    public func state(of module: String) -> ModuleState {
        if loadedModules.contains(module) { return .loaded }
        if builtinModules.contains(module) { return .builtin }
        if loadableModules.contains(module) { return .loadable }
        return .absent
    }

    public func integer(_ sysctl: String) -> Int? { sysctls[sysctl].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
}

/// Reads `HostFacts` from a filesystem tree. Missing files are facts too (an absent
/// module), never errors: a container without /lib/modules still gets a report.
public struct HostReader: Sendable {
    public var root: String

    public init(root: String = "/") {
        self.root = root.hasSuffix("/") ? String(root.dropLast()) : root
    }

    private func read(_ path: String) -> String? { try? String(contentsOfFile: root + path, encoding: .utf8) }

    /// The facts about `modules`, `sysctls` (dotted names) and the MACs of `interfaces`.
    public func read(modules: [String], sysctls: [String], interfaces: [String]) -> HostFacts {
        var facts = HostFacts()
        let wanted = Set(modules)
        let loaded = (read("/proc/modules") ?? "").split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
        facts.loadedModules = Set(loaded).intersection(wanted)
        for module in wanted where FileManager.default.fileExists(atPath: root + "/sys/module/\(module)") {
            // /sys/module/NAME exists for built-in modules with parameters too; "initstate"
            // is there only for a loaded loadable module.
            if FileManager.default.fileExists(atPath: root + "/sys/module/\(module)/initstate") { facts.loadedModules.insert(module) }
            else { facts.builtinModules.insert(module) }
        }
        facts.kernelRelease = read("/proc/sys/kernel/osrelease")?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let release = facts.kernelRelease {
            let directory = "/lib/modules/\(release)/"
            facts.builtinModules.formUnion(Self.moduleNames(read(directory + "modules.builtin") ?? "").intersection(wanted))
            facts.loadableModules = Self.moduleNames(read(directory + "modules.dep") ?? "").intersection(wanted)
        }
        for name in sysctls {
            if let value = read("/proc/sys/" + Self.sysctlPath(name)) {
                facts.sysctls[name] = value.trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
        for interface in interfaces {
            if let mac = read("/sys/class/net/\(interface)/address") {
                facts.macAddresses[interface] = mac.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            }
        }
        return facts
    }

    /// `net.ipv4.conf.eth0.100.rp_filter` -> `net/ipv4/conf/eth0.100/rp_filter`: the dots
    /// of an interface name (a VLAN) stay, as sysctl(8) writes them with slashes instead.
    static func sysctlPath(_ name: String) -> String {
        let parts = name.split(separator: ".").map(String.init)
        if parts.count > 5, parts[0] == "net", parts[2] == "conf" {
            return (parts[0..<3] + [parts[3..<(parts.count - 1)].joined(separator: "."), parts[parts.count - 1]]).joined(separator: "/")
        }
        return parts.joined(separator: "/")
    }

    /// Module names in modules.dep or modules.builtin: each line starts with a path such
    /// as `kernel/net/netfilter/ipvs/ip_vs.ko.zst:`; the name is the file's up to `.ko`.
    /// (modprobe treats `-` and `_` alike; the kernel's names use `_`.)
    static func moduleNames(_ text: String) -> Set<String> {
        var names: Set<String> = []
        for line in text.split(separator: "\n") {
            let path = line.split(separator: ":", maxSplits: 1).first ?? line
            guard let file = path.split(separator: "/").last, let range = file.range(of: ".ko") else { continue }
            names.insert(file[..<range.lowerBound].replacingOccurrences(of: "-", with: "_"))
        }
        return names
    }
}
