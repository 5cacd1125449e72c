import Foundation
import Testing
@testable import OvercastDaemon
#if canImport(Glibc)
import Glibc
#endif

/// Written at run time before the release: must read the same after it.
nonisolated(unsafe) private var writtenBeforeRelease = [Int](repeating: 0, count: 4096)

@Suite struct StartupPagesTests {
    typealias Segment = StartupPages.Segment
    static let page: UInt = 4096

    @Test func onlyReadOnlyLoadableSegmentsShrunkToWholePagesAreReleased() {
        let segments = [
            // Headers and symbol tables, from offset 0: released whole.
            Segment(isLoadable: true, isWritable: false, address: 0x1000_0000, size: 0x5_0000),
            // Code, not page-aligned at either end: only the pages wholly inside.
            Segment(isLoadable: true, isWritable: false, address: 0x1005_0123, size: 0x2_0000),
            // Data with RELRO: never.
            Segment(isLoadable: true, isWritable: true, address: 0x1008_0000, size: 0x9_0000),
            // A read-only segment smaller than a page: nothing.
            Segment(isLoadable: true, isWritable: false, address: 0x1012_0010, size: 0x100),
            // Not loadable (PT_DYNAMIC, PT_GNU_RELRO, PT_NOTE): never.
            Segment(isLoadable: false, isWritable: false, address: 0x1008_0000, size: 0x1_0000),
            // An address range that would wrap: never (and no trap).
            Segment(isLoadable: true, isWritable: false, address: .max - 10, size: 0x1_0000),
        ]
        #expect(StartupPages.releasableRanges(segments, textRelocations: false, pageSize: Self.page)
                == [0x1000_0000..<0x1005_0000, 0x1005_1000..<0x1007_0000])
        // An object whose code the loader relocates keeps everything.
        #expect(StartupPages.releasableRanges(segments, textRelocations: true, pageSize: Self.page).isEmpty)
    }

    @Test func objectsWithoutDynamicSectionOrWithTextRelocationsAreRecognised() {
        #expect(StartupPages.hasTextRelocations(nil))
        // DT_FLAGS with DF_TEXTREL, then DT_NULL.
        let flagged: [Elf64_Dyn] = [Elf64_Dyn(d_tag: Int64(DT_FLAGS), d_un: .init(d_val: UInt64(DF_TEXTREL))),
                                    Elf64_Dyn(d_tag: Int64(DT_NULL), d_un: .init(d_val: 0))]
        let clean: [Elf64_Dyn] = [Elf64_Dyn(d_tag: Int64(DT_FLAGS), d_un: .init(d_val: UInt64(DF_BIND_NOW))),
                                  Elf64_Dyn(d_tag: Int64(DT_NULL), d_un: .init(d_val: 0))]
        let textrel: [Elf64_Dyn] = [Elf64_Dyn(d_tag: Int64(DT_TEXTREL), d_un: .init(d_val: 0)),
                                    Elf64_Dyn(d_tag: Int64(DT_NULL), d_un: .init(d_val: 0))]
        #expect(flagged.withUnsafeBytes { StartupPages.hasTextRelocations($0.baseAddress) })
        #expect(textrel.withUnsafeBytes { StartupPages.hasTextRelocations($0.baseAddress) })
        #expect(!clean.withUnsafeBytes { StartupPages.hasTextRelocations($0.baseAddress) })
    }

    /// The real thing in this process: the test binary's code loses resident pages, and
    /// everything written at run time (heap, writable data) reads the same afterwards.
    @Test func releasedCodeRunsOnAndWrittenDataStays() throws {
        for index in writtenBeforeRelease.indices { writtenBeforeRelease[index] = index &* 2_654_435_761 }
        let heap = (0..<100_000).map { $0 &* 31 }
        let executable = try #require(try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        let before = try Self.residentKiB(of: executable)

        let outcome = StartupPages.release()
        let after = try Self.residentKiB(of: executable)
        #expect(outcome.failures == 0)
        #expect(outcome.objects >= 2 && outcome.ranges >= 2, "\(outcome)")
        #expect(outcome.bytes > 1 << 20, "\(outcome)")
        #expect(after < before, "\(executable): \(before) KiB resident before, \(after) after")

        #expect(writtenBeforeRelease.indices.allSatisfy { writtenBeforeRelease[$0] == $0 &* 2_654_435_761 })
        #expect(heap.indices.allSatisfy { heap[$0] == $0 &* 31 })
        // Code in every library still runs (it comes back by page faults).
        #expect(String(format: "%05.1f", 3.14159) == "003.1")
        #expect(try JSONDecoder().decode([Int].self, from: Data("[1,2,3]".utf8)) == [1, 2, 3])
    }

    /// Resident KiB of the read-only (not writable) mappings of `path`, from smaps.
    static func residentKiB(of path: String) throws -> Int {
        let fd = open("/proc/self/smaps", O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while case let count = chunk.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }), count > 0 {
            bytes += chunk[..<count]
        }
        var total = 0, counting = false
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if let first = fields.first, first.contains("-"), fields.count >= 5, fields[1].count == 4 {
                counting = fields.count >= 6 && fields[5...].joined(separator: " ") == path && !fields[1].contains("w")
            } else if counting, fields.first == "Rss:", fields.count >= 2, let value = Int(fields[1]) {
                total += value
            }
        }
        return total
    }
}
