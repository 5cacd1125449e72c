import Foundation
import Testing
@testable import OvercastDaemon
#if canImport(Glibc)
import Glibc
#endif

@Suite struct StartupPagesTests {
    /// The mappings of a statically linked daemon as the kernel shows them (abridged).
    static let smaps = """
        55d0a2a00000-55d0a4100000 r-xp 00000000 fd:01 1201 /usr/sbin/overcast
        Size:              23552 kB
        Rss:               13424 kB
        Anonymous:             0 kB
        VmFlags: rd ex mr mw me
        55d0a4100000-55d0a41a6000 r--p 01700000 fd:01 1201 /usr/sbin/overcast
        Rss:                 664 kB
        Anonymous:           664 kB
        55d0a41a6000-55d0a6700000 rw-p 017a6000 fd:01 1201 /usr/sbin/overcast
        Rss:                1828 kB
        Anonymous:          1828 kB
        55d0a6700000-55d0a6800000 rw-p 00000000 00:00 0 
        Rss:                 840 kB
        Anonymous:           840 kB
        7f1c00000000-7f1c00180000 r--p 00000000 fd:01 88 /usr/lib/x86_64-linux-gnu/libcrypto.so.3
        Rss:                1244 kB
        Anonymous:             0 kB
        7f1c00200000-7f1c00300000 r-xp 00000000 fd:01 89 /usr/lib/x86_64-linux-gnu/libnl-3.so.200 (deleted)
        Rss:                  96 kB
        Anonymous:             0 kB
        7f1c00300000-7f1c00301000 r--p 00000000 fd:01 90 /usr/lib/x86_64-linux-gnu/libnoanonline.so
        Rss:                   4 kB
        7f1c00400000-7f1c00500000 r--s 00000000 00:05 91 /dev/shm/shared
        Rss:                  16 kB
        Anonymous:             0 kB
        7ffd1a1f0000-7ffd1a1f2000 r-xp 00000000 00:00 0 [vdso]
        Rss:                   8 kB
        Anonymous:             0 kB
        7f1c00600000-7f1c00700000 r--p 00000000 fd:01 92 /usr/lib/locale/C.utf8/LC_CTYPE
        Rss:                   0 kB
        Anonymous:             0 kB
        """

    @Test func onlyCleanReadOnlyPrivateFileMappingsAreReleased() {
        let all = StartupPages.mappings(smaps: Self.smaps)
        #expect(all.count == 10)
        #expect(all.first == .init(start: 0x55d0_a2a0_0000, end: 0x55d0_a410_0000, permissions: "r-xp",
                                   path: "/usr/sbin/overcast", residentKiB: 13_424, anonymousKiB: 0))
        let released = all.filter(\.isReleasable).map(\.path)
        // Text of the executable and of the libraries, also of a replaced file.
        #expect(released == ["/usr/sbin/overcast", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
                             "/usr/lib/x86_64-linux-gnu/libnl-3.so.200 (deleted)"])
        // Kept: relocated RELRO data (read-only but copied), writable data, the heap, a
        // mapping whose Anonymous line is missing, a shared mapping, the vDSO, nothing resident.
        let relro = all[1]
        #expect(relro.permissions == "r--p" && relro.anonymousKiB == 664 && !relro.isReleasable)
        #expect(!all[6].isReleasable && all[6].anonymousKiB == Int.max)
    }

    @Test func malformedLinesAreSkippedNotFatal() {
        let text = "garbage\n-\nzz-yy r-xp 0 0 0 /x\nRss: lots kB\n" + Self.smaps.split(separator: "\n").prefix(4).joined(separator: "\n")
        let all = StartupPages.mappings(smaps: text)
        #expect(all.count == 1)
        #expect(all.first?.isReleasable == true)
    }

    /// The real thing in this process: a read-only file mapping loses its resident
    /// pages and still reads the same bytes; a private copy that was written keeps them.
    @Test func releasedPagesComeBackIntactAndWrittenPagesStay() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("startup-pages-\(getpid()).bin").path
        let size = 1 << 20
        let pattern = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }
        try Data(pattern).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        let fd = open(path, O_RDONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let clean = try #require(mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0).flatMap { $0 == MAP_FAILED ? nil : $0 })
        defer { munmap(clean, size) }
        let copied = try #require(mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0).flatMap { $0 == MAP_FAILED ? nil : $0 })
        defer { munmap(copied, size) }
        func sum(_ base: UnsafeMutableRawPointer) -> Int {
            (0..<size).reduce(0) { $0 &+ Int(base.load(fromByteOffset: $1, as: UInt8.self)) }
        }
        let expected = pattern.reduce(0) { $0 &+ Int($1) }
        #expect(sum(clean) == expected)
        for offset in stride(from: 0, to: size, by: 4096) { copied.storeBytes(of: 0xAB, toByteOffset: offset, as: UInt8.self) }
        func resident(_ base: UnsafeMutableRawPointer) throws -> StartupPages.Mapping {
            let text = try #require(StartupPages.readProcFile("/proc/self/smaps"))
            return try #require(StartupPages.mappings(smaps: text).first { $0.start == UInt(bitPattern: base) })
        }
        #expect(try resident(clean).residentKiB == size / 1024)
        #expect(try resident(copied).anonymousKiB == size / 1024)

        let outcome = StartupPages.release()
        #expect(outcome.failures == 0)
        #expect(outcome.residentKiBBefore >= size / 1024)
        #expect(try resident(clean).residentKiB == 0)
        #expect(try resident(copied).residentKiB == size / 1024)
        // Back by page faults, unchanged; the written copy kept what was written.
        #expect(sum(clean) == expected)
        for offset in stride(from: 0, to: size, by: 4096) {
            #expect(copied.load(fromByteOffset: offset, as: UInt8.self) == 0xAB)
        }
    }
}

extension StartupPagesTests {
    /// All of /proc/self/smaps is read (it is produced as it is read; a reader that
    /// trusts its size of 0 stops after the first chunk).
    @Test func theWholeMapOfThisProcessIsRead() throws {
        let text = try #require(StartupPages.readProcFile("/proc/self/smaps"))
        let all = StartupPages.mappings(smaps: text)
        #expect(all.count > 100, "\(all.count) mappings")
        #expect(all.contains { $0.path.contains("/libc.so") && $0.permissions == "r-xp" && $0.isReleasable })
        #expect(all.contains { $0.path == "[stack]" && !$0.isReleasable })
    }
}
