import Config
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The Prometheus endpoint: a minimal HTTP/1.x server for `GET /metrics`, on the shared
/// one-thread `SocketServer`. A scrape every few seconds needs no more; an HTTP framework
/// would cost the idle daemon more memory than everything it serves. Each connection
/// gets one answer and is closed; a client that is slow to send its request is dropped
/// after 2 s.
enum MetricsServer {
    struct BindError: Error, CustomStringConvertible {
        var description: String
    }

    static func make(listen: ListenAddress, exposition: @escaping @Sendable () -> [UInt8]) throws -> SocketServer {
        let family = listen.isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw BindError(description: "metrics_listen \(listen): socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        func bindTo<Address>(_ address: Address) -> Int32 {
            withUnsafePointer(to: address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
            }
        }
        let rc: Int32
        if listen.isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(listen.port).bigEndian)
            inet_pton(AF_INET6, listen.address, &address.sin6_addr)
            rc = bindTo(address)
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(listen.port).bigEndian)
            inet_pton(AF_INET, listen.address, &address.sin_addr)
            rc = bindTo(address)
        }
        guard rc == 0, Glibc.listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw BindError(description: "metrics_listen \(listen): \(reason)")
        }
        return SocketServer(fd: fd, threadName: "metrics") { client in
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 2048)
            while request.count < MetricsHTTP.maximumRequest && !MetricsHTTP.headerComplete(request) {
                let n = recv(client, &buffer, buffer.count, 0)
                guard n > 0 else { break }
                request.append(contentsOf: buffer[0..<n])
            }
            SocketServer.writeAll(client, MetricsHTTP.respond(to: request, body: exposition))
        }
    }
}

/// The HTTP side of the metrics endpoint, as pure functions of the request bytes.
enum MetricsHTTP {
    static let maximumRequest = 8192
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func headerComplete(_ request: [UInt8]) -> Bool { headerEnd(request) != nil }

    /// Where the body starts: just past the first empty line.
    private static func headerEnd(_ bytes: [UInt8]) -> Int? {
        let end: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4 else { return nil }
        return (0...(bytes.count - 4)).first { bytes[$0..<($0 + 4)].elementsEqual(end) }.map { $0 + 4 }
    }

    /// The answer to one request: the metrics for `GET /metrics` (HEAD: the headers
    /// only), an index for `/`, and 400/404/405 otherwise. `body` is only called when
    /// the metrics are asked for.
    static func respond(to request: [UInt8], body: () -> [UInt8]) -> [UInt8] {
        guard headerComplete(request), let lineEnd = request.firstIndex(of: 13),
              let line = String(validating: request[..<lineEnd], as: UTF8.self) else {
            return answer(400, "Bad Request", "a request line and headers ending in an empty line were expected\n")
        }
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else {
            return answer(400, "Bad Request", "'\(line.prefix(80))' is not an HTTP/1.x request line\n")
        }
        let method = parts[0], path = parts[1].split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        guard method == "GET" || method == "HEAD" else {
            return answer(405, "Method Not Allowed", "only GET and HEAD\n", extra: ["Allow: GET, HEAD"])
        }
        let response: [UInt8]
        switch path {
        case "/metrics": response = answer(200, "OK", body(), type: contentType)
        case "/": response = answer(200, "OK", "Overcast: the metrics are at /metrics\n")
        default: response = answer(404, "Not Found", "only /metrics is served here\n")
        }
        guard method == "HEAD", let split = headerEnd(response) else { return response }
        return Array(response[..<split])
    }

    private static func answer(_ code: Int, _ reason: String, _ text: String, extra: [String] = []) -> [UInt8] {
        answer(code, reason, Array(text.utf8), type: "text/plain; charset=utf-8", extra: extra)
    }

    private static func answer(_ code: Int, _ reason: String, _ body: [UInt8], type: String, extra: [String] = []) -> [UInt8] {
        let headers = ["HTTP/1.1 \(code) \(reason)", "Content-Type: \(type)", "Content-Length: \(body.count)",
                       "Connection: close"] + extra
        return Array((headers.joined(separator: "\r\n") + "\r\n\r\n").utf8) + body
    }
}
