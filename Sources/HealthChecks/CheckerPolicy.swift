/// One real server's checker as keepalived runs it, as a value: events in, actions out,
/// time injected. A check runs every `delayLoop`, counted from when the previous check
/// was due so that an answer's time does not stretch the interval (keepalived counts
/// from the end, which at 1,000 servers on a busy host drifts by each check's time); a failure is retried `retry` times,
/// `delayBeforeRetry` apart, before the server is marked down; one success marks it up
/// again. The first check waits a random part of `warmup` (spreading many checkers), and
/// `alpha` starts the server down until its first success.
public struct CheckerPolicy: Sendable, Hashable {
    public struct Settings: Sendable, Hashable {
        public var delayLoop: Duration
        public var retry: Int
        public var delayBeforeRetry: Duration
        public var warmup: Duration
        public var alpha: Bool
        public init(delayLoop: Duration, retry: Int = 1, delayBeforeRetry: Duration = .seconds(1),
                    warmup: Duration = .zero, alpha: Bool = false) {
            self.delayLoop = delayLoop
            self.retry = retry
            self.delayBeforeRetry = delayBeforeRetry
            self.warmup = warmup
            self.alpha = alpha
        }
    }

    public enum Event: Sendable, Hashable {
        /// `warmupFraction` in 0...1 is the caller's random draw (injected for tests).
        case start(warmupFraction: Double)
        case succeeded
        case failed(String)
    }

    /// What a `runCheck` delay counts from.
    public enum Anchor: Sendable, Hashable {
        /// From now: the first check and retries after a failure.
        case now
        /// From when the check that just finished was due: the regular `delayLoop` cadence
        /// (never earlier than now, so a late loop does not fire a burst to catch up; the
        /// monitor falls back to counting from now when the check itself was slow).
        case previousRun
    }

    public enum Action: Sendable, Hashable {
        case runCheck(after: Duration, from: Anchor)
        case markUp
        case markDown(reason: String)
    }

    public let settings: Settings
    public private(set) var isUp: Bool
    /// Consecutive failures of the current round.
    public private(set) var failures = 0

    public init(settings: Settings) {
        self.settings = settings
        self.isUp = !settings.alpha
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .start(let fraction):
            failures = 0
            let f = min(1, max(0, fraction))
            return [.runCheck(after: settings.warmup * f, from: .now)]
        case .succeeded:
            failures = 0
            let wasUp = isUp
            isUp = true
            return (wasUp ? [] : [.markUp]) + [.runCheck(after: settings.delayLoop, from: .previousRun)]
        case .failed(let reason):
            failures += 1
            if failures <= settings.retry {
                return [.runCheck(after: settings.delayBeforeRetry, from: .now)]
            }
            failures = 0
            let wasUp = isUp
            isUp = false
            return (wasUp ? [.markDown(reason: reason)] : []) + [.runCheck(after: settings.delayLoop, from: .previousRun)]
        }
    }
}
