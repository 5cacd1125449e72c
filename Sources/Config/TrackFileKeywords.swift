enum TrackFileKeywords {
    static let schema: Schema<TrackFile> = {
        var s = Schema<TrackFile>("track_file")
        s.value("file") { f, st, r in
            guard let path = r.string(st) else { return }
            if !f.path.isEmpty { r.error(st.location, "track_file \(f.name): file is already \(f.path)") }
            f.path = path
        }
        s.value("weight") { f, st, r in
            guard let args = r.arguments(st, 1...2) else { return }
            f.weight = r.int(args[0], -254...254, what: "weight") ?? f.weight
            if args.count == 2 {
                if args[1].text == "reverse" { f.reverse = true } else {
                    r.error(args[1].location, "weight: '\(args[1].text)' is not 'reverse'")
                }
            }
        }
        s.value("init_file") { f, st, r in
            guard let args = r.arguments(st, 0...2) else { return }
            f.initialValue = 0
            for word in args {
                if word.text == "overwrite" {
                    f.initialOverwrite = true
                } else if let value = r.int(word, -254...254, what: "init_file value") {
                    f.initialValue = value
                }
            }
        }
        return s
    }()

    /// A `track_file NAME { ... }` block at the top level.
    static func block(_ statement: Statement, _ reader: inout ValueReader) -> TrackFile? {
        guard let name = reader.string(statement) else { return nil }
        if statement.keyword.text == "vrrp_track_file" {
            reader.warning(statement.location, "vrrp_track_file is deprecated (keepalived too); read as track_file")
        }
        var file = TrackFile(name: name, location: statement.location)
        schema.apply(statement.block ?? [], to: &file, &reader)
        if file.path.isEmpty {
            reader.error(statement.location, "track_file \(name) has no 'file PATH'")
            return nil
        }
        return file
    }

    /// FILE_CHECK's block in a real_server: `track_file NAME` and `weight W [reverse]`,
    /// whose range is IPVS's weight (keepalived's IPVS_WEIGHT_LIMIT).
    static func fileCheck(_ statement: Statement, _ reader: inout ValueReader) -> TrackedFile? {
        _ = reader.arguments(statement, 0...0)
        var check = TrackedFile(name: "", location: statement.location)
        fileCheckSchema.apply(statement.block ?? [], to: &check, &reader)
        guard !check.name.isEmpty else {
            reader.error(statement.location, "FILE_CHECK has no 'track_file NAME'")
            return nil
        }
        return check
    }

    private static let fileCheckSchema: Schema<TrackedFile> = {
        var s = Schema<TrackedFile>("FILE_CHECK")
        s.value("track_file") { c, st, r in c.name = r.string(st) ?? c.name }
        s.value("weight") { c, st, r in
            guard let args = r.arguments(st, 1...2) else { return }
            c.weight = r.int(args[0], -Int(Int32.max)...Int(Int32.max), what: "weight")
            // keepalived: a weight written here comes without the block's `reverse`.
            c.reverse = args.count == 2 ? TrackKeywords.direction(args[1], &r) : false
        }
        return s
    }()
}
