import CCurl
import Foundation
import HTTPClient

/// Where mail goes: keepalived's `smtp_server ADDR [PORT]`, `smtp_helo_name` and
/// `smtp_connect_timeout`.
public struct SMTPServer: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var heloName: String
    public var connectTimeout: Double
    /// The whole conversation's limit, beyond the connection.
    public var timeout: Double

    public init(host: String, port: Int = 25, heloName: String, connectTimeout: Double = 30, timeout: Double = 60) {
        self.host = host
        self.port = port
        self.heloName = heloName
        self.connectTimeout = connectTimeout
        self.timeout = timeout
    }

    /// `smtp://HOST:PORT/HELO`: libcurl says EHLO (then HELO) with the URL's path.
    var url: String {
        let host = self.host.contains(":") && !self.host.hasPrefix("[") ? "[\(self.host)]" : self.host
        let helo = heloName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "localhost"
        return "smtp://\(host):\(port)/\(helo)"
    }
}

/// Sends one mail through libcurl's SMTP (no TLS or login: keepalived has neither).
/// Blocking: the daemon calls it on its mail thread only.
public enum SMTPClient {
    private final class Upload {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    public static func send(_ mail: AlertMail, via server: SMTPServer, date: Date = Date()) throws(CurlError) {
        _ = Curl.version  // curl_global_init, once
        guard let handle = curl_easy_init() else { throw CurlError(code: 0, operation: "curl_easy_init", detail: "no handle") }
        defer { curl_easy_cleanup(handle) }
        func check(_ rc: CURLcode, _ operation: String) throws(CurlError) {
            guard rc == CURLE_OK else {
                throw CurlError(code: rc.rawValue, operation: operation, detail: String(cString: curl_easy_strerror(rc)))
            }
        }
        let upload = Upload(Array(mail.message(date: date).utf8))
        let context = Unmanaged.passRetained(upload)
        defer { context.release() }
        var recipients: UnsafeMutablePointer<curl_slist>?
        for address in mail.to { recipients = curl_slist_append(recipients, "<\(address)>") }
        defer { if let recipients { curl_slist_free_all(recipients) } }
        try check(overcast_curl_setopt_string(handle, CURLOPT_URL, server.url), "setting URL \(server.url)")
        try check(overcast_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "setting NOSIGNAL")
        try check(overcast_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(server.connectTimeout * 1000)), "setting connect timeout")
        try check(overcast_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int((server.connectTimeout + server.timeout) * 1000)), "setting timeout")
        try check(overcast_curl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(mail.from)>"), "setting MAIL FROM")
        if let recipients {
            try check(overcast_curl_setopt_pointer(handle, CURLOPT_MAIL_RCPT, UnsafeMutableRawPointer(recipients)), "setting RCPT TO")
        }
        try check(overcast_curl_setopt_long(handle, CURLOPT_UPLOAD, 1), "setting UPLOAD")
        try check(overcast_curl_setopt_pointer(handle, CURLOPT_READDATA, context.toOpaque()), "setting READDATA")
        try check(overcast_curl_setopt_read_function(handle) { buffer, size, count, user in
            guard let buffer, let user else { return 0 }
            let upload = Unmanaged<Upload>.fromOpaque(user).takeUnretainedValue()
            let length = min(size * count, upload.bytes.count - upload.offset)
            upload.bytes.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress, length > 0 else { return }
                UnsafeMutableRawPointer(buffer).copyMemory(from: base + upload.offset, byteCount: length)
            }
            upload.offset += length
            return length
        }, "setting READFUNCTION")
        try check(curl_easy_perform(handle), "mail to \(server.host):\(server.port)")
    }
}
