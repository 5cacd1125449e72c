extension VRRPAdvertisement: CustomStringConvertible {
    /// One line in the style of tcpdump's VRRP printer, for logs and `overcast dump`.
    public var description: String {
        var line = "\(version), Advertisement, vrid \(virtualRouterID), prio \(priority)"
        if version == .v2 { line += ", authtype \(authType)" }
        line += ", intvl \(advertisementInterval), length \(encodedLength), addrs(\(addresses.count)):"
        line += addresses.isEmpty ? " -" : " " + addresses.map(\.description).joined(separator: ",")
        if version == .v2 && authType == .simplePassword {
            // The password is a shared secret; show only its length.
            let length = authenticationData.firstIndex(of: 0) ?? authenticationData.count
            line += " auth <\(length) bytes>"
        }
        return line
    }

    /// A field-by-field dump with offsets, for debugging captured packets.
    public func dump(pseudoHeader: PseudoHeader) -> String {
        let bytes = (try? encoded(pseudoHeader: pseudoHeader)) ?? []
        var lines = [description]
        lines.append("  0: version \(version.rawValue) type 1")
        lines.append("  1: vrid \(virtualRouterID)")
        lines.append("  2: priority \(priority)\(priority == 0 ? " (master stopping)" : priority == 255 ? " (address owner)" : "")")
        lines.append("  3: count \(addresses.count)")
        if version == .v2 {
            lines.append("  4: auth type \(authType.rawValue) (\(authType))")
            lines.append("  5: adver int \(advertisementInterval.value / 100) s")
        } else {
            lines.append("  4: max adver int \(advertisementInterval.value) cs")
        }
        if bytes.count >= 8 {
            lines.append("  6: checksum 0x" + hexEncode(bytes[6...7]))
        }
        for (i, address) in addresses.enumerated() {
            lines.append("  \(8 + 4 * i): address \(address)")
        }
        if version == .v2 { lines.append("  \(8 + 4 * addresses.count): auth data (8 bytes, not shown)") }
        return lines.joined(separator: "\n")
    }
}

/// Lowercase hex without separators; used by dumps and tests.
public func hexEncode(_ bytes: some Sequence<UInt8>) -> String {
    let digits: [Character] = Array("0123456789abcdef")
    var text = ""
    for byte in bytes {
        text.append(digits[Int(byte >> 4)])
        text.append(digits[Int(byte & 0x0F)])
    }
    return text
}

/// Parses lowercase or uppercase hex (whitespace ignored); nil on an odd digit count or
/// a non-hex character.
public func hexDecode(_ text: String) -> [UInt8]? {
    var result: [UInt8] = []
    var high: UInt8?
    for ch in text where !ch.isWhitespace {
        guard let digit = ch.hexDigitValue else { return nil }
        if let h = high {
            result.append(h << 4 | UInt8(digit))
            high = nil
        } else {
            high = UInt8(digit)
        }
    }
    return high == nil ? result : nil
}
