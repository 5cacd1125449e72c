import CCurl

/// A libcurl failure with libcurl's own message and what was being done.
public struct CurlError: Error, CustomStringConvertible, Sendable {
    public var code: UInt32
    public var operation: String
    public var detail: String
    public var description: String { "\(operation): \(detail) (curl error \(code))" }
    public init(code: UInt32, operation: String, detail: String) {
        self.code = code
        self.operation = operation
        self.detail = detail
    }
    /// The transfer ran out of time (CURLE_OPERATION_TIMEDOUT).
    public var isTimeout: Bool { code == CURLE_OPERATION_TIMEDOUT.rawValue }
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

/// One HTTP response: status, body and the server's header fields.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    /// The header fields of the final response (after any 1xx), in the order sent, with
    /// the names as the server wrote them. `overcast doctor` reads `Date` from them to
    /// measure this host's clock skew against AWS's.
    public var headers: [(name: String, value: String)] = []

    public init(status: Int, body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// The value of the first header field named `name` (case-insensitive, as HTTP names are).
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// What to send: method, URL, headers, body, time limits and, for AWS APIs, libcurl's
/// built-in SigV4 signing (`CURLOPT_AWS_SIGV4`), so no signing code of our own can drift
/// from the specification.
public struct HTTPRequest: Sendable {
    public struct SigV4: Sendable {
        /// libcurl's provider string, e.g. "aws:amz:eu-west-1:ec2".
        public var provider: String
        public var accessKeyID: String
        public var secretAccessKey: String
        public init(provider: String, accessKeyID: String, secretAccessKey: String) {
            self.provider = provider
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
        }
    }

    public var method: String
    public var url: String
    public var headers: [String]
    public var body: [UInt8]?
    public var timeoutMilliseconds: Int
    public var connectTimeoutMilliseconds: Int
    public var sigV4: SigV4?
    /// The connection is closed abortively (SO_LINGER 0: a reset, unsent bytes thrown
    /// away) rather than gracefully. For a request that changes something (an EC2 write):
    /// one given up on at its timeout must not be delivered later by the kernel's
    /// retransmissions, after the sender stopped wanting it (the fault soak, seed 501: a
    /// route write sent by a MASTER over a lossy link reached the API 3.3 s later, once
    /// its sender was BACKUP).
    public var abortiveClose = false

    public init(method: String = "GET", url: String, headers: [String] = [], body: [UInt8]? = nil,
                timeoutMilliseconds: Int = 5000, connectTimeoutMilliseconds: Int? = nil, sigV4: SigV4? = nil,
                abortiveClose: Bool = false) {
        self.abortiveClose = abortiveClose
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds ?? timeoutMilliseconds
        self.sigV4 = sigV4
    }
}

/// Blocking transfers on one easy handle, freed in `deinit`. Reusing the handle keeps
/// the connection to the same server alive between requests (an EC2 API call then
/// costs one round trip, not a TCP and TLS handshake each time). Not thread-safe: one
/// owner at a time. The health checkers use the multi interface instead.
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
        try perform(HTTPRequest(url: url, headers: host.map { ["Host: \($0)"] } ?? [], timeoutMilliseconds: timeoutMilliseconds))
    }

    /// Performs `request` and returns the response, whatever its status.
    public func perform(_ request: HTTPRequest) throws(CurlError) -> HTTPResponse {
        // Options from an earlier request must not leak into this one; the reset keeps
        // the connection cache.
        curl_easy_reset(handle)
        let sink = Sink()
        let context = Unmanaged.passRetained(sink)
        defer { context.release() }
        let what = "\(request.method) \(request.url)"
        try check(overcast_curl_setopt_string(handle, CURLOPT_URL, request.url), "setting URL \(request.url)")
        try check(overcast_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds), "setting timeout")
        try check(overcast_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds),
                  "setting connect timeout")
        try check(overcast_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1), "setting NOSIGNAL")
        if request.abortiveClose {
            try check(overcast_curl_setopt_sockopt_function(handle) { _, fd, _ in
                var option = linger(l_onoff: 1, l_linger: 0)
                _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
                return 0  // CURL_SOCKOPT_OK
            }, "setting the abortive close")
        }
        try check(overcast_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()), "setting WRITEDATA")
        try check(overcast_curl_setopt_write_function(handle) { data, size, count, user in
            guard let user, let data else { return 0 }
            let sink = Unmanaged<Sink>.fromOpaque(user).takeUnretainedValue()
            let length = size * count
            sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
            return length
        }, "setting WRITEFUNCTION")
        if request.method != "GET" && request.method != "POST" {
            try check(overcast_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method), "setting method")
        }
        if let sig = request.sigV4 {
            try check(overcast_curl_setopt_string(handle, CURLOPT_AWS_SIGV4, sig.provider), "setting AWS_SIGV4")
            try check(overcast_curl_setopt_string(handle, CURLOPT_USERNAME, sig.accessKeyID), "setting the access key")
            try check(overcast_curl_setopt_string(handle, CURLOPT_PASSWORD, sig.secretAccessKey), "setting the secret key")
        }
        var headers: UnsafeMutablePointer<curl_slist>?
        for header in request.headers { headers = curl_slist_append(headers, header) }
        defer { if let headers { curl_slist_free_all(headers) } }
        if let headers { try check(overcast_curl_setopt_pointer(handle, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(headers)), "setting headers") }
        if let body = request.body ?? (request.method == "POST" || request.method == "PUT" ? [] : nil) {
            // COPYPOSTFIELDS: libcurl keeps its own copy, so nothing has to stay pinned.
            try check(overcast_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, body.count), "setting body size")
            let bytes = body + [0]
            let rc = bytes.withUnsafeBytes { raw in
                overcast_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress))
            }
            try check(rc, "setting body")
        }
        try check(curl_easy_perform(handle), what)
        var status = 0
        try check(overcast_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status), "reading status")
        return HTTPResponse(status: status, body: sink.body, headers: responseHeaders())
    }

    /// The last response's header fields, through libcurl's header API (7.83+; no
    /// callback, so nothing is collected unless a transfer finished). Only the final
    /// response's plain server headers: not 1xx, CONNECT or trailers.
    private func responseHeaders() -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        var previous: UnsafeMutablePointer<curl_header>?
        while let field = curl_easy_nextheader(handle, UInt32(CURLH_HEADER), -1, previous) {
            if let name = field.pointee.name, let value = field.pointee.value {
                fields.append((String(cString: name), String(cString: value)))
            }
            previous = field
        }
        return fields
    }
}
