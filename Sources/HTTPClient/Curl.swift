import CCurl

/// A libcurl failure with libcurl's own message and what was being done.
public struct CurlError: Error, CustomStringConvertible, Sendable {
    public var code: UInt32
    public var operation: String
    public var detail: String
    public var description: String { "\(operation): \(detail) (curl error \(code))" }
}

/// Process-wide libcurl state. `curl_global_init` is not thread-safe, so it runs once,
/// lazily, behind Swift's thread-safe global initialisation.
enum CurlGlobal {
    static let initialised: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
}

public enum Curl {
    /// libcurl's version string, e.g. "libcurl/7.88.1 OpenSSL/3.0.x ...".
    public static var version: String {
        _ = CurlGlobal.initialised
        return String(cString: curl_version())
    }
}

/// One HTTP response: status and body.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
}

/// A single blocking transfer on one easy handle, freed in `deinit`. The health
/// checkers use the multi interface later; this is the simplest typed use of libcurl.
public final class CurlEasyRequest {
    private let handle: UnsafeMutableRawPointer
    private final class Sink { var body: [UInt8] = [] }

    public init() throws(CurlError) {
        _ = CurlGlobal.initialised
        guard let h = curl_easy_init() else {
            throw CurlError(code: 0, operation: "curl_easy_init", detail: "no handle")
        }
        handle = h
    }

    deinit { curl_easy_cleanup(handle) }

    private func check(_ rc: CURLcode, _ operation: String) throws(CurlError) {
        guard rc == CURLE_OK else {
            throw CurlError(code: rc.rawValue, operation: operation, detail: String(cString: curl_easy_strerror(rc)))
        }
    }

    /// GET `url`, giving up after `timeoutMilliseconds`.
    public func get(_ url: String, timeoutMilliseconds: Int = 5000, host: String? = nil) throws(CurlError) -> HTTPResponse {
        let sink = Sink()
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        try check(overcast_curl_setopt_string(handle, CURLOPT_URL, url), "setting URL \(url)")
        try check(overcast_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds), "setting timeout")
        try check(overcast_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "setting NOSIGNAL")
        try check(overcast_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()), "setting WRITEDATA")
        try check(overcast_curl_setopt_write_function(handle) { data, size, count, user in
            guard let user, let data else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
            let length = size * count
            sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
            return length
        }, "setting WRITEFUNCTION")
        var headers: UnsafeMutablePointer<curl_slist>?
        if let host { headers = curl_slist_append(nil, "Host: \(host)") }
        defer { if let headers { curl_slist_free_all(headers) } }
        if let headers { try check(overcast_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers)), "setting Host") }
        try check(curl_easy_perform(handle), "GET \(url)")
        var status = 0
        try check(overcast_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), "reading status")
        return HTTPResponse(status: status, body: sink.body)
    }
}
