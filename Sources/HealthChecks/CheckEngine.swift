import CCurl
import HTTPClient
#if canImport(Glibc)
import Glibc
#endif

/// What one check asks of a real server.
public struct CheckTarget: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// HTTP_GET or SSL_GET: status (any 2xx when empty) and optional MD5 digest of the body.
        case http(expectedStatus: Set<Int>, digest: String?)
        /// TCP_CHECK: the TCP connection is made.
        case tcpConnect
    }
    public var id: String
    /// `http://ADDR:PORT/PATH`, `https://...`, or `tcp://ADDR:PORT` for a TCP check.
    public var url: String
    public var virtualHost: String?
    public var connectTimeout: Double
    public var kind: Kind

    public init(id: String, url: String, virtualHost: String? = nil, connectTimeout: Double, kind: Kind) {
        self.id = id
        self.url = url
        self.virtualHost = virtualHost
        self.connectTimeout = connectTimeout
        self.kind = kind
    }
}

public enum CheckResult: Sendable, Hashable {
    case success
    case failure(String)
    public var succeeded: Bool { self == .success }
}

/// A check that finished: its target's id, the caller's tag from `start`, and the result.
public struct FinishedCheck: Sendable, Hashable {
    public var id: String
    /// Whatever the caller passed to `start`: the daemon's checker slot, so finding the
    /// owner of a result costs an integer, not a hash of the target's long id.
    public var tag: Int
    public var result: CheckResult
    public init(id: String, tag: Int, result: CheckResult) {
        self.id = id
        self.tag = tag
        self.result = result
    }
}

/// Runs many checks at once on one thread with libcurl's multi interface: a batch of
/// 500 HTTP checks costs one thread and one poll loop, not 500 threads.
public final class CheckEngine {
    private let multi: UnsafeMutableRawPointer?

    public init() {
        _ = Curl.version   // curl_global_init, once
        multi = curl_multi_init()
    }

    deinit {
        for (easy, (_, context)) in running {
            curl_multi_remove_handle(multi, easy)
            curl_easy_cleanup(easy)
            context.release()
        }
        for easy in spare { curl_easy_cleanup(easy) }
        curl_multi_cleanup(multi)
    }

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

    /// A deadline's entry: which easy handle, and which transfer on it (handles are reused).
    private struct DeadlineKey: Sendable {
        var easy: Int
        var serial: Int
    }

    /// The time of the current pass and the deadlines of the checks in flight. Callbacks
    /// during a pass use the pass's time: one clock read per pass serves them all (under
    /// emulation a clock read is a trapped system call).
    private final class Deadlines {
        var passTime: Double = 0
        var queue = DueQueue<DeadlineKey>()
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
            deadlines.queue.push(next, key)
        }
    }

    private var running: [UnsafeMutableRawPointer: (Transfer, Unmanaged<Transfer>)] = [:]
    private let deadlines = Deadlines()
    private var serial = 0

    /// Checks started and not finished yet.
    public var inFlight: Int { running.count }
    /// Passes over the transfers (`perform` calls that had checks in flight).
    public private(set) var passes = 0
    /// Transfers in flight summed over the passes: libcurl visits each of them on every
    /// pass, so this over `passes` is what a pass costs.
    public private(set) var transfersVisited = 0
    /// Checks finished (whatever their result), and how many of them failed.
    public private(set) var finishedCount = 0
    public private(set) var failedCount = 0
    /// Checks that timed out: nothing heard for connect_timeout (the connect, or a wait
    /// for the answer), or the backstop for a trickling answer.
    public private(set) var timeouts = 0

    /// The time (monotonic seconds) the last pass began: what the caller can use for the
    /// checks that pass finished, instead of reading the clock again for each.
    public var passTime: Double { deadlines.passTime }

    /// Starts a check; its result comes out of `perform` when it finishes, with `tag`.
    public func start(_ target: CheckTarget, tag: Int = 0) -> CheckResult? {
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
    /// One pass over the transfers per call: `curl_multi_perform` visits every transfer
    /// in flight, so a pass costs O(in flight). A check just started needs no pass of its
    /// own first, because `curl_multi_poll` returns at once while a new transfer is due
    /// (a pass before the poll, as the first version made, doubled the passes).
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
        guard !running.isEmpty else { return finished }
        var wait = waitMilliseconds
        // Entries of finished checks (most of them: an answer takes milliseconds) must not
        // wake the poll; dropping them from the top costs O(log n) each, once.
        while let (time, key) = deadlines.queue.first, !isCurrent(key, time) { _ = deadlines.queue.popDue(at: time) }
        if let earliest = deadlines.queue.earliest {
            wait = min(wait, Int32(max(0, min(Double(Int32.max), (earliest - Self.now()) * 1000).rounded(.up))))
        }
        curl_multi_poll(multi, nil, 0, wait, nil)
        deadlines.passTime = Self.now()
        passes += 1
        transfersVisited += running.count
        var active: Int32 = 0
        curl_multi_perform(multi, &active)
        collect(into: &finished)
        expire(into: &finished)
        finishedCount += finished.count
        failedCount += finished.reduce(0) { $0 + ($1.result.succeeded ? 0 : 1) }
        return finished
    }

    /// Whether a deadline entry is still its transfer's deadline (not finished, not moved).
    private func isCurrent(_ key: DeadlineKey, _ time: Double) -> Bool {
        guard let easy = UnsafeMutableRawPointer(bitPattern: key.easy), let (transfer, _) = running[easy] else { return false }
        return transfer.key.serial == key.serial && transfer.deadline == time
    }

    /// Times out the checks whose deadline passed before this pass began: the pass has
    /// read their sockets, and nothing had come.
    private func expire(into finished: inout [FinishedCheck]) {
        let now = deadlines.passTime
        while let (time, key) = deadlines.queue.popDue(at: now) {
            guard isCurrent(key, time), let easy = UnsafeMutableRawPointer(bitPattern: key.easy),
                  let (transfer, context) = running[easy] else { continue }
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
        while !running.isEmpty && Self.now() < deadline {
            for check in perform(waitMilliseconds: 100) { results[check.id] = check.result }
        }
        for (easy, (transfer, context)) in running {
            results[transfer.target.id] = .failure("check did not finish")
            recycle(easy)
            context.release()
        }
        running.removeAll()
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
        // Plain HTTP sends its request in one write on a fresh connection, which Nagle never
        // delays (a TCP check writes nothing); without TCP_NODELAY libcurl skips a
        // setsockopt per check (17 -> 16 system calls, counted with strace; system calls
        // are most of a check's cost under emulation). TLS keeps it: its handshake writes
        // more than once, and Nagle could hold a write for the server's delayed ACK.
        if !target.url.hasPrefix("https://") { overcast_curl_setopt_long(easy, CURLOPT_TCP_NODELAY, 0) }
        switch target.kind {
        case .tcpConnect:
            let address = target.url.hasPrefix("tcp://") ? "http://" + target.url.dropFirst(6) : target.url
            overcast_curl_setopt_string(easy, CURLOPT_URL, address)
            overcast_curl_setopt_long(easy, CURLOPT_CONNECT_ONLY, 1)
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
            return .failure(String(cString: curl_easy_strerror(code)))
        }
        guard case .http(let expected, let digest) = transfer.target.kind else { return .success }
        var status = 0
        overcast_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let statusOK = expected.isEmpty ? (200...299).contains(status) : expected.contains(status)
        guard statusOK else { return .failure("HTTP status \(status)") }
        if let digest {
            let actual = MD5.hex(transfer.body)
            guard actual == digest.lowercased() else { return .failure("digest \(actual), expected \(digest)") }
        }
        return .success
    }
}
