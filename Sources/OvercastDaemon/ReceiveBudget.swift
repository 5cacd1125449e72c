/// How many packets of the second receive lane (what the in-kernel prefilter says cannot
/// be a peer's advertisement) the instance's loop reads: a token bucket, so a flood costs
/// at most `rate` packets of work a second. The rest overflow the lane's socket queue in
/// the kernel, where they cost the daemon nothing and are still counted
/// (`queue_drops_other`). The peers' lane is never budgeted.
///
/// 10,000 a second is a thousand times what honest peers send one instance at
/// advert_int 0.01 (the smallest VRRPv3 allows), and reading them costs a small share of
/// one core.
struct ReceiveBudget {
    var rate: Double = 10_000
    var burst: Double = 1_000
    private var tokens: Double
    private var updated: UInt64

    init(now: UInt64, rate: Double = 10_000, burst: Double = 1_000) {
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.updated = now
    }

    private mutating func refill(_ now: UInt64) {
        guard now > updated else { return }
        tokens = min(burst, tokens + Double(now - updated) / 1e9 * rate)
        updated = now
    }

    /// Packets that may be read now (at most `batch`: the loop checks its timers and the
    /// peers' lane between batches).
    mutating func allowance(now: UInt64, batch: Int = 64) -> Int {
        refill(now)
        return min(batch, Int(tokens))
    }

    mutating func spend(_ count: Int) { tokens = max(0, tokens - Double(count)) }

    /// When the loop may read again, once the budget is spent: when a whole batch has
    /// refilled (waking for every single token would cost more than the packets); nil
    /// while tokens remain (the loop then waits on the lane's socket).
    mutating func resumeTime(now: UInt64, batch: Int = 64) -> UInt64? {
        refill(now)
        guard tokens < 1 else { return nil }
        let wanted = min(Double(batch), burst)
        return now + UInt64(((wanted - tokens) / rate * 1e9).rounded(.up))
    }
}
