import CCurl
import HTTPClient
import LinuxNet
#if canImport(Glibc)
import Glibc
#endif

/// Runs many checks at once on one thread: a batch of 500 checks costs one thread and one
/// poll loop, not 500 threads. Plain checks (HTTP without TLS, TCP connects, to an
/// address) run on the engine's own non-blocking sockets, as keepalived's checker runs
/// them; SSL_GET runs on libcurl's multi interface. One poll waits for both.
public final class CheckEngine {
    private let multi: UnsafeMutableRawPointer?

    public init() {
        _ = Curl.version   // curl_global_init, once
        multi = curl_multi_init()
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    }

    deinit {
        for (easy, (_, context)) in running {
            curl_multi_remove_handle(multi, easy)
            curl_easy_cleanup(easy)
            context.release()
        }
        for easy in spare { curl_easy_cleanup(easy) }
        curl_multi_cleanup(multi)
        for check in plainChecks { check.close() }
        scratch.deallocate()
    }

    // The plain checks' state; their code is in CheckEngine+Plain.swift.
    /// Plain checks in flight, in the order their sockets are polled.
    var plainChecks: [PlainCheck] = []
    /// Plain checks started since the last pass: their connect deadline starts at the next.
    var unarmed: [PlainCheck] = []
    /// What the poll waits on: one entry per plain check (libcurl adds its own sockets).
    var waitSet: [curl_waitfd] = []
    /// Plain checks whose socket was ready in this pass.
    var ready: [PlainCheck] = []
    /// Where plain checks read their answers, one buffer lent to each in turn.
    let scratch: UnsafeMutableRawBufferPointer

    /// Finished easy handles kept for the next checks: at 1,000 real servers a second,
    /// allocating and freeing libcurl's per-transfer state was a visible part of the CPU.
    /// `curl_easy_reset` clears every option; connections are never reused (FORBID_REUSE).
    private var spare: [UnsafeMutableRawPointer] = []
    private static let spareLimit = 4096

    private func recycle(_ easy: UnsafeMutableRawPointer) {
        curl_multi_remove_handle(multi, easy)
        if spare.count < Self.spareLimit {
            curl_easy_reset(easy)
            spare.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    /// A libcurl transfer's deadline entry: which easy handle, and which transfer on it
    /// (handles are reused).
    struct DeadlineKey: Sendable {
        var easy: Int
        var serial: Int
    }

    /// Whose deadline an entry of the queue is.
    enum DeadlineOwner: Sendable {
        case curl(DeadlineKey)
        case plain(PlainCheck)
    }

    /// The time of the current pass and the deadlines of the checks in flight. Callbacks
    /// during a pass use the pass's time: one clock read per pass serves them all (under
    /// emulation a clock read is a trapped system call).
    final class Deadlines {
        var passTime: Double = 0
        var queue = DueQueue<DeadlineOwner>()
    }

    private final class Transfer {
        let target: CheckTarget
        let tag: Int
        let key: DeadlineKey
        let deadlines: Deadlines
        /// When the server must have been heard from; infinite while connecting (libcurl's
        /// connect timeout bounds that stage).
        var deadline = Double.infinity
        var body: [UInt8] = []
        var headers: UnsafeMutablePointer<curl_slist>?
        /// Why the socket-option callback refused the socket (its mark, interface or bind).
        var socketFailure: String?
        init(target: CheckTarget, tag: Int, key: DeadlineKey, deadlines: Deadlines) {
            self.target = target
            self.tag = tag
            self.key = key
            self.deadlines = deadlines
        }
        deinit { if let headers { curl_slist_free_all(headers) } }

        /// The server did its part of a stage (the connection is up and the request goes
        /// out, or part of the answer came in): it has a whole connect_timeout again for the
        /// next, as keepalived re-arms its timer at each stage.
        func progressed() {
            let next = deadlines.passTime + target.connectTimeout
            guard next != deadline else { return }
            deadline = next
            deadlines.queue.push(next, .curl(key))
        }
    }

    private var running: [UnsafeMutableRawPointer: (Transfer, Unmanaged<Transfer>)] = [:]
    let deadlines = Deadlines()
    private var serial = 0

    /// Checks started and not finished yet.
    public var inFlight: Int { running.count + plainChecks.count }
    /// Passes over the transfers (`perform` calls that had checks in flight).
    public internal(set) var passes = 0
    /// Transfers in flight summed over the passes: libcurl visits each of them on every
    /// pass, so this over `passes` is what a pass costs.
    public internal(set) var transfersVisited = 0
    /// Checks finished (whatever their result), and how many of them failed.
    public internal(set) var finishedCount = 0
    public internal(set) var failedCount = 0
    /// Checks that timed out: nothing heard for connect_timeout (the connect, or a wait
    /// for the answer), or the backstop for a trickling answer.
    public internal(set) var timeouts = 0

    /// The time (monotonic seconds) the last pass began: what the caller can use for the
    /// checks that pass finished, instead of reading the clock again for each.
    public var passTime: Double { deadlines.passTime }

    /// Starts a check; its result comes out of `perform` when it finishes, with `tag`.
    public func start(_ target: CheckTarget, tag: Int = 0) -> CheckResult? {
        if let endpoint = target.plain { return startPlain(target, endpoint, tag: tag) }
        if target.kind.isEngineOnly {
            finishedCount += 1
            failedCount += 1
            return .failure("\(target.url): not an address and port this check can reach")
        }
        guard let easy = spare.popLast() ?? curl_easy_init() else { return .failure("curl_easy_init failed") }
        serial &+= 1
        let transfer = Transfer(target: target, tag: tag, key: DeadlineKey(easy: Int(bitPattern: easy), serial: serial),
                                deadlines: deadlines)
        let context = Unmanaged.passRetained(transfer)
        configure(easy, transfer, context)
        curl_multi_add_handle(multi, easy)
        running[easy] = (transfer, context)
        return nil
    }

    /// Drives every check in flight, waiting up to `waitMilliseconds` for activity, and
    /// returns the checks that finished, by id. Every check ends by its own timeout.
    ///
    /// One pass over the checks per call: one poll over every socket in flight, then
    /// `curl_multi_perform` (which visits every libcurl transfer) and the plain checks
    /// whose socket is ready. A check just started needs no pass of its own first: a plain
    /// check's socket is polled from its start, and `curl_multi_poll` returns at once
    /// while a new libcurl transfer is due (a pass before the poll doubled the passes).
    ///
    /// Answers before deadlines: the pass reads whatever the servers sent, and only then
    /// are the checks whose deadline had passed before the pass began timed out. libcurl's
    /// own whole-transfer timeout is checked before a transfer's socket is read, so a
    /// checker that was late to look (descheduled, or behind at 1,000 servers) failed
    /// servers whose answer was already waiting; each such false failure is a retry, then
    /// a real server marked down and an IPVS change, which made an overloaded checker
    /// spiral. libcurl's timeouts stay as the connect stage's bound (which it checks after
    /// trying the connect) and as a backstop for a server that trickles.
    public func perform(waitMilliseconds: Int32) -> [FinishedCheck] {
        var finished: [FinishedCheck] = []
        guard !running.isEmpty || !plainChecks.isEmpty else { return finished }
        var wait = waitMilliseconds
        // Entries of finished checks (most of them: an answer takes milliseconds) must not
        // wake the poll; dropping them from the top costs O(log n) each, once.
        while let (time, key) = deadlines.queue.first, !isCurrent(key, time) { _ = deadlines.queue.popDue(at: time) }
        var now: Double?
        if !unarmed.isEmpty {
            let time = Self.now()
            now = time
            armPlainChecks(at: time)
        }
        if let earliest = deadlines.queue.earliest {
            let time = now ?? Self.now()
            wait = min(wait, Int32(max(0, min(Double(Int32.max), (earliest - time) * 1000).rounded(.up))))
        }
        poll(waitMilliseconds: wait)
        deadlines.passTime = Self.now()
        passes += 1
        transfersVisited += running.count + plainChecks.count
        if !running.isEmpty {
            var active: Int32 = 0
            curl_multi_perform(multi, &active)
            collect(into: &finished)
        }
        advancePlainChecks(into: &finished)
        expire(into: &finished)
        finishedCount += finished.count
        failedCount += finished.reduce(0) { $0 + ($1.result.succeeded ? 0 : 1) }
        return finished
    }

    /// Waits for the plain checks' sockets and libcurl's at once. Without libcurl
    /// transfers, a plain poll(2): libcurl's own would add its wake-up pipe and timers.
    private func poll(waitMilliseconds wait: Int32) {
        waitSet.removeAll(keepingCapacity: true)
        for check in plainChecks { waitSet.append(curl_waitfd(fd: check.fd, events: check.events, revents: 0)) }
        let count = waitSet.count
        let curlRunning = !running.isEmpty
        waitSet.withUnsafeMutableBufferPointer { set in
            if curlRunning { _ = curl_multi_poll(multi, set.baseAddress, UInt32(count), wait, nil) }
            // curl_waitfd is laid out as pollfd: fd, events, revents. After libcurl's poll,
            // one more that does not wait: libcurl passes back only some of the events (not
            // POLLERR or POLLHUP), and a plain check must see a failed connect at once.
            guard let base = set.baseAddress else { return }
            _ = base.withMemoryRebound(to: pollfd.self, capacity: count) { Glibc.poll($0, nfds_t(count), curlRunning ? 0 : wait) }
        }
    }

    /// Whether a deadline entry is still its transfer's deadline (not finished, not moved).
    private func isCurrent(_ owner: DeadlineOwner, _ time: Double) -> Bool {
        switch owner {
        case .plain(let check):
            return !check.isOver && check.deadline == time
        case .curl(let key):
            guard let easy = UnsafeMutableRawPointer(bitPattern: key.easy), let (transfer, _) = running[easy] else { return false }
            return transfer.key.serial == key.serial && transfer.deadline == time
        }
    }

    /// Times out the checks whose deadline passed before this pass began: the pass has
    /// read their sockets, and nothing had come.
    private func expire(into finished: inout [FinishedCheck]) {
        let now = deadlines.passTime
        while let (time, owner) = deadlines.queue.popDue(at: now) {
            guard isCurrent(owner, time) else { continue }
            guard case .curl(let key) = owner else {
                if case .plain(let check) = owner { timeOut(check, into: &finished) }
                continue
            }
            guard let easy = UnsafeMutableRawPointer(bitPattern: key.easy), let (transfer, context) = running[easy] else { continue }
            running.removeValue(forKey: easy)
            finished.append(FinishedCheck(id: transfer.target.id, tag: transfer.tag, result: .failure(Self.timeoutReason(transfer.target))))
            timeouts += 1
            recycle(easy)
            context.release()
        }
    }

    static func timeoutReason(_ target: CheckTarget) -> String {
        "Timeout: the server sent nothing for connect_timeout (\(target.connectTimeout) s)"
    }

    private func collect(into finished: inout [FinishedCheck]) {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                  let (transfer, context) = running.removeValue(forKey: easy) else { continue }
            let code = message.pointee.data.result
            if code == CURLE_OPERATION_TIMEDOUT { timeouts += 1 }   // the connect's bound, or the backstop
            finished.append(FinishedCheck(id: transfer.target.id, tag: transfer.tag, result: outcome(easy, transfer, code: code)))
            recycle(easy)
            context.release()
        }
    }

    /// Runs every target concurrently and returns when all have finished.
    public func run(_ targets: [CheckTarget]) -> [String: CheckResult] {
        var results: [String: CheckResult] = [:]
        for target in targets { if let failed = start(target) { results[target.id] = failed } }
        let deadline = Self.now() + Self.backstopFactor * (targets.map(\.connectTimeout).max() ?? 0) + 5
        while inFlight > 0 && Self.now() < deadline {
            for check in perform(waitMilliseconds: 100) { results[check.id] = check.result }
        }
        for (easy, (transfer, context)) in running {
            results[transfer.target.id] = .failure("check did not finish")
            recycle(easy)
            context.release()
        }
        running.removeAll()
        for check in plainChecks {
            results[check.target.id] = .failure("check did not finish")
            check.close()
        }
        plainChecks.removeAll()
        return results
    }

    /// libcurl's whole-transfer timeout in connect_timeouts: the connect, the answer, and
    /// room for an answer in several parts.
    static let backstopFactor: Double = 3

    /// Monotonic seconds (CLOCK_MONOTONIC).
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private func configure(_ easy: UnsafeMutableRawPointer, _ transfer: Transfer, _ context: Unmanaged<Transfer>) {
        let target = transfer.target
        let timeoutMs = max(1, Int(target.connectTimeout * 1000))
        overcast_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        // keepalived's connect_timeout bounds each stage of a check (the connect, then each
        // wait for the answer), not the whole. libcurl bounds the connect (and a TLS
        // handshake); `perform` bounds the waits; libcurl's whole-transfer timeout is only
        // the backstop for a server that trickles its answer.
        overcast_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, timeoutMs)
        overcast_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(Self.backstopFactor) * timeoutMs)
        overcast_curl_setopt_long(easy, CURLOPT_FORBID_REUSE, 1)
        // Real servers are addresses, so there is nothing to resolve, yet libcurl keeps a
        // DNS cache entry per host for 60 s and walks the whole cache on every transfer
        // to expire old ones: at 1,000 real servers that walk was the largest single cost
        // in libcurl (found with perf). No cache, no walk.
        overcast_curl_setopt_long(easy, CURLOPT_DNS_CACHE_TIMEOUT, 0)
        // Real servers are checked directly, as keepalived does: a proxy in the daemon's
        // environment (for the EC2 API, say) must not carry the checks. It also spares
        // libcurl five environment lookups per check.
        overcast_curl_setopt_string(easy, CURLOPT_NOPROXY, "*")
        // bindto, bind_port, bind_if, fwmark: set on libcurl's socket as on the engine's
        // own, before libcurl connects it (libcurl 7.88's CURLOPT_INTERFACE cannot take an
        // interface and an address at once, and binds no port with an interface).
        if !target.source.isDefault {
            overcast_curl_setopt_pointer(easy, CURLOPT_SOCKOPTDATA, context.toOpaque())
            overcast_curl_setopt_sockopt_function(easy) { user, fd, _ in
                guard let user else { return 1 }   // CURL_SOCKOPT_ERROR
                let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
                var domain: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                _ = getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length)
                do {
                    try transfer.target.source.prepare(fd, ipv6: domain == AF_INET6, stream: true, context: "checking \(transfer.target.url)")
                    return 0   // CURL_SOCKOPT_OK
                } catch {
                    transfer.socketFailure = "\(error)"
                    return 1
                }
            }
        }
        switch target.kind {
        case .tcpConnect:
            let address = target.url.hasPrefix("tcp://") ? "http://" + target.url.dropFirst(6) : target.url
            overcast_curl_setopt_string(easy, CURLOPT_URL, address)
            overcast_curl_setopt_long(easy, CURLOPT_CONNECT_ONLY, 1)
        case .ping, .udp, .dns, .smtp:
            break   // never here: `start` runs them on the engine's sockets
        case .http:
            overcast_curl_setopt_string(easy, CURLOPT_URL, target.url)
            overcast_curl_setopt_pointer(easy, CURLOPT_PREREQDATA, context.toOpaque())
            overcast_curl_setopt_prereq_function(easy) { user, _, _, _, _ in
                if let user { Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue().progressed() }
                return 0   // CURL_PREREQFUNC_OK
            }
            // keepalived does not verify the real servers' certificates.
            overcast_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 0)
            overcast_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 0)
            overcast_curl_setopt_pointer(easy, CURLOPT_WRITEDATA, context.toOpaque())
            overcast_curl_setopt_write_function(easy) { data, size, count, user in
                guard let user, let data else { return 0 }
                let transfer = Unmanaged<Transfer>.fromOpaque(user).takeUnretainedValue()
                transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
                transfer.progressed()
                return size * count
            }
            if let host = target.virtualHost {
                transfer.headers = curl_slist_append(nil, "Host: \(host)")
                overcast_curl_setopt_pointer(easy, CURLOPT_HTTPHEADER, UnsafeMutableRawPointer(transfer.headers))
            }
        }
    }

    private func outcome(_ easy: UnsafeMutableRawPointer, _ transfer: Transfer, code: CURLcode) -> CheckResult {
        guard code == CURLE_OK else {
            return .failure(transfer.socketFailure ?? String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        overcast_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return transfer.target.judge(status: status, body: transfer.body)
    }
}
