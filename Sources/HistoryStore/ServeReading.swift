public import DNSWatchModel

/// A range of the inverse index `span_values`: keys from `low` to `high` (`high` itself only when
/// `inclusiveHigh`).
public struct ValueKeyRange: Sendable, Hashable {
    public var low: [UInt8]
    public var high: [UInt8]
    public var inclusiveHigh: Bool

    public init(low: [UInt8], high: [UInt8], inclusiveHigh: Bool) {
        self.low = low
        self.high = high
        self.inclusiveHigh = inclusiveHigh
    }
}

/// What `serve` (and `daemon --listen`) reads, on either backend: the passive-DNS lookups, the REST API's
/// and the web page's reads, and `/metrics`. SQLite (`HistoryStore`) and PostgreSQL (`PostgresStore`) give
/// the same rows in the same order, so that every endpoint answers the same bytes from both.
public protocol ServeReading: HistoryReading, InvestigationReading {
    /// The NOERROR spans of the names that match, with a record type or any, inside the fence, in
    /// `SpanRecord.rrsetOrder`; each page is whole domains (`SpanRecord.rrsetDomainsPerPage`).
    func rrsetSpans(_ name: NameMatch, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<SpanRecord>
    /// The NOERROR spans with a value in one range of the inverse index (of `type`, or A, AAAA, NS and
    /// CNAME), inside the fence, one hit per (span, value): ordered by key, then domain id and span id.
    func valueSpans(_ range: ValueKeyRange, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<ValueHit>
    /// Active memberships, ordered by list then domain (by their bytes).
    func watchedDomains(list: String?) async throws -> [WatchedDomain]
    /// A domain's alerts, oldest first (by time, then id).
    func alerts(domain: String) async throws -> [StoredAlert]
    /// The latest alerts, newest first.
    func latestAlerts(limit: Int) async throws -> [StoredAlert]
    /// A domain's stored state, if it was ever polled with an answer.
    func state(of domain: String) async throws -> DomainState?
    /// What `/metrics` reads at one scrape (see ``MetricsReading``).
    func metricsReading(afterPoll: Int64, afterAlert: Int64) async throws -> MetricsReading
}

extension HistoryStore: ServeReading {}

extension ServeReading {
    /// `rrsetSpans` with the usual page size.
    public func rrsetSpans(_ name: NameMatch, type: RRType? = nil, fence: TimeFence = .none) -> LookupPages<SpanRecord> {
        rrsetSpans(name, type: type, fence: fence, pageSize: HistoryStore.lookupPageSize)
    }

    /// The NOERROR A and AAAA spans that held an address inside `block`, inside the fence, one hit per
    /// (span, address): ordered by address, then domain and span. A range scan of `span_values`; for an
    /// IPv4 block (or an IPv4-mapped IPv6 one) a second range finds AAAA values that map into it
    /// (`::ffff:192.0.2.9` is 192.0.2.9).
    public func addressSpans(in block: CIDR, fence: TimeFence = .none, pageSize: Int = HistoryStore.lookupPageSize) -> LookupPages<ValueHit> {
        let block = block.unmapped
        let (low, high) = ValueKey.range(of: block)
        let direct = valueSpans(ValueKeyRange(low: low, high: high, inclusiveHigh: true), type: nil, fence: fence, pageSize: pageSize)
        guard block.network.isIPv4, let mapped = block.mapped else { return direct }
        let (mappedLow, mappedHigh) = ValueKey.range(of: mapped)
        return .chained(direct, valueSpans(ValueKeyRange(low: mappedLow, high: mappedHigh, inclusiveHigh: true), type: nil, fence: fence,
                                           pageSize: pageSize))
    }

    /// The NOERROR NS and CNAME spans that held a name matching, inside the fence (`type` NS or CNAME, or
    /// both): ordered by the reversed name, then span.
    public func nameSpans(holding name: NameMatch, type: RRType? = nil, fence: TimeFence = .none,
                          pageSize: Int = HistoryStore.lookupPageSize) -> LookupPages<ValueHit> {
        switch name {
        case .exact(let n):
            let key = ValueKey.name(n)
            return valueSpans(ValueKeyRange(low: key, high: key, inclusiveHigh: true), type: type, fence: fence, pageSize: pageSize)
        case .subdomains(let suffix):
            let (low, high) = ValueKey.subdomainRange(of: suffix)
            return valueSpans(ValueKeyRange(low: low, high: high, inclusiveHigh: false), type: type, fence: fence, pageSize: pageSize)
        }
    }
}
