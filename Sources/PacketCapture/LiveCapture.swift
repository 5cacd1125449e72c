import CPcap

/// A live libpcap handle on one interface: immediate mode (each frame as it comes, no
/// buffering delay), outgoing direction only, a BPF filter compiled by libpcap, and
/// `pcap_inject` for sending frames. The handle is closed in `deinit`.
public final class LiveCapture: @unchecked Sendable {
    private let handle: OpaquePointer
    public let interface: String

    /// Opens `interface`, capturing only what `filter` selects in `direction`.
    public init(interface: String, filter: String, outgoingOnly: Bool = true, snapshotLength: Int32 = 2048) throws(PcapError) {
        self.interface = interface
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_create(interface, &errorBuffer) else {
            throw PcapError(operation: "pcap_create(\(interface))", detail: Self.text(errorBuffer))
        }
        self.handle = handle
        pcap_set_snaplen(handle, snapshotLength)
        pcap_set_immediate_mode(handle, 1)
        pcap_set_promisc(handle, 0)
        pcap_set_timeout(handle, 100)
        let rc = pcap_activate(handle)
        guard rc >= 0 else {
            let detail = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw PcapError(operation: "opening a capture on \(interface) (needs root or CAP_NET_RAW)", detail: detail)
        }
        if outgoingOnly && pcap_setdirection(handle, PCAP_D_OUT) != 0 {
            let detail = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw PcapError(operation: "capturing only outgoing frames on \(interface)", detail: detail)
        }
        var program = bpf_program()
        guard pcap_compile(handle, &program, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            let detail = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw PcapError(operation: "compiling BPF filter '\(filter)'", detail: detail)
        }
        defer { pcap_freecode(&program) }
        guard pcap_setfilter(handle, &program) == 0, pcap_setnonblock(handle, 1, &errorBuffer) == 0 else {
            let detail = String(cString: pcap_geterr(handle))
            pcap_close(handle)
            throw PcapError(operation: "setting up the capture on \(interface)", detail: detail)
        }
    }

    deinit { pcap_close(handle) }

    /// A descriptor for poll: readable when frames wait.
    public var selectableDescriptor: Int32 { pcap_get_selectable_fd(handle) }

    /// The next captured frame, or nil when none waits (non-blocking).
    public func next() -> [UInt8]? {
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        guard pcap_next_ex(handle, &header, &data) == 1, let header, let data else { return nil }
        return Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen)))
    }

    /// Sends a whole Ethernet frame as it is.
    public func inject(_ frame: [UInt8]) throws(PcapError) {
        let sent = frame.withUnsafeBytes { pcap_inject(handle, $0.baseAddress, $0.count) }
        guard sent == frame.count else {
            throw PcapError(operation: "pcap_inject on \(interface)", detail: String(cString: pcap_geterr(handle)))
        }
    }

    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
