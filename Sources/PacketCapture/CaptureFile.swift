import CPcap

/// Reads the frames of a capture file (tcpdump -w) with libpcap.
public enum CaptureFile {
    public struct Frame: Sendable {
        public var bytes: [UInt8]
        /// The link type libpcap reports (1 = Ethernet).
        public var linkType: Int32
        /// When the kernel captured it, in seconds since 1970.
        public var time: Double = 0
        /// The frame's length on the wire (the capture may hold less).
        public var wireLength: Int = 0
    }

    public static func read(_ path: String) throws(PcapError) -> [Frame] {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_open_offline(path, &errorBuffer) else {
            throw PcapError(operation: "opening capture \(path)", detail: String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        defer { pcap_close(handle) }
        let linkType = pcap_datalink(handle)
        var frames: [Frame] = []
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        while true {
            let rc = pcap_next_ex(handle, &header, &data)
            if rc == 1, let header, let data {
                let stamp = header.pointee.ts
                frames.append(Frame(bytes: Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen))),
                                    linkType: linkType, time: Double(stamp.tv_sec) + Double(stamp.tv_usec) / 1e6,
                                    wireLength: Int(header.pointee.len)))
            } else if rc == PCAP_ERROR_BREAK {
                return frames
            } else if rc == PCAP_ERROR {
                throw PcapError(operation: "reading capture \(path)", detail: String(cString: pcap_geterr(handle)))
            }
        }
    }
}
