import DNSWatchModel

/// A finished poll run, as `/metrics` counts it: once, by id.
public struct FinishedPoll: Sendable, Equatable {
    public var id: Int64
    public var started: Int64
    public var finished: Int64
    public var queries: Int
    public var answers: Int
    public var failures: Int

    public init(id: Int64, started: Int64, finished: Int64, queries: Int, answers: Int, failures: Int) {
        self.id = id
        self.started = started
        self.finished = finished
        self.queries = queries
        self.answers = answers
        self.failures = failures
    }
}

/// How many alerts of one stored (type, severity, rank) were raised, and the last one's id.
public struct AlertTally: Sendable, Equatable {
    public var type: String
    public var severity: String
    public var severityRank: Int
    public var count: Int
    public var lastID: Int64

    public init(type: String, severity: String, severityRank: Int, count: Int, lastID: Int64) {
        self.type = type
        self.severity = severity
        self.severityRank = severityRank
        self.count = count
        self.lastID = lastID
    }
}

/// What `/metrics` reads at one scrape, in one read transaction: the polls and alerts added since the
/// last scrape (by id: counters only grow), and the current gauges.
public struct MetricsReading: Sendable, Equatable {
    /// Finished polls with an id above the one asked, in id order.
    public var polls: [FinishedPoll]
    /// Alerts with an id above the one asked, by (type, severity, rank).
    public var alerts: [AlertTally]
    /// Deliveries still pending, all sinks.
    public var outboxPending: Int
    /// Domains on at least one list (active memberships).
    public var watchedDomains: Int

    public init(polls: [FinishedPoll], alerts: [AlertTally], outboxPending: Int, watchedDomains: Int) {
        self.polls = polls
        self.alerts = alerts
        self.outboxPending = outboxPending
        self.watchedDomains = watchedDomains
    }
}
