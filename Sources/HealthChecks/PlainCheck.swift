import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// One plain check in flight (HTTP_GET without TLS, TCP_CHECK, SMTP_CHECK, UDP_CHECK,
/// DNS_CHECK, PING_CHECK): its non-blocking socket and how far it got. The engine polls
/// the socket and calls `advance` when it is ready; what is said on it is the check's
/// `CheckConversation`. Everything here runs on the engine's thread, hence
/// `@unchecked Sendable` (the engine's deadline queue holds these until their entry is due).
final class PlainCheck: @unchecked Sendable {
    enum Stage: Equatable {
        case connecting
        /// Bytes of the current message sent so far.
        case sending(Int)
        case reading
    }

    enum Step {
        /// Nothing more until the socket is ready again; `progressed` when the server did
        /// its part of a stage, which earns the check a new connect_timeout.
        case wait(progressed: Bool)
        case finished(CheckResult)
    }

    let target: CheckTarget
    let endpoint: PlainEndpoint
    let tag: Int
    /// The socket, or -1 once the check is over. A raw descriptor closed by `close()`
    /// rather than LinuxNet's `FileDescriptor` (closed in deinit): the deadline queue holds
    /// a finished check until its entry comes up, which must not keep its socket open.
    private(set) var fd: Int32
    private(set) var stage = Stage.connecting
    private var conversation: CheckConversation
    /// What is being sent now: the opening message, or a reply of the conversation's.
    private var outgoing: [UInt8] = []
    /// When this stage must have moved on; infinite until the engine's next pass arms it.
    var deadline = Double.infinity
    /// The bound on the whole check: a server that trickles its answer keeps earning new
    /// stage deadlines, so this ends it (libcurl's whole-transfer timeout, before).
    var backstop = Double.infinity
    /// Where the engine keeps it in its list of checks in flight.
    var index = 0

    /// Opens the socket and starts the connect; throws when the connect fails at once (a
    /// refused port on this host, no route) or the check cannot be asked.
    init(target: CheckTarget, endpoint: PlainEndpoint, tag: Int) throws(SystemCallError) {
        self.target = target
        self.endpoint = endpoint
        self.tag = tag
        let (socket, raw) = try Self.openSocket(endpoint)
        fd = socket
        guard let conversation = CheckConversation(target: target, endpoint: endpoint, rawICMP: raw) else {
            _ = Glibc.close(socket)
            throw SystemCallError("query", errno: EINVAL, context: "checking \(endpoint.name): the request cannot be encoded")
        }
        self.conversation = conversation
        if !endpoint.source.isDefault {
            do {
                // An ICMP socket's port is its echo identifier, not a source port: not bound.
                var source = endpoint.source
                if endpoint.transport == .icmp { source.port = nil }
                try source.prepare(socket, ipv6: endpoint.ipv6, stream: endpoint.transport == .stream,
                                   context: "checking \(endpoint.name)")
            } catch {
                close()
                throw error
            }
        }
        let started = endpoint.withSocketAddress { address, length in Glibc.connect(socket, address, length) }
        let code = errno
        // EINTR: the connect goes on in the background (POSIX), as for EINPROGRESS.
        if started < 0 && code != EINPROGRESS && code != EINTR {
            close()
            throw SystemCallError("connect", errno: code, context: "checking \(endpoint.name)")
        }
    }

    /// The check's socket, and whether it is a raw ICMP one. PING_CHECK takes a raw socket
    /// (the daemon runs as root) and falls back to an unprivileged ICMP datagram socket,
    /// which works without CAP_NET_RAW where net.ipv4.ping_group_range allows the group.
    private static func openSocket(_ endpoint: PlainEndpoint) throws(SystemCallError) -> (Int32, Bool) {
        let family = endpoint.ipv6 ? AF_INET6 : AF_INET
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let context = "checking \(endpoint.name)"
        switch endpoint.transport {
        case .stream:
            return (try systemCall("socket", context) { Glibc.socket(family, Int32(SOCK_STREAM.rawValue) | flags, 0) }, false)
        case .datagram:
            return (try systemCall("socket", context) { Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | flags, Int32(IPPROTO_UDP)) }, false)
        case .icmp:
            let proto = endpoint.ipv6 ? Int32(IPPROTO_ICMPV6) : Int32(IPPROTO_ICMP)
            let raw = Glibc.socket(family, Int32(SOCK_RAW.rawValue) | flags, proto)
            if raw >= 0 { return (raw, true) }
            return (try systemCall("socket", context) { Glibc.socket(family, Int32(SOCK_DGRAM.rawValue) | flags, proto) }, false)
        }
    }

    deinit { close() }

    /// Closes the socket; the check is over.
    func close() {
        guard fd >= 0 else { return }
        _ = Glibc.close(fd)
        fd = -1
    }

    var isOver: Bool { fd < 0 }

    /// What to poll for: writable while connecting or sending, readable after.
    var events: Int16 { stage == .reading ? Int16(POLLIN) : Int16(POLLOUT) }

    /// The socket is ready: does what can be done now. `scratch` receives answers; the
    /// engine lends one buffer to every check.
    func advance(scratch: UnsafeMutableRawBufferPointer) -> Step {
        switch stage {
        case .connecting:
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            if getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) < 0 { error = errno }
            guard error == 0 else { return .finished(.failure(failure("connect", error))) }
            switch conversation.opening {
            case .done:
                return .finished(.success)
            case .listen:
                stage = .reading
                return .wait(progressed: true)
            case .send(let message):
                outgoing = message
                stage = .sending(0)
                return send()
            }
        case .sending:
            return send()
        case .reading:
            return receive(scratch)
        }
    }

    private func failure(_ call: String, _ code: Int32) -> String {
        if code == ECONNREFUSED && endpoint.transport != .stream {
            return "\(endpoint.name): port unreachable (an ICMP error answered the datagram)"
        }
        return "\(call) \(endpoint.name): \(String(cString: strerror(code))) (errno \(code))"
    }

    private func send() -> Step {
        guard case .sending(let sent) = stage, sent < outgoing.count else {
            stage = .reading
            return .wait(progressed: true)
        }
        let count = outgoing.withUnsafeBytes { bytes in
            Glibc.send(fd, bytes.baseAddress.map { $0 + sent }, bytes.count - sent, Int32(MSG_NOSIGNAL))
        }
        if count < 0 {
            let code = errno
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR { return .wait(progressed: sent == 0) }
            return .finished(.failure(failure("send to", code)))
        }
        if endpoint.transport != .stream && count < outgoing.count {
            return .finished(.failure("send to \(endpoint.name): \(count) of \(outgoing.count) octets of the datagram went"))
        }
        // The connection is up (the first write), or the server took more of the request.
        stage = sent + count >= outgoing.count ? .reading : .sending(sent + count)
        return .wait(progressed: true)
    }

    /// Reads what has come, up to a few reads: an answer and the server's close usually
    /// arrive together, and reading the close now saves a pass.
    private func receive(_ scratch: UnsafeMutableRawBufferPointer) -> Step {
        var got = false
        for _ in 0..<8 {
            let count = recv(fd, scratch.baseAddress, scratch.count, 0)
            if count < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { break }
                return .finished(.failure(failure("receive from", code)))
            }
            // A stream's 0 is the server's close; a datagram's is an empty datagram.
            let outcome = count == 0 && endpoint.transport == .stream
                ? conversation.end(from: endpoint.name)
                : conversation.consume(UnsafeRawBufferPointer(rebasing: scratch[0..<count]), from: endpoint.name)
            switch outcome {
            case .needMore:
                // Part of a stream's answer earns a new connect_timeout; a datagram that was
                // not the answer (another socket's echo reply) does not, so a stream of
                // unrelated ICMP cannot hold a ping past its timeout.
                got = got || endpoint.transport == .stream
            case .send(let message):
                outgoing = message
                stage = .sending(0)
                return send()
            case .answered(let status, let body):
                return .finished(target.judge(status: status, body: body))
            case .finished(let result):
                return .finished(result)
            }
        }
        return .wait(progressed: got)
    }

    /// The result when the deadline passed while waiting for the server, if the check
    /// says what silence means; nil for the engine's usual timeout failure.
    var silenceResult: CheckResult? {
        stage == .reading ? conversation.silence(endpoint.name, timeout: target.connectTimeout) : nil
    }
}
