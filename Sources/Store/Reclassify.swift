public import DNSWatchModel

/// A span's class derived again (from its raw answer, by the classifier of `ReclassifyPlan.classifierVersion`).
public struct SpanClassUpdate: Sendable, Equatable {
    public var spanID: Int64
    public var `class`: DomainClass
    public var provider: String?
    public init(spanID: Int64, class cls: DomainClass, provider: String?) {
        self.spanID = spanID
        self.class = cls
        self.provider = provider
    }
}

/// A domain's stored state, as `reclassify` read it.
public struct DomainStateRow: Sendable, Equatable {
    public var domainID: Int64
    public var stored: StoredState
    public init(domainID: Int64, stored: StoredState) {
        self.domainID = domainID
        self.stored = stored
    }
}

/// A domain's state derived again, and the stored state it replaces: it is written only while the domain's
/// stored state is still `stored` (a poll that wrote one since, on PostgreSQL where polls go on, keeps its own,
/// derived from fresher answers). As a poll's state write, a changed class or provider resets `since`.
public struct StateUpdate: Sendable, Equatable {
    public var domainID: Int64
    public var stored: StoredState
    public var state: DomainState
    public init(domainID: Int64, stored: StoredState, state: DomainState) {
        self.domainID = domainID
        self.stored = stored
        self.state = state
    }
}

/// What one batch of `reclassify` writes, decided before its transaction (Poller's `Reclassifier`): span
/// classes and domain states, each stamped with the classifier's version; states updated `at`.
public struct ReclassifyPlan: Sendable, Equatable {
    public var classifierVersion: String
    public var at: Int64
    public var spanClasses: [SpanClassUpdate]
    public var states: [StateUpdate]
    public init(classifierVersion: String, at time: Int64, spanClasses: [SpanClassUpdate] = [], states: [StateUpdate] = []) {
        self.classifierVersion = classifierVersion
        self.at = time
        self.spanClasses = spanClasses
        self.states = states
    }
}

/// A store `reclassify` can run on. Reads come first, outside any transaction; a batch's `ReclassifyPlan` is
/// applied in one transaction. On SQLite the caller holds the poll lock (no poll interleaves); on PostgreSQL
/// pollers go on: spans' answers never change (their classes can be derived again at any time), and a state
/// is written only where no poll wrote one since it was read. The rule of what is derived again is Poller's
/// `Reclassifier`.
public protocol ReclassifyStore: Sendable {
    /// Spans (polled and imported) with an id above `afterID`, by id, at most `limit`.
    func reclassifySpans(afterID: Int64, limit: Int) async throws -> [RawSpan]
    /// Domains with a stored state and an id above `afterID`, by id, at most `limit`, with that state.
    func reclassifyStates(afterID: Int64, limit: Int) async throws -> [DomainStateRow]
    /// The current polled span of each (domain, rrtype) of these domains (as `PollWrites.heads`: one
    /// implementation).
    func heads(domainIDs: [Int64]) async throws -> [HeadKey: HeadSpan]
    /// Cached origin ASNs of these addresses, expired or not (as `PollWrites.cachedASNs`: one implementation).
    func cachedASNs(_ addresses: [String]) async throws -> [String: Int]
    /// Applies `plan` in one transaction; returns the domains whose state it wrote (those of `plan.states`
    /// whose stored state was still the one read).
    func applyReclassify(_ plan: ReclassifyPlan) async throws -> Set<Int64>
}
