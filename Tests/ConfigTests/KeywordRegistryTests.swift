import Foundation
import Testing
@testable import Config

/// The registry gives every keepalived keyword a fate, and docs/keywords.md is the registry.
@Suite struct KeywordRegistryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test(arguments: [("2.2.7", KeepalivedKeywordList.v2_2_7), ("2.3.4", KeepalivedKeywordList.v2_3_4)])
    func everyKeepalivedKeywordHasAFate(version: String, keywords: [String]) {
        #expect(keywords.count > 300)
        #expect(KeywordRegistry.missing(from: keywords) == [], "keepalived \(version) keywords with no fate")
    }

    /// The Swift lists are the shared files (scripts/keepalived-keywords.sh); where the
    /// files are not beside the checkout, the lists in the repository stand.
    @Test func theListsAreKeepalivedsFiles() throws {
        let candidates = ["\(Self.root)/../shared/keepalived", "/work/shared/keepalived"]
        guard let directory = candidates.first(where: { FileManager.default.fileExists(atPath: "\($0)/keywords-2.2.7.txt") }) else {
            print("skipped: keepalived's keyword files are not beside this checkout (\(candidates.joined(separator: ", ")))")
            return
        }
        for (version, list) in [("2.2.7", KeepalivedKeywordList.v2_2_7), ("2.3.4", KeepalivedKeywordList.v2_3_4)] {
            let text = try String(contentsOfFile: "\(directory)/keywords-\(version).txt", encoding: .utf8)
            #expect(text.split(whereSeparator: \.isNewline).map(String.init) == list, "run scripts/keepalived-keywords.sh")
        }
    }

    @Test func theDocumentedTableIsTheRegistry() throws {
        let documented = try String(contentsOfFile: "\(Self.root)/docs/keywords.md", encoding: .utf8)
        #expect(documented == KeywordTable.markdown(), "regenerate: overcast keywords --markdown > docs/keywords.md")
    }

    @Test func noKeywordHasTwoFatesInOneBlock() {
        var seen: [String: KeywordFate] = [:]
        for entry in KeywordRegistry.entries {
            let key = "\(entry.block)/\(entry.keyword)"
            #expect(seen[key] == nil, "\(key) is registered twice")
            seen[key] = entry.fate
        }
    }
}
