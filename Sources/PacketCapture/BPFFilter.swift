import CPcap

/// A libpcap error with libpcap's message and what was being done.
public struct PcapError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var detail: String
    public var description: String { "\(operation): \(detail)" }
}

public enum PacketCaptureLibrary {
    /// libpcap's version string, e.g. "libpcap version 1.10.3 (with TPACKET_V3)".
    public static var version: String { String(cString: pcap_lib_version()) }
}

/// A BPF program compiled by libpcap for Ethernet frames. Compiling needs no
/// privileges (a "dead" handle), so filters are checked at config time, long before
/// a capture opens.
public final class BPFFilter {
    private var program = bpf_program()
    public let expression: String

    public init(_ expression: String, snapshotLength: Int32 = 2048) throws(PcapError) {
        self.expression = expression
        guard let dead = pcap_open_dead(DLT_EN10MB, snapshotLength) else {
            throw PcapError(operation: "pcap_open_dead", detail: "out of memory")
        }
        defer { pcap_close(dead) }
        if pcap_compile(dead, &program, expression, 1, PCAP_NETMASK_UNKNOWN) != 0 {
            throw PcapError(operation: "compiling BPF filter '\(expression)'", detail: String(cString: pcap_geterr(dead)))
        }
    }

    deinit { pcap_freecode(&program) }

    /// Number of BPF instructions; a sanity figure for tests and dumps.
    public var instructionCount: Int { Int(program.bf_len) }

    /// Runs the filter over one Ethernet frame, as the kernel would.
    public func matches(_ frame: [UInt8]) -> Bool {
        frame.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            var header = pcap_pkthdr()
            header.caplen = UInt32(buffer.count)
            header.len = UInt32(buffer.count)
            return withUnsafePointer(to: &program) { pcap_offline_filter($0, &header, base) != 0 }
        }
    }
}
