/// What the kernel must offer: IPVS for virtual servers, ip_gre for the overlay, and the
/// sysctls keepalived users are told about (forwarding for NAT, reverse-path filtering
/// for DR).
extension Checkup {
    mutating func checkKernel() {
        if config.usesIPVS { checkModule("ip_vs", for: "virtual_server (IPVS)") }
        if config.usesGRE { checkModule("ip_gre", for: "the GRE overlay (gretap)") }
        let forwarding = config.services.reduce(into: Set<String>()) { $0.formUnion($1.forwarding) }
        if forwarding.contains("NAT"), let value = host.integer("net.ipv4.ip_forward") {
            if value == 1 {
                add(.pass("sysctl", "net.ipv4.ip_forward = 1 (lb_kind NAT forwards the real servers' replies)"))
            } else {
                add(.fail("sysctl", "net.ipv4.ip_forward = \(value): lb_kind NAT needs this node to forward the real servers' replies",
                          fix: "sysctl -w net.ipv4.ip_forward=1"))
            }
        }
        if forwarding.contains("DR") { checkReversePath() }
    }

    private mutating func checkModule(_ module: String, for use: String) {
        switch host.state(of: module) {
        case .loaded: add(.pass("kernel", "\(module) is loaded (\(use))"))
        case .builtin: add(.pass("kernel", "\(module) is built into the kernel (\(use))"))
        case .loadable: add(.pass("kernel", "\(module) is not loaded but loadable; the kernel loads it on first use (\(use))"))
        case .absent:
            let kernel = host.kernelRelease.map { "kernel \($0)" } ?? "this kernel"
            add(.fail("kernel", "\(module) is neither loaded nor among the modules of \(kernel): \(use) cannot work",
                      fix: "modprobe \(module)"))
        }
    }

    /// With DR the VIP's packets arrive on an interface whose route back to the client
    /// may be another one (several ENIs, a route through the VIP's interface): strict
    /// reverse-path filtering (1) drops them. The kernel uses the larger of `all` and the
    /// interface's value.
    private mutating func checkReversePath() {
        var interfaces: [String] = []
        for instance in config.instances { for name in instance.vipInterfaces where !interfaces.contains(name) { interfaces.append(name) } }
        let all = host.integer("net.ipv4.conf.all.rp_filter")
        for interface in interfaces {
            let own = host.integer("net.ipv4.conf.\(interface).rp_filter")
            guard all != nil || own != nil else { continue }
            let effective = max(all ?? 0, own ?? 0)
            if effective == 1 {
                add(.warn("sysctl", "rp_filter is 1 (strict) on \(interface), which holds the VIP: with lb_kind DR, packets for the VIP "
                          + "that arrive where the route back does not point are dropped",
                          fix: "sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.\(interface).rp_filter=2"))
            } else {
                add(.pass("sysctl", "rp_filter is \(effective) on \(interface) (lb_kind DR)"))
            }
        }
    }
}
