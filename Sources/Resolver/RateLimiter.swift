/// A token bucket: refilled at a rate given at each look, up to `burst`; a query takes one token. Serves
/// both the `--qps` cap (a fixed rate) and each resolver's pacing (a rate from its window and round trip).
struct TokenBucket {
    private(set) var tokens: Double
    let burst: Double
    private var last: UInt64

    init(burst: Double, tokens: Double, now: UInt64) {
        self.burst = burst
        self.tokens = tokens
        last = now
    }

    /// Refills at `rate` tokens a second up to `now`; nil when a token is available, else the nanoseconds
    /// until one is.
    mutating func wait(now: UInt64, rate: Double) -> UInt64? {
        if now > last {
            tokens = min(burst, tokens + Double(now - last) / 1e9 * rate)
            last = now
        }
        if tokens >= 1 { return nil }
        return UInt64((1 - tokens) / rate * 1e9) + 1
    }

    /// Uses a token (after `wait` said one is there).
    mutating func consume() {
        tokens -= 1
    }
}

/// A token bucket per resolver for `queriesPerSecondPerResolver`.
struct RateLimiter {
    private var buckets: [TokenBucket]
    private let rate: Double

    init(servers: Int, perSecond: Double) {
        rate = perSecond
        let now = monotonicNanos()
        buckets = Array(repeating: TokenBucket(burst: max(1, perSecond / 20), tokens: 1, now: now), count: servers)
    }

    /// Refills `server`'s bucket up to `now`; nil when a token is available, else the nanoseconds until one is.
    mutating func peek(server: Int, now: UInt64) -> UInt64? {
        buckets[server].wait(now: now, rate: rate)
    }

    /// Uses one of `server`'s tokens (after `peek` said one is there).
    mutating func consume(server: Int) {
        buckets[server].consume()
    }
}
