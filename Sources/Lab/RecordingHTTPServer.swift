import Foundation
import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP server for health-check benchmarks: one poll loop on one thread answers
/// `200 OK` on every address of a lab node (wildcard listeners, one per port) and
/// records, per local address, when each connection arrived. A thousand real servers
/// then cost a few sockets and one thread, little enough to run beside the checkers it
/// measures, even in the emulated VM where a process per server would starve them.
public final class RecordingHTTPServer: @unchecked Sendable {
    private let listeners: [FileDescriptor]
    private let lock = NSLock()
    private var running = true
    private var arrivals: [String: [Double]] = [:]
    private let finished = DispatchSemaphore(value: 0)
    /// How long each answer is held back: a slow real server.
    private let answerDelay: Double

    /// Listens on `ports` of every address inside `namespace`; answers `answerDelay`
    /// seconds after each request is complete.
    public init(namespace: String, ports: [UInt16], answerDelay: Double = 0) throws {
        self.answerDelay = answerDelay
        listeners = try inNetworkNamespace(namespace) {
            try ports.map { try FileDescriptor.tcpListener(port: $0, backlog: 4096, nonBlocking: true) }
        }
        let thread = Thread { [self] in serve(); finished.signal() }
        thread.name = "http-server"
        thread.start()
    }

    /// Stops serving and returns, per local address, the arrival times (seconds since 1970).
    public func stop() -> [String: [Double]] {
        lock.withLock { running = false }
        finished.wait()
        return lock.withLock { arrivals }
    }

    /// Arrivals so far.
    public var snapshot: [String: [Double]] { lock.withLock { arrivals } }

    private static let response = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n".utf8)

    private func serve() {
        var clients: [Int32: [UInt8]] = [:]
        defer { for fd in clients.keys { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: 4096)
        /// Complete requests waiting for their answer time (in arrival order, so due in order).
        var held: [(due: Double, fd: Int32)] = []
        defer { for entry in held { close(entry.fd) } }
        while lock.withLock({ running }) {
            let now = Date().timeIntervalSince1970
            while let first = held.first, first.due <= now {
                held.removeFirst()
                answer(first.fd)
            }
            let wait = held.first.map { Int32(max(1, min(100, ($0.due - now) * 1000))) } ?? 100
            var fds = listeners.map { pollfd(fd: $0.raw, events: Int16(POLLIN), revents: 0) }
                + clients.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), wait) > 0 else { continue }
            for (index, listener) in listeners.enumerated() where fds[index].revents != 0 { acceptAll(listener, into: &clients) }
            for entry in fds.dropFirst(listeners.count) where entry.revents != 0 {
                let fd = entry.fd
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count <= 0 {
                    if count == 0 || (errno != EAGAIN && errno != EINTR) { close(fd); clients[fd] = nil }
                    continue
                }
                clients[fd, default: []] += buffer[0..<count]
                // The request is complete at its empty line; the answer fits the socket buffer.
                if let request = clients[fd], request.count >= 4, request.suffix(4).elementsEqual([13, 10, 13, 10]) {
                    clients[fd] = nil
                    if answerDelay > 0 {
                        held.append((Date().timeIntervalSince1970 + answerDelay, fd))
                    } else {
                        answer(fd)
                    }
                } else if (clients[fd]?.count ?? 0) > 16384 {
                    close(fd)
                    clients[fd] = nil
                }
            }
        }
    }

    private func answer(_ fd: Int32) {
        _ = Self.response.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    private func acceptAll(_ listener: FileDescriptor, into clients: inout [Int32: [UInt8]]) {
        while true {
            let fd = accept(listener.raw, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            let now = Date().timeIntervalSince1970
            var local = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            if named == 0 {
                let value = UInt32(bigEndian: local.sin_addr.s_addr)
                let address = "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
                lock.withLock { arrivals[address, default: []].append(now) }
            }
            clients[fd] = []
        }
    }
}
