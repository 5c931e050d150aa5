public import DNSWatchModel

/// What `dnswatch explain` (and the web page's domain view) reads of one domain, on either backend: its
/// stored state, its current answers, its last transitions, what polls remember of its alerting, and its
/// polling times. SQLite (`SQLiteStore`, Explain.swift) and PostgreSQL (`PostgresStore`, Explain.swift) give
/// the same rows in the same order. The rules that read them (decay, evidence) are Investigation's.
public protocol ExplainReading: Sendable {
    /// The rows of `domain` (normalised name), with its `transitions` latest transitions; nil when no such
    /// domain is stored (never watched, never imported).
    func explainReads(domain: String, transitions: Int) async throws -> ExplainReads?
}

/// A domain's stored state with when it began.
public struct ExplainedState: Sendable, Equatable {
    public var state: DomainState
    /// When the domain entered this state.
    public var since: Int64

    public init(state: DomainState, since: Int64) {
        self.state = state
        self.since = since
    }
}

/// One stored transition, as written (its views are JSON: Detection's `DomainView`).
public struct StoredTransition: Sendable, Equatable {
    public var id: Int64
    public var time: Int64
    public var type: String
    public var fromViewJSON: String
    public var toViewJSON: String

    public init(id: Int64, time: Int64, type: String, fromViewJSON: String, toViewJSON: String) {
        self.id = id
        self.time = time
        self.type = type
        self.fromViewJSON = fromViewJSON
        self.toViewJSON = toViewJSON
    }
}

/// A domain's polling times and its last failed lookup (`domain_status`).
public struct PollingStatus: Sendable, Equatable {
    public var lastPolled: Int64?
    public var nextDue: Int64?
    public var lastFailure: Int64?
    /// The record type of the last failed lookup.
    public var lastFailureType: String?
    /// What went wrong (timeout, servfail, ...), as the poll stored it.
    public var lastFailureKind: String?

    public init(lastPolled: Int64? = nil, nextDue: Int64? = nil, lastFailure: Int64? = nil, lastFailureType: String? = nil,
                lastFailureKind: String? = nil) {
        self.lastPolled = lastPolled
        self.nextDue = nextDue
        self.lastFailure = lastFailure
        self.lastFailureType = lastFailureType
        self.lastFailureKind = lastFailureKind
    }
}

/// The rows `explainReads(domain:transitions:)` gives.
public struct ExplainReads: Sendable, Equatable {
    public var domain: String
    /// nil: no state yet (never polled with an answer).
    public var state: ExplainedState?
    /// The domain's current polled spans (its heads), by record type.
    public var current: [SpanRecord]
    /// The latest transitions, newest first (by time, then id, both descending).
    public var transitions: [StoredTransition]
    /// What polls remember of its alerting; nil: nothing yet.
    public var alerting: AlertingMemory?
    public var status: PollingStatus

    public init(domain: String, state: ExplainedState?, current: [SpanRecord], transitions: [StoredTransition], alerting: AlertingMemory?,
                status: PollingStatus) {
        self.domain = domain
        self.state = state
        self.current = current
        self.transitions = transitions
        self.alerting = alerting
        self.status = status
    }
}
