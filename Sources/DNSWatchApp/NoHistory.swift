public import DNSWatchModel
public import Store

/// The history of a database that does not exist yet (no SQLite file, or a PostgreSQL database no
/// writing command set up): nothing in it, on either backend, and nothing created to say so. What a
/// reading command shows, with its note, instead of opening a store that is not there.
public struct NoHistory: ServeReading {
    public init() {}

    public func history(domain: String, type: RRType?, since: Int64?, until: Int64?, source: SourceFilter?) async throws -> [SpanRecord] { [] }
    public func domainExists(_ name: String) async throws -> Bool { false }
    public func alerts(since: Int64?, minRank: Int) async throws -> [StoredAlert] { [] }
    public func triageReads(blocks: [CIDR], domains: [String], at: Int64?, now: Int64) async throws -> TriageReads { TriageReads() }
    public func domains(resolvingInto block: CIDR, atMost: Int?) async throws -> [AddressHit] { [] }
    public func memberships(of domains: [String]) async throws -> [String: [WatchedDomain]] { [:] }
    public func cachedASN(_ addresses: [String], now: Int64) async throws -> [String: ASNEntry] { [:] }
    public func rrsetSpans(_ name: NameMatch, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<SpanRecord> {
        LookupPages { _ in ([], nil) }
    }
    public func valueSpans(_ range: ValueKeyRange, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<ValueHit> {
        LookupPages { _ in ([], nil) }
    }
    public func watchedDomains(list: String?) async throws -> [WatchedDomain] { [] }
    public func alerts(domain: String) async throws -> [StoredAlert] { [] }
    public func latestAlerts(limit: Int) async throws -> [StoredAlert] { [] }
    public func state(of domain: String) async throws -> DomainState? { nil }
    public func watchedStates(_ filter: WatchedFilter) async throws -> [WatchedState] { [] }
    public func alerts(_ filter: AlertFilter) async throws -> [StoredAlert] { [] }
    public func explainReads(domain: String, transitions: Int) async throws -> ExplainReads? { nil }
    public func metricsReading(afterPoll: Int64, afterAlert: Int64) async throws -> MetricsReading {
        MetricsReading(polls: [], alerts: [], outboxPending: 0, watchedDomains: 0)
    }
}
