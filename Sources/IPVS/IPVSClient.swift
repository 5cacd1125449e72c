import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// IPVS through generic netlink (family "IPVS", as ipvsadm and keepalived use it):
/// read the kernel's table back, and apply `IPVSChange`s one request each.
public final class IPVSClient {
    // linux/ip_vs.h
    enum Command: UInt8 {
        case newService = 1, setService, deleteService, getService, newDestination, setDestination, deleteDestination, getDestination
    }
    enum Attr { static let service: UInt16 = 1, destination: UInt16 = 2 }
    enum Service {
        static let af: UInt16 = 1, proto: UInt16 = 2, addr: UInt16 = 3, port: UInt16 = 4, fwmark: UInt16 = 5
        static let scheduler: UInt16 = 6, flags: UInt16 = 7, timeout: UInt16 = 8, netmask: UInt16 = 9
    }
    enum Dest {
        static let addr: UInt16 = 1, port: UInt16 = 2, forwarding: UInt16 = 3, weight: UInt16 = 4
        static let upper: UInt16 = 5, lower: UInt16 = 6, family: UInt16 = 11
    }
    static let version: UInt8 = 1
    static let persistentFlag: UInt32 = 0x0001   // IP_VS_SVC_F_PERSISTENT

    private let netlink: NetlinkSocket
    private let family: Int32

    /// Opens a generic netlink socket and resolves the IPVS family; a kernel without
    /// IPVS gets an error naming the module.
    public init() throws(NetlinkError) {
        netlink = try NetlinkSocket(.generic)
        family = try netlink.genericFamilyID("IPVS", module: "ip_vs")
    }

    public func apply(_ changes: [IPVSChange]) throws(NetlinkError) {
        for change in changes {
            let (command, attributes) = Self.request(for: change)
            try netlink.genericRequest(family: family, command: command.rawValue, version: Self.version,
                                       attributes: attributes, operation: "IPVS: \(change)")
        }
    }

    /// The kernel's whole IPVS table.
    public func read() throws(NetlinkError) -> IPVSTable {
        var table = IPVSTable()
        let replies = try netlink.genericDump(family: family, command: Command.getService.rawValue, version: Self.version,
                                              operation: "reading IPVS services")
        for reply in replies {
            guard let nested = reply.first(where: { $0.type == Attr.service }), let service = Self.service(from: nested.children) else { continue }
            table.add(service, try destinations(of: service.key))
        }
        return table
    }

    /// The real servers of one service (one dump request).
    public func destinations(of key: IPVSServiceKey) throws(NetlinkError) -> [IPVSDestination] {
        let dests = try netlink.genericDump(family: family, command: Command.getDestination.rawValue, version: Self.version,
                                            attributes: [.nested(Attr.service, Self.keyAttributes(key))],
                                            operation: "reading IPVS destinations of \(key)")
        return dests.compactMap { $0.first { $0.type == Attr.destination }.flatMap { Self.destination(from: $0.children) } }
    }

    // MARK: - Encoding

    static func request(for change: IPVSChange) -> (Command, [NetlinkAttribute]) {
        switch change {
        case .addService(let s): (.newService, [.nested(Attr.service, fullAttributes(s))])
        case .updateService(let s): (.setService, [.nested(Attr.service, fullAttributes(s))])
        case .deleteService(let key): (.deleteService, [.nested(Attr.service, keyAttributes(key))])
        case .addDestination(let key, let d):
            (.newDestination, [.nested(Attr.service, keyAttributes(key)), .nested(Attr.destination, destinationAttributes(d))])
        case .updateDestination(let key, let d):
            (.setDestination, [.nested(Attr.service, keyAttributes(key)), .nested(Attr.destination, destinationAttributes(d))])
        case .deleteDestination(let key, let d):
            (.deleteDestination, [.nested(Attr.service, keyAttributes(key)),
                                  .nested(Attr.destination, [.bytes(Dest.addr, addressBytes(d.address)), .u16(Dest.port, d.port.bigEndian)])])
        }
    }

    static func keyAttributes(_ key: IPVSServiceKey) -> [NetlinkAttribute] {
        switch key {
        case .address(let proto, let address, let port):
            [.u16(Service.af, family(of: address)), .u16(Service.proto, proto.number),
             .bytes(Service.addr, addressBytes(address)), .u16(Service.port, port.bigEndian)]
        case .fwmark(let mark, let ipv6):
            [.u16(Service.af, UInt16(ipv6 ? AF_INET6 : AF_INET)), .u32(Service.fwmark, mark)]
        }
    }

    static func fullAttributes(_ s: IPVSService) -> [NetlinkAttribute] {
        var flags = [UInt8](repeating: 0, count: 8)
        let value = s.persistenceTimeout == nil ? 0 : persistentFlag
        withUnsafeBytes(of: value) { for i in 0..<4 { flags[i] = $0[i] } }
        withUnsafeBytes(of: UInt32.max) { for i in 0..<4 { flags[4 + i] = $0[i] } }
        return keyAttributes(s.key) + [
            .string(Service.scheduler, s.scheduler), .bytes(Service.flags, flags),
            .u32(Service.timeout, s.persistenceTimeout ?? 0),
            .u32(Service.netmask, (s.persistenceNetmask ?? UInt32.max).bigEndian),
        ]
    }

    static func destinationAttributes(_ d: IPVSDestination) -> [NetlinkAttribute] {
        [.bytes(Dest.addr, addressBytes(d.key.address)), .u16(Dest.port, d.key.port.bigEndian),
         .u32(Dest.forwarding, d.forwarding.kernelValue), .u32(Dest.weight, d.weight),
         .u32(Dest.upper, d.upperThreshold), .u32(Dest.lower, d.lowerThreshold),
         .u16(Dest.family, family(of: d.key.address))]
    }

    static func family(of address: String) -> UInt16 { UInt16(address.contains(":") ? AF_INET6 : AF_INET) }

    /// union nf_inet_addr: 16 bytes, an IPv4 address in the first 4.
    static func addressBytes(_ address: String) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 16)
        _ = inet_pton(address.contains(":") ? AF_INET6 : AF_INET, address, &bytes)
        return bytes
    }

    // MARK: - Decoding

    static func addressText(_ bytes: [UInt8], family: UInt16) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        var input = bytes + [UInt8](repeating: 0, count: max(0, 16 - bytes.count))
        _ = inet_ntop(Int32(family), &input, &buffer, 64)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func networkPort(_ a: ReceivedAttribute?) -> UInt16 {
        guard let a, a.payload.count >= 2 else { return 0 }
        return UInt16(a.payload[0]) << 8 | UInt16(a.payload[1])
    }

    static func service(from attributes: [ReceivedAttribute]) -> IPVSService? {
        func attr(_ type: UInt16) -> ReceivedAttribute? { attributes.first { $0.type == type } }
        let af = attr(Service.af)?.u16 ?? UInt16(AF_INET)
        let key: IPVSServiceKey
        if let mark = attr(Service.fwmark)?.u32, mark != 0 {
            key = .fwmark(mark, ipv6: af == UInt16(AF_INET6))
        } else {
            guard let address = attr(Service.addr), let number = attr(Service.proto)?.u16 else { return nil }
            let proto: IPVSProtocol = number == 17 ? .udp : number == 132 ? .sctp : .tcp
            key = .address(proto, addressText(address.payload, family: af), port: networkPort(attr(Service.port)))
        }
        var flags: UInt32 = 0
        if let f = attr(Service.flags), f.payload.count >= 4 { flags = f.u32 ?? 0 }
        let persistent = flags & persistentFlag != 0
        let netmask = attr(Service.netmask)?.u32.map { UInt32(bigEndian: $0) }
        return IPVSService(key: key, scheduler: attr(Service.scheduler)?.string ?? "",
                           persistenceTimeout: persistent ? attr(Service.timeout)?.u32 : nil,
                           persistenceNetmask: persistent && netmask != UInt32.max ? netmask : nil)
    }

    static func destination(from attributes: [ReceivedAttribute]) -> IPVSDestination? {
        func attr(_ type: UInt16) -> ReceivedAttribute? { attributes.first { $0.type == type } }
        guard let address = attr(Dest.addr) else { return nil }
        let af = attr(Dest.family)?.u16 ?? UInt16(AF_INET)
        let method = attr(Dest.forwarding)?.u32 ?? 0
        let forwarding: IPVSForwarding = method & 0x7 == 3 ? .dr : method & 0x7 == 2 ? .tun : .nat
        return IPVSDestination(key: IPVSDestinationKey(address: addressText(address.payload, family: af), port: networkPort(attr(Dest.port))),
                               forwarding: forwarding, weight: attr(Dest.weight)?.u32 ?? 0,
                               upperThreshold: attr(Dest.upper)?.u32 ?? 0, lowerThreshold: attr(Dest.lower)?.u32 ?? 0)
    }
}
