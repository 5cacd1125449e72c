import NetworkTypes
import Config

/// Authentication that does not match makes each node drop the other's advertisements,
/// and a node that hears no one becomes MASTER: every mismatch here is a split brain.
/// Passwords and keys are compared, never printed.
extension ClusterChecker {
    mutating func checkAuthentication(_ router: RouterContext) {
        // Another version is already an error, and v3 drops PASS: any difference here would be that one again.
        guard !router.differ(\.version) else { return }
        let typeLocations = router.entries.map { $0.at("authentication", "auth_type") }
        if router.differ(\.instance.authType) {
            findings.error(.authTypeDiffers, router.group,
                           "auth_type differs (\(router.each { $0.instance.authType?.rawValue ?? "none" })): each node drops the "
                           + "other's advertisements, so both become MASTER", at: typeLocations)
            return
        }
        switch router.entries.first?.instance.authType {
        case .password:
            guard router.differ({ $0.instance.authPass ?? "" }) else { return }
            let sides = partition(router.entries.map { ($0.file, $0.instance.authPass ?? "") })
            findings.error(.authPasswordDiffers, router.group,
                           "auth_pass differs \(sides) (passwords not shown): each drops the other's advertisements, so "
                           + "both become MASTER",
                           at: router.entries.map { $0.at("authentication", "auth_pass") })
        case .hmacSHA256:
            checkKeyFiles(router)
        case nil:
            return
        }
    }

    /// Keys can be compared only when each node's key file is readable here and is a file
    /// of its own: a path that every node names (`/etc/overcast/vi1.key`) is, on this
    /// machine, one file, and on each node a different one, so it proves nothing. Copy
    /// each node's key beside its configuration and name it relatively to compare them.
    private mutating func checkKeyFiles(_ router: RouterContext) {
        let locations = router.entries.map { $0.at("authentication", "auth_key_file") }
        let paths = router.entries.map { $0.instance.authKeyFile ?? "" }
        if Set(paths).count == 1, let path = paths.first {
            findings.warning(.authKeyUnverifiable, router.group,
                             "every node names auth_key_file \(path), which is each node's own file: the keys cannot be "
                             + "compared here (compare `sha256sum \(path)` on the nodes)", at: locations)
            return
        }
        var keys: [(entry: RouterEntry, key: SecretKey)] = []
        var unreadable: [(entry: RouterEntry, reason: String)] = []
        for entry in router.entries {
            switch entry.instance.authKeyFile.flatMap({ entry.node.authKeys[$0] }) {
            case .read(let key)?: keys.append((entry, key))
            case .unreadable(let reason)?: unreadable.append((entry, reason))
            case nil: unreadable.append((entry, "\(entry.instance.authKeyFile ?? "no auth_key_file"): not read"))
            }
        }
        if Set(keys.map(\.key)).count > 1 {
            let sides = partition(keys.map { ($0.entry.file, $0.key) })
            findings.error(.authKeyDiffers, router.group,
                           "the auth_key_file keys differ \(sides) (keys not shown): each drops the other's "
                           + "advertisements, so both become MASTER", at: keys.map { $0.entry.at("authentication", "auth_key_file") })
        }
        if !unreadable.isEmpty {
            let reasons = unreadable.map { "\($0.entry.file): \($0.reason)" }.joined(separator: "; ")
            findings.warning(.authKeyUnverifiable, router.group,
                             "the keys cannot all be compared (\(reasons))", at: locations)
        }
    }

    /// `between a.conf and b.conf`, or `between {a.conf, b.conf} and {c.conf}` when some
    /// agree: the files grouped by a value that is not shown.
    private func partition<Value: Hashable>(_ values: [(file: String, value: Value)]) -> String {
        var groups: [(value: Value, files: [String])] = []
        for (file, value) in values {
            if let index = groups.firstIndex(where: { $0.value == value }) {
                groups[index].files.append(file)
            } else {
                groups.append((value, [file]))
            }
        }
        if groups.allSatisfy({ $0.files.count == 1 }) {
            return "between " + groups.flatMap(\.files).joined(separator: " and ")
        }
        return "between " + groups.map { "{" + $0.files.joined(separator: ", ") + "}" }.joined(separator: " and ")
    }
}
