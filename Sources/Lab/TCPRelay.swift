import Foundation
import LinuxNet
import NetworkTypes
import VRRP
#if canImport(Glibc)
import Glibc
#endif

/// Relays TCP connections from a listening address inside a lab namespace to an address
/// reachable from this process's own namespace. A socket keeps the namespace it was
/// created in, so one process can listen in the lab and connect outside it. The kernel
/// tier uses it to give the lab's "aws" node the EC2 lab running on the host (Python
/// runs fifty times slower in the emulated VM; moto there takes minutes to start).
public final class TCPRelay: @unchecked Sendable {
    private let listener: FileDescriptor
    private let target: sockaddr_in
    private let lock = NSLock()
    private var running = true
    /// Sends "LAB <client-ip>\r\n" upstream first: the relay hides the client's address,
    /// and the EC2 lab's fronts (ec2_lab.py) tell lab nodes apart by it.
    private let announcesClient: Bool

    public init(namespace: String, listen address: String, port: UInt16, to targetAddress: String, port targetPort: UInt16,
                announcesClient: Bool = false) throws {
        self.announcesClient = announcesClient
        guard let local = IPv4Address(address), let remote = IPv4Address(targetAddress) else {
            throw ChildProcessError("relay: bad address \(address) or \(targetAddress)")
        }
        target = sockaddr_in(remote, port: targetPort)
        listener = try inNetworkNamespace(namespace) { try FileDescriptor.tcpListener(local, port: port, backlog: 64) }
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "relay-\(port)"
        thread.start()
    }

    deinit { stop() }

    public func stop() {
        let wasRunning = lock.withLock { () -> Bool in defer { running = false }; return running }
        if wasRunning { shutdown(listener.raw, Int32(SHUT_RDWR)) }
    }

    private var isRunning: Bool { lock.withLock { running } }

    private func acceptLoop() {
        while isRunning {
            var fds = [pollfd(fd: listener.raw, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 1, 200) > 0 else { continue }
            let client = accept(listener.raw, nil, nil)
            guard client >= 0 else { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            let thread = Thread { [self] in pump(client) }
            thread.start()
        }
    }

    /// Connects out and copies bytes both ways until either side closes.
    private func pump(_ client: Int32) {
        defer { close(client) }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard upstream >= 0 else { return }
        defer { close(upstream) }
        var remote = target
        let rc = withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { return }
        if announcesClient {
            var peer = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let named = withUnsafeMutablePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(client, $0, &length) }
            }
            guard named == 0 else { return }
            let line = Array("LAB \(IPv4Address(UInt32(bigEndian: peer.sin_addr.s_addr)))\r\n".utf8)
            guard line.withUnsafeBytes({ write(upstream, $0.baseAddress, $0.count) }) == line.count else { return }
        }
        var one: Int32 = 1
        for fd in [client, upstream] { setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size)) }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while isRunning {
            var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 500) >= 0 else { return }
            for (index, pair) in [(client, upstream), (upstream, client)].enumerated() where fds[index].revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(pair.0, $0.baseAddress, $0.count) }
                guard count > 0 else { return }
                var sent = 0
                while sent < count {
                    let n = buffer.withUnsafeBytes { raw in
                        raw.baseAddress.map { write(pair.1, $0 + sent, count - sent) } ?? -1
                    }
                    guard n > 0 else { return }
                    sent += n
                }
            }
        }
    }
}
