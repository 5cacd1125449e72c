import Foundation

/// Routing table names from iproute2's `rt_tables` files (`/etc/iproute2/rt_tables`,
/// its `rt_tables.d/*.conf`, and the distribution defaults under /usr), read as keepalived
/// reads them, so `table small` means what `ip route ... table small` means on this host.
enum RouteTableNames {
    static let directories = ["/usr/lib/iproute2", "/usr/share/iproute2", "/etc/iproute2"]

    /// The names of this host, read once; later files override earlier ones, as in iproute2.
    static let host: [String: UInt32] = {
        var names: [String: UInt32] = [:]
        for directory in directories {
            var files = [directory + "/rt_tables"]
            let drop = directory + "/rt_tables.d"
            let extra = (try? FileManager.default.contentsOfDirectory(atPath: drop)) ?? []
            files += extra.filter { $0.hasSuffix(".conf") }.sorted().map { drop + "/" + $0 }
            for file in files {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
                names.merge(parse(text)) { _, new in new }
            }
        }
        return names
    }()

    /// `NUMBER NAME` lines (decimal or 0x hex); `#` starts a comment; anything else is skipped.
    static func parse(_ text: String) -> [String: UInt32] {
        var names: [String: UInt32] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.prefix { $0 != "#" }.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard words.count >= 2 else { continue }
            let number = words[0].hasPrefix("0x") ? UInt32(words[0].dropFirst(2), radix: 16) : UInt32(words[0])
            if let number { names[String(words[1])] = number }
        }
        return names
    }
}
