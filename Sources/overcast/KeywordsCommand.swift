import ArgumentParser
import Config

/// `overcast keywords [--markdown] [NAME...]`: what Overcast does with each keepalived
/// keyword (docs/keywords.md is its `--markdown` output).
struct Keywords: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what Overcast does with keepalived's keywords: implemented, or ignored with a warning and why.")

    @Flag(help: "Print the whole registry as the Markdown table of docs/keywords.md.")
    var markdown = false

    @Argument(help: "Keywords to look up (default: all).")
    var names: [String] = []

    func run() throws {
        if markdown {
            print(KeywordTable.markdown(), terminator: "")
            return
        }
        let entries = names.isEmpty ? KeywordRegistry.entries : names.flatMap { KeywordRegistry.fates(of: $0) }
        for name in names where KeywordRegistry.fates(of: name).isEmpty {
            print("\(name): unknown to Overcast and to keepalived 2.2.7 and 2.3.4")
        }
        for entry in entries {
            switch entry.fate {
            case .implemented(let note): print("\(entry.keyword) in \(entry.block): implemented" + (note.map { " (\($0))" } ?? ""))
            case .ignored(let note): print("\(entry.keyword) in \(entry.block): ignored with a warning (\(note))")
            case .ignoredWithBlock(let block): print("\(entry.keyword) in \(entry.block): ignored with \(block)")
            }
        }
        if !names.isEmpty && entries.isEmpty { throw ExitCode(1) }
    }
}
