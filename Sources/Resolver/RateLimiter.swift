/// A token bucket per resolver for `queriesPerSecondPerResolver`.
struct RateLimiter {
    private var tokens: [Double]
    private var last: [UInt64]
    private let rate: Double
    private let burst: Double

    init(servers: Int, perSecond: Double) {
        rate = perSecond
        burst = max(1, perSecond / 20)
        tokens = Array(repeating: 1, count: servers)
        last = Array(repeating: monotonicNanos(), count: servers)
    }

    /// Takes a token for `server`, or returns the nanoseconds until one is available.
    mutating func take(server: Int, now: UInt64) -> UInt64? {
        if let wait = peek(server: server, now: now) { return wait }
        consume(server: server)
        return nil
    }

    /// Refills `server`'s bucket up to `now`; nil when a token is available, else the nanoseconds until one is.
    mutating func peek(server: Int, now: UInt64) -> UInt64? {
        if now > last[server] {
            tokens[server] = min(burst, tokens[server] + Double(now - last[server]) / 1e9 * rate)
            last[server] = now
        }
        if tokens[server] >= 1 { return nil }
        return UInt64((1 - tokens[server]) / rate * 1e9) + 1
    }

    /// Uses one of `server`'s tokens (after `peek` said one is there).
    mutating func consume(server: Int) {
        tokens[server] -= 1
    }
}
