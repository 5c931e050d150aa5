public import DNSWatchModel

/// Due domains handed to one poller: on SQLite the poll lock covers them; on PostgreSQL they are leased
/// (`lease` names the claim, which the batch's commit must still hold).
public struct ClaimedTargets: Sendable {
    public var targets: [PollTarget]
    /// The lease token of a PostgreSQL claim; nil on SQLite.
    public var lease: Int64?
    public init(targets: [PollTarget], lease: Int64?) {
        self.targets = targets
        self.lease = lease
    }
}

/// A batch whose lease was lost (expired and claimed by another poller) before it could commit: it was
/// discarded, and the other poller records those domains.
public struct LeaseLost: Error, Sendable, CustomStringConvertible {
    public var domains: Int
    public init(domains: Int) { self.domains = domains }
    public var description: String { "lease lost on \(domains) domain(s): the batch was discarded (another poller took them over)" }
}

/// What a poll needs of the store, on either backend: due work, poll runs, the batch's reads and its write
/// as a plan (`PollWrites`), the origin-ASN cache and the alert outbox.
public protocol PollStore: PollWrites {
    /// Brings due times forward where a domain's interval got shorter since it was polled.
    func clampDueTimes(defaults: PollInterval.Defaults) async throws
    /// How many domains a poll would visit (for progress).
    func countTargets(dueAt: Int64?) async throws -> Int
    /// The next watched domains with id greater than `afterID`, at most `limit` (due by `dueAt` if set),
    /// claimed for this poller (`poller`) for `lease` seconds where domains are shared.
    func claimTargets(afterID: Int64, limit: Int, dueAt: Int64?, poller: String, lease: Int64) async throws -> ClaimedTargets
    /// Starts a poll run of `poller`; returns its id.
    func beginPoll(at time: Int64, resolvers: String, poller: String) async throws -> Int64
    /// Marks a poll run finished.
    func finishPoll(_ id: Int64, at time: Int64) async throws
    /// How many batch transactions a poll may run at once (SQLite has one writer).
    var concurrentBatchWrites: Int { get }
    /// Cached origin-ASN answers not yet expired at `now`.
    func cachedASN(_ addresses: [String], now: Int64) async throws -> [String: ASNEntry]
    /// Saves origin-ASN answers in one transaction: `entries` kept for `ttl` seconds, the addresses with no
    /// origin known (`none`) for `negativeTTL`.
    func saveASN(_ entries: [ASNEntry], none: [ASNEntry], at time: Int64, ttl: Int64, negativeTTL: Int64) async throws
    /// Undelivered alerts for these sink keys, oldest first, claimed for `poller` where several pollers
    /// share the outbox (no two pollers get the same delivery).
    func pendingDeliveries(sinks: [String], poller: String) async throws -> [QueuedDelivery]
    /// Records one delivery attempt (and ends its claim).
    func recordDelivery(alertID: Int64, sink: String, at time: Int64, error: String?) async throws
    /// The pollers that polled this store (`dnswatch pollers`), by name, each with its last poll run.
    func pollers() async throws -> [PollerInfo]
}

/// One poller as `dnswatch pollers` shows it: its name, when it was last seen, how many domains it has
/// claimed in all, and its last poll run. Listed: every poller with a recorded poll run (a poll that
/// found nothing due records none), on either backend.
public struct PollerInfo: Sendable, Equatable {
    public var name: String
    /// The latest time of its runs (a finish, or an unfinished run's start), on the poll's clock; epoch seconds.
    public var lastSeen: Int64
    public var claimed: Int64
    public var lastPoll: PollRun?
    public init(name: String, lastSeen: Int64, claimed: Int64, lastPoll: PollRun?) {
        self.name = name
        self.lastSeen = lastSeen
        self.claimed = claimed
        self.lastPoll = lastPoll
    }
}

/// A recorded poll run.
public struct PollRun: Sendable, Equatable {
    public var id: Int64
    public var started: Int64
    /// Nil for a run that never finished (its process was killed).
    public var finished: Int64?
    public var counts: PollCounts
    public init(id: Int64, started: Int64, finished: Int64?, counts: PollCounts) {
        self.id = id
        self.started = started
        self.finished = finished
        self.counts = counts
    }
}

/// A watched domain as a poll sees it: its id, name and active memberships.
public struct PollTarget: Sendable, Equatable {
    public var domainID: Int64
    public var name: String
    public var memberships: [Membership]
    public init(domainID: Int64, name: String, memberships: [Membership]) {
        self.domainID = domainID
        self.name = name
        self.memberships = memberships
    }
}

/// A domain's place on a list, with the list's kind and interval.
public struct Membership: Sendable, Equatable {
    public var list: String
    public var kind: ListKind
    public var interval: Int?
    public init(list: String, kind: ListKind, interval: Int?) {
        self.list = list
        self.kind = kind
        self.interval = interval
    }
}
