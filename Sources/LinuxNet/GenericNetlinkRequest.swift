import CNetlink

/// A netlink attribute to send, as a tree. Builders of generic netlink requests (IPVS)
/// describe what to send with these and never see a libnl type.
public indirect enum NetlinkAttribute: Sendable, Hashable {
    case u16(UInt16, UInt16)
    case u32(UInt16, UInt32)
    case bytes(UInt16, [UInt8])
    case string(UInt16, String)
    case nested(UInt16, [NetlinkAttribute])
}

/// An attribute of a received message: its type and raw payload; nested attributes
/// are parsed on demand with `children`.
public struct ReceivedAttribute: Sendable, Hashable {
    public var type: UInt16
    public var payload: [UInt8]

    /// Parses a run of attributes (TLV, 4-byte aligned). Malformed lengths end the run.
    public static func parse(_ bytes: ArraySlice<UInt8>) -> [ReceivedAttribute] {
        var result: [ReceivedAttribute] = []
        var i = bytes.startIndex
        while i + 4 <= bytes.endIndex {
            let length = Int(bytes[i]) | Int(bytes[i + 1]) << 8
            let type = (UInt16(bytes[i + 2]) | UInt16(bytes[i + 3]) << 8) & 0x3FFF
            guard length >= 4, i + length <= bytes.endIndex else { break }
            result.append(ReceivedAttribute(type: type, payload: Array(bytes[(i + 4)..<(i + length)])))
            i += (length + 3) & ~3
        }
        return result
    }

    public var children: [ReceivedAttribute] { Self.parse(payload[...]) }
    public var u16: UInt16? { payload.count >= 2 ? UInt16(payload[0]) | UInt16(payload[1]) << 8 : nil }
    public var u32: UInt32? {
        payload.count >= 4 ? UInt32(payload[0]) | UInt32(payload[1]) << 8 | UInt32(payload[2]) << 16 | UInt32(payload[3]) << 24 : nil
    }
    public var string: String { String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self) }
}

extension NetlinkSocket {
    /// Sends one generic netlink request and waits for the kernel's acknowledgement.
    public func genericRequest(family: Int32, command: UInt8, version: UInt8, attributes: [NetlinkAttribute],
                               operation: @autoclosure () -> String) throws(NetlinkError) {
        guard let message = nlmsg_alloc() else { throw NetlinkError(code: -Int32(NLE_NOMEM), operation: operation()) }
        guard genlmsg_put(message, UInt32(NL_AUTO_PORT), UInt32(NL_AUTO_SEQ), family, 0, 0, command, version) != nil,
              Self.put(attributes, into: message) else {
            nlmsg_free(message)
            throw NetlinkError(code: -Int32(NLE_NOMEM), operation: operation())
        }
        let rc = nl_send_sync(handle, message)   // frees the message
        if rc < 0 { throw NetlinkError(code: rc, operation: operation()) }
    }

    /// Sends a dump request and returns the attributes of every reply message.
    public func genericDump(family: Int32, command: UInt8, version: UInt8, attributes: [NetlinkAttribute] = [],
                            operation: @autoclosure () -> String) throws(NetlinkError) -> [[ReceivedAttribute]] {
        guard let message = nlmsg_alloc() else { throw NetlinkError(code: -Int32(NLE_NOMEM), operation: operation()) }
        defer { nlmsg_free(message) }
        guard genlmsg_put(message, UInt32(NL_AUTO_PORT), UInt32(NL_AUTO_SEQ), family, 0, NLM_F_DUMP, command, version) != nil,
              Self.put(attributes, into: message) else {
            throw NetlinkError(code: -Int32(NLE_NOMEM), operation: operation())
        }
        final class Sink { var messages: [[UInt8]] = [] }
        let sink = Sink()
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        var rc = nl_socket_modify_cb(handle, NL_CB_VALID, NL_CB_CUSTOM, { msg, arg in
            guard let msg, let arg, let header = nlmsg_hdr(msg) else { return Int32(NL_SKIP.rawValue) }
            let length = Int(header.pointee.nlmsg_len)
            let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(header), count: length)
            Unmanaged<Sink>.fromOpaque(arg).takeUnretainedValue().messages.append(Array(bytes))
            return Int32(NL_OK.rawValue)
        }, context.toOpaque())
        if rc >= 0 { rc = nl_send_auto(handle, message) }
        if rc >= 0 { rc = nl_recvmsgs_default(handle) }
        nl_socket_modify_cb(handle, NL_CB_VALID, NL_CB_DEFAULT, nil, nil)
        if rc < 0 { throw NetlinkError(code: rc, operation: operation()) }
        // nlmsghdr (16 bytes) + genlmsghdr (4 bytes), then the attributes.
        return sink.messages.map { ReceivedAttribute.parse($0.dropFirst(20)) }
    }

    private static func put(_ attributes: [NetlinkAttribute], into message: OpaquePointer) -> Bool {
        for attribute in attributes {
            let rc: Int32
            switch attribute {
            case .u16(let type, let value): rc = nla_put_u16(message, Int32(type), value)
            case .u32(let type, let value): rc = nla_put_u32(message, Int32(type), value)
            case .bytes(let type, let value): rc = value.withUnsafeBytes { nla_put(message, Int32(type), Int32($0.count), $0.baseAddress) }
            case .string(let type, let value): rc = nla_put_string(message, Int32(type), value)
            case .nested(let type, let children):
                guard let nest = nla_nest_start(message, Int32(type)) else { return false }
                guard put(children, into: message) else { return false }
                rc = nla_nest_end(message, nest)
            }
            if rc < 0 { return false }
        }
        return true
    }
}
