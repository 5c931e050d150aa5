public import DNSWatchModel

/// A span to start.
public struct NewSpan: Sendable {
    public var domainID: Int64
    public var rrtype: RRType
    public var status: AnswerStatus
    public var rdata: [String]
    public var `class`: DomainClass?
    public var provider: String?
    /// The resolver (`HOST:PORT`) whose answer starts the span (`spans.resolver`).
    public var resolver: String?
    public init(domainID: Int64, rrtype: RRType, status: AnswerStatus, rdata: [String], class cls: DomainClass?, provider: String?,
                resolver: String? = nil) {
        self.domainID = domainID
        self.rrtype = rrtype
        self.status = status
        self.rdata = rdata
        self.class = cls
        self.provider = provider
        self.resolver = resolver
    }
}

/// A domain's stored state.
public struct StoredState: Sendable, Equatable {
    public var state: DomainState
    public var classifierVersion: String?
    public init(state: DomainState, classifierVersion: String?) {
        self.state = state
        self.classifierVersion = classifierVersion
    }
}

/// Key of a current span.
public struct HeadKey: Hashable, Sendable {
    public var domainID: Int64
    public var rrtype: RRType
    public init(domainID: Int64, rrtype: RRType) {
        self.domainID = domainID
        self.rrtype = rrtype
    }
}

/// The current span of a (domain, rrtype).
public struct HeadSpan: Sendable, Equatable {
    public var spanID: Int64
    public var status: AnswerStatus
    /// The stored rdata text (sorted values joined by newlines): compared as it is on the hot path.
    public var rdataText: String
    public var `class`: DomainClass?
    public var provider: String?

    public var rdata: [String] { RdataCodec.decode(rdataText) }

    public init(spanID: Int64, status: AnswerStatus, rdataText: String, class cls: DomainClass?, provider: String?) {
        self.spanID = spanID
        self.status = status
        self.rdataText = rdataText
        self.class = cls
        self.provider = provider
    }

    /// Whether `answer` is this span's answer.
    public func matches(_ answer: Answer) -> Bool {
        status == answer.status && rdataText == RdataCodec.encode(answer.rdata)
    }
}

/// Counts of a poll run (also the one-line summary).
public struct PollCounts: Sendable, Equatable {
    public var domains = 0
    public var queries = 0
    public var answers = 0
    public var failures = 0
    public var changes = 0
    public var alerts = 0
    public init() {}

    public static func += (l: inout PollCounts, r: PollCounts) {
        l.domains += r.domains
        l.queries += r.queries
        l.answers += r.answers
        l.failures += r.failures
        l.changes += r.changes
        l.alerts += r.alerts
    }
}

/// One cached origin-ASN answer.
public struct ASNEntry: Sendable, Equatable {
    public var address: String
    public var asn: Int?
    public var prefix: String?
    public var country: String?
    public var registry: String?
    public init(address: String, asn: Int?, prefix: String? = nil, country: String? = nil, registry: String? = nil) {
        self.address = address
        self.asn = asn
        self.prefix = prefix
        self.country = country
        self.registry = registry
    }

}

/// A span's raw answer, for re-deriving its class.
public struct RawSpan: Sendable {
    public var id: Int64
    public var domainID: Int64
    public var rrtype: RRType
    public var status: AnswerStatus
    public var rdata: [String]

    /// A span's raw answer.
    public init(id: Int64, domainID: Int64, rrtype: RRType, status: AnswerStatus, rdata: [String]) {
        self.id = id
        self.domainID = domainID
        self.rrtype = rrtype
        self.status = status
        self.rdata = rdata
    }
}

// MARK: - A poll's write as a plan

/// What a poll remembers of a domain between polls: the hash of its last answers and its stored state.
public struct PollMemory: Sendable, Equatable {
    /// `domain_status.answer_hash`; nil when never polled (or polled without an answer, or when its last
    /// change was not confirmed).
    public var answerHash: Int64?
    /// `domain_state`; nil before the domain's first complete view.
    public var state: StoredState?
    /// `domain_alerting`; nil when there is nothing to remember.
    public var alerting: AlertingMemory?
    public init(answerHash: Int64?, state: StoredState?, alerting: AlertingMemory? = nil) {
        self.answerHash = answerHash
        self.state = state
        self.alerting = alerting
    }
}

/// What a poll remembers of a domain's alerting between polls (`domain_alerting`): its flap-damping penalty
/// and suppression, and the resolvers' disagreement over a change. The rules that read and write it are
/// Detection's `FlapDamping` and Poller's `PollPlanner`; the store keeps it as given.
public struct AlertingMemory: Sendable, Equatable {
    /// The damping penalty as of `penaltyTime` (it decays from there); stored rounded to a whole number.
    public var penalty: Double
    public var penaltyTime: Int64
    /// When alerts began to be held back; nil while the domain alerts.
    public var suppressedSince: Int64?
    /// The view last alerted before suppression began (JSON, as a transition's `to_view`).
    public var alertedViewJSON: String?
    /// Polls in a row whose change the resolvers did not confirm.
    public var disagreementPolls: Int
    /// Whether those polls raised their `disagreement` alert.
    public var disagreementAlerted: Bool
    /// The last unconfirmed observation (JSON: `UnconfirmedObservation`).
    public var unconfirmedJSON: String?

    public init(penalty: Double = 0, penaltyTime: Int64 = 0, suppressedSince: Int64? = nil, alertedViewJSON: String? = nil,
                disagreementPolls: Int = 0, disagreementAlerted: Bool = false, unconfirmedJSON: String? = nil) {
        self.penalty = penalty
        self.penaltyTime = penaltyTime
        self.suppressedSince = suppressedSince
        self.alertedViewJSON = alertedViewJSON
        self.disagreementPolls = disagreementPolls
        self.disagreementAlerted = disagreementAlerted
        self.unconfirmedJSON = unconfirmedJSON
    }
}

/// A domain's alerting memory to save (the row replaced whole).
public struct PlannedAlerting: Sendable, Equatable {
    public var domainID: Int64
    public var memory: AlertingMemory
    public init(domainID: Int64, memory: AlertingMemory) {
        self.domainID = domainID
        self.memory = memory
    }
}

/// Domains whose current spans of `types` were seen again unchanged.
public struct ExtendHeads: Sendable, Equatable {
    public var domainIDs: [Int64]
    public var types: [RRType]
    public init(domainIDs: [Int64], types: [RRType]) {
        self.domainIDs = domainIDs
        self.types = types
    }
}

/// A failed lookup: remembered per domain, never a span.
public struct PlannedFailure: Sendable, Equatable {
    public var domainID: Int64
    public var rrtype: RRType
    public var kind: FailureKind
    public init(domainID: Int64, rrtype: RRType, kind: FailureKind) {
        self.domainID = domainID
        self.rrtype = rrtype
        self.kind = kind
    }
}

/// A domain's state to save.
public struct PlannedState: Sendable, Equatable {
    public var domainID: Int64
    public var state: DomainState
    public init(domainID: Int64, state: DomainState) {
        self.domainID = domainID
        self.state = state
    }
}

/// The alert of a transition: for one list of the domain, queued for each sink.
public struct PlannedAlert: Sendable {
    public var domain: String
    public var list: String
    public var kind: ListKind
    /// The transition's type (`TransitionType.rawValue`).
    public var type: String
    public var severity: String
    public var severityRank: Int
    /// Sink keys: one delivery row each.
    public var sinks: [String]
    /// The alert's JSON, given the id the store gives the alert (the payload carries it).
    public var payload: @Sendable (Int64) throws -> String
    public init(domain: String, list: String, kind: ListKind, type: String, severity: String, severityRank: Int, sinks: [String],
                payload: @escaping @Sendable (Int64) throws -> String) {
        self.domain = domain
        self.list = list
        self.kind = kind
        self.type = type
        self.severity = severity
        self.severityRank = severityRank
        self.sinks = sinks
        self.payload = payload
    }
}

/// A transition to store, with its alert (none when the domain is on no list).
public struct PlannedTransition: Sendable {
    public var domainID: Int64
    /// `TransitionType.rawValue`.
    public var type: String
    /// Both sides' views as JSON.
    public var fromJSON: String
    public var toJSON: String
    public var alert: PlannedAlert?
    public init(domainID: Int64, type: String, fromJSON: String, toJSON: String, alert: PlannedAlert?) {
        self.domainID = domainID
        self.type = type
        self.fromJSON = fromJSON
        self.toJSON = toJSON
        self.alert = alert
    }
}

/// A domain marked polled.
public struct PolledDomain: Sendable, Equatable {
    public var domainID: Int64
    public var nextDue: Int64?
    /// Nil for a domain polled without asking (a special-use name).
    public var answerHash: Int64?
    public init(domainID: Int64, nextDue: Int64?, answerHash: Int64?) {
        self.domainID = domainID
        self.nextDue = nextDue
        self.answerHash = answerHash
    }
}

/// Everything one poll batch writes, decided before its transaction (Poller's `PollPlanner`, a pure function
/// of the batch's answers and the reads of `PollWrites`). The specification both backends implement:
/// `apply` writes all of it in ONE transaction, or nothing. Every row written carries `time` where the
/// schema has a time. Within each list, rows are written in the order given (ids are taken in that order).
/// The lists are disjoint by (domain, type): no domain is both in `extendHeads` and elsewhere with spans.
public struct WritePlan: Sendable {
    /// The poll run the batch belongs to.
    public var pollID: Int64
    /// The batch's write time (epoch seconds).
    public var time: Int64
    /// The classifier's version: `fp_version` of each started span and of each saved state.
    public var classifierVersion: String
    /// For each group: the current span (head) of each (domain, type) with the domain in `domainIDs` and
    /// the type in `types` gets `time_last = time` and `count + 1` (PostgreSQL: its running sighting in
    /// `heads`). A (domain, type) without a head is skipped.
    public var extendHeads: [ExtendHeads]
    /// Spans (each a current one) seen again: `time_last = time`, `count + 1` (PostgreSQL: their heads'
    /// running sighting).
    public var extendSpans: [Int64]
    /// New spans (`time_first = time_last = time`, `count = 1`, `fp_version = classifierVersion`, a polled
    /// span: no source), their inverse-index rows (`ValueKey.keys`), and each becomes the head of its
    /// (domain, rrtype), replacing the one before (whose span stops being current). At most one per
    /// (domain, rrtype). Ids ascend in the list's order.
    public var startSpans: [NewSpan]
    /// Failed lookups, at most one per domain: `domain_status` gets `last_failure = time`,
    /// `last_failure_type`, `last_failure_kind` (the row created if missing; its other columns kept).
    public var failures: [PlannedFailure]
    /// States to save, at most one per domain: `domain_state` gets class, provider, `updated = time`,
    /// `fp_version = classifierVersion`; `since = time` for a new row or a changed class or provider, else
    /// kept.
    public var states: [PlannedState]
    /// Transitions, stored with `poll_id = pollID` and `time`, in order; each alert is stored after its
    /// transition (`transition_id`, `time`, its fields, its payload built by `payload(alertID)`) and queued
    /// with one `deliveries` row per sink key (a duplicate key: one row). PostgreSQL gives alert ids in
    /// commit order (its alerts lock).
    public var transitions: [PlannedTransition]
    /// Domains polled: `domain_status` gets `last_polled = time`, `next_due`, `answer_hash` (the row
    /// created if missing; its failure columns kept). At most one per domain.
    public var polled: [PolledDomain]
    /// Alerting memories to save, at most one per domain: the `domain_alerting` row replaced whole.
    public var alerting: [PlannedAlerting] = []
    /// Added to the poll run's counts (`polls` row `pollID`).
    public var counts: PollCounts

    public init(pollID: Int64, time: Int64, classifierVersion: String, extendHeads: [ExtendHeads] = [], extendSpans: [Int64] = [],
                startSpans: [NewSpan] = [], failures: [PlannedFailure] = [], states: [PlannedState] = [],
                transitions: [PlannedTransition] = [], polled: [PolledDomain] = [], counts: PollCounts = PollCounts()) {
        self.pollID = pollID
        self.time = time
        self.classifierVersion = classifierVersion
        self.extendHeads = extendHeads
        self.extendSpans = extendSpans
        self.startSpans = startSpans
        self.failures = failures
        self.states = states
        self.transitions = transitions
        self.polled = polled
        self.counts = counts
    }
}

/// A poll's reads before its batch's write, and the write: what `Poller` needs of a store besides
/// `PollStore`'s claims and runs. Every read is of committed data and outside the write's transaction:
/// a batch's domains are its own (the poll lock on SQLite, the claim's lease on PostgreSQL), so what is
/// read stays true until the plan is applied.
public protocol PollWrites: Sendable {
    /// The answer hash and stored state of each of these domains that exists (one entry per domain, with
    /// nil fields for a domain never polled).
    func pollMemory(domainIDs: [Int64]) async throws -> [Int64: PollMemory]
    /// The current polled span of each (domain, rrtype) of these domains.
    func heads(domainIDs: [Int64]) async throws -> [HeadKey: HeadSpan]
    /// Every address (A and AAAA rdata, as stored) each of these domains has ever resolved to in dnswatch's
    /// own polls (imported records never count): one entry per domain asked, empty when none.
    func addressesEverSeen(domainIDs: [Int64]) async throws -> [Int64: Set<String>]
    /// Cached origin ASNs of these addresses, expired or not (classification uses what was known); an
    /// address cached without an ASN is absent.
    func cachedASNs(_ addresses: [String]) async throws -> [String: Int]
    /// Applies `plan` in one transaction (semantics: `WritePlan`). On PostgreSQL it commits only while
    /// `claim`'s lease holds (and releases it); else it throws `LeaseLost` and writes nothing.
    func apply(_ plan: WritePlan, claim: ClaimedTargets) async throws
}
