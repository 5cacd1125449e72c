import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// Gives back the code pages that only start-up ran.
///
/// The daemon is one statically linked executable (Swift runtime, Foundation, ICU)
/// plus libcurl, libnl and libpcap. Start-up (argument and configuration parsing,
/// Foundation and TLS initialisation) touches code all over it, and every touch maps
/// a whole fault-around window (64 KiB): 28 MiB resident, of which about 3 MiB is the
/// daemon's own memory and the rest clean pages of its files that the steady state
/// never runs again. Mapped executable pages are also the last the kernel reclaims.
///
/// After start-up and after each reload the daemon unmaps the pages of the read-only
/// segments of every loaded ELF object (`madvise(MADV_DONTNEED)`). Nothing is lost: those
/// segments are never written (the loader maps them from the file and never relocates
/// into them, unless an object has text relocations, which are skipped), so their pages
/// are the file's own; they stay in the page cache, and what runs again is mapped back by
/// a minor fault (microseconds; no disk read unless the kernel meanwhile reclaimed the
/// page, as it could anyway).
///
/// The segments come from the loader itself (`dl_iterate_phdr`), not from
/// /proc/self/maps: the callback runs under the loader's lock, so no object can be
/// unmapped meanwhile, and an object being loaded is not listed until its segments are
/// in place (a map read earlier could show a library whose data segment is about to be
/// mapped over its first mapping, and dropping that range would drop its relocations).
/// Writable segments, RELRO included, are never touched, whether their private pages are
/// in memory or in swap.
public enum StartupPages {
    /// One program header of a loaded object, as far as the choice goes.
    public struct Segment: Equatable, Sendable {
        public var isLoadable: Bool
        public var isWritable: Bool
        /// Run-time address and size in memory.
        public var address: UInt
        public var size: UInt

        public init(isLoadable: Bool, isWritable: Bool, address: UInt, size: UInt) {
            self.isLoadable = isLoadable
            self.isWritable = isWritable
            self.address = address
            self.size = size
        }
    }

    /// The page ranges that may be released: loadable, read-only segments of an object
    /// without text relocations, shrunk to whole pages inside the segment (a page shared
    /// with a neighbouring writable segment is kept).
    public static func releasableRanges(_ segments: [Segment], textRelocations: Bool, pageSize: UInt) -> [Range<UInt>] {
        guard !textRelocations, pageSize > 0 else { return [] }
        return segments.compactMap { segment in
            guard segment.isLoadable, !segment.isWritable else { return nil }
            let (end, overflow) = segment.address.addingReportingOverflow(segment.size)
            guard !overflow else { return nil }
            let (roundedUp, wraps) = segment.address.addingReportingOverflow(pageSize - 1)
            guard !wraps else { return nil }
            let first = roundedUp / pageSize * pageSize
            let last = end / pageSize * pageSize
            return first < last ? first..<last : nil
        }
    }

    /// What one release did.
    public struct Release: Equatable, Sendable {
        public var objects = 0
        public var ranges = 0
        public var bytes = 0
        public var failures = 0
    }

    /// Unmaps the read-only segments' pages of every loaded object. Errors of single
    /// ranges are counted, never thrown: this is housekeeping, and the daemon's work goes on.
    @discardableResult
    public static func release() -> Release {
        var outcome = Release()
        withUnsafeMutablePointer(to: &outcome) { pointer in
            _ = dl_iterate_phdr({ info, _, context in
                guard let info, let context else { return 0 }
                let outcome = context.assumingMemoryBound(to: StartupPages.Release.self)
                let object = info.pointee
                // The vDSO is the kernel's, not a file's.
                if let name = object.dlpi_name, strstr(name, "linux-vdso") != nil { return 0 }
                guard let headers = object.dlpi_phdr else { return 0 }
                let base = UInt(object.dlpi_addr)
                var segments: [StartupPages.Segment] = []
                var textRelocations = false
                for index in 0..<Int(object.dlpi_phnum) {
                    let header = headers[index]
                    if header.p_type == UInt32(PT_DYNAMIC) {
                        textRelocations = StartupPages.hasTextRelocations(UnsafeRawPointer(bitPattern: base &+ UInt(header.p_vaddr)))
                    }
                    segments.append(StartupPages.Segment(isLoadable: header.p_type == UInt32(PT_LOAD),
                                            isWritable: header.p_flags & UInt32(PF_W) != 0,
                                            address: base &+ UInt(header.p_vaddr), size: UInt(header.p_memsz)))
                }
                outcome.pointee.objects += 1
                for range in StartupPages.releasableRanges(segments, textRelocations: textRelocations, pageSize: UInt(sysconf(Int32(_SC_PAGESIZE)))) {
                    guard let address = UnsafeMutableRawPointer(bitPattern: range.lowerBound) else { continue }
                    if madvise(address, Int(range.count), MADV_DONTNEED) == 0 {
                        outcome.pointee.ranges += 1
                        outcome.pointee.bytes += Int(range.count)
                    } else {
                        outcome.pointee.failures += 1
                    }
                }
                return 0
            }, pointer)
        }
        return outcome
    }

    /// DT_TEXTREL, or DF_TEXTREL in DT_FLAGS: the loader writes into this object's code.
    static func hasTextRelocations(_ dynamic: UnsafeRawPointer?) -> Bool {
        guard var entry = dynamic?.assumingMemoryBound(to: Elf64_Dyn.self) else { return true }
        while entry.pointee.d_tag != Int64(DT_NULL) {
            if entry.pointee.d_tag == Int64(DT_TEXTREL) { return true }
            if entry.pointee.d_tag == Int64(DT_FLAGS), entry.pointee.d_un.d_val & UInt64(DF_TEXTREL) != 0 { return true }
            entry += 1
        }
        return false
    }
}
