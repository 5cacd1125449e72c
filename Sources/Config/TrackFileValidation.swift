/// track_file blocks and the lines that name them: a block defined twice is an error
/// (keepalived would silently follow the first), and a line naming no block is warned
/// about and removed, as keepalived does ("track file NAME not found, ignoring").
extension Validator {
    mutating func validateTrackFiles() {
        var defined: [String: SourceLocation] = [:]
        for file in config.trackFiles {
            if let first = defined[file.name] {
                reader.error(file.location, "track_file \(file.name) is defined twice (first at \(first))")
            } else {
                defined[file.name] = file.location
            }
        }
        let known = Set(defined.keys)
        func keepKnown(_ lines: inout [TrackedFile], _ owner: String, _ reader: inout ValueReader) {
            for line in lines where !known.contains(line.name) {
                reader.warning(line.location, "\(owner): track_file \(line.name) is not defined by any track_file block; ignored")
            }
            lines.removeAll { !known.contains($0.name) }
            var seen: Set<String> = []
            for line in lines where !seen.insert(line.name).inserted {
                reader.warning(line.location, "\(owner): track_file \(line.name) is listed twice; the first line counts")
            }
            seen = []
            lines.removeAll { !seen.insert($0.name).inserted }
        }
        for i in config.instances.indices {
            keepKnown(&config.instances[i].trackFiles, "vrrp_instance \(config.instances[i].name)", &reader)
        }
        for g in config.syncGroups.indices {
            keepKnown(&config.syncGroups[g].trackFiles, "vrrp_sync_group \(config.syncGroups[g].name)", &reader)
        }
        for v in config.virtualServers.indices {
            for r in config.virtualServers[v].realServers.indices {
                let server = config.virtualServers[v].realServers[r]
                keepKnown(&config.virtualServers[v].realServers[r].fileChecks, "real_server \(server.address) FILE_CHECK", &reader)
            }
        }
    }
}
