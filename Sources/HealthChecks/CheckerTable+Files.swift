/// FILE_CHECK in the checker table: a tracked file's number is told, and the real servers
/// that check it go up, down or change weight at once (keepalived clears alpha for file
/// checks: their state is known the moment the file is read).
extension CheckerTable {
    /// The file `name` now reads `value`: the real servers that went up or down, and
    /// whether any server's weight changed.
    public mutating func recordFile(_ name: String, value: Int) -> (changes: [ServerChange], weightChanged: Bool) {
        let affected = Set(fileChecks.filter { $0.file == name }.map(\.server))
        guard !affected.isEmpty else {
            fileValues[name] = value
            return ([], false)
        }
        let before = affected.map { ($0, isAlive(server: $0), fileOffsets(server: $0)) }
        fileValues[name] = value
        var changes: [ServerChange] = []
        var weightChanged = false
        for (server, wasAlive, offsets) in before.sorted(by: { $0.0 < $1.0 }) {
            if fileOffsets(server: server) != offsets { weightChanged = true }
            let alive = isAlive(server: server)
            guard alive != wasAlive else { continue }
            let check = serverFileChecks[server].map { fileChecks[$0] }.first { $0.file == name }
            let reason = check.map { alive ? "tracked file \($0.file) reads \(value)" : Self.fileFailure($0, value: value) }
            changes.append(ServerChange(server: servers[server], isUp: alive, reason: reason ?? "tracked file \(name)",
                                        notify: alive ? check?.notifyUp : check?.notifyDown))
        }
        return (changes, weightChanged)
    }

    /// The file names the table's FILE_CHECKs read.
    public var checkedFiles: Set<String> { Set(fileChecks.map(\.file)) }

    /// The sum of a server's FILE_CHECK weights (0 for a check that is down).
    func fileOffsets(server: Int) -> Int {
        serverFileChecks[server].reduce(0) { sum, n in
            guard case .weight(let w) = fileChecks[n].effect(of: fileValues[fileChecks[n].file] ?? 0) else { return sum }
            let (next, overflow) = sum.addingReportingOverflow(w)
            return overflow ? sum : next
        }
    }

    func fileDown(server: Int) -> Bool {
        serverFileChecks[server].contains { fileChecks[$0].effect(of: fileValues[fileChecks[$0].file] ?? 0) == .down }
    }

    static func fileFailure(_ check: FileCheck, value: Int) -> String {
        "tracked file \(check.file) reads \(value)"
    }
}
