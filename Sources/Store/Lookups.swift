public import DNSWatchModel

/// A name to look up: exactly, or every name strictly under a suffix (a left-hand wildcard `*.suffix`).
/// Names are normalised (lower case, A-labels, no trailing dot).
public enum NameMatch: Sendable, Hashable {
    case exact(String)
    case subdomains(of: String)
}

/// Time fences of a passive-DNS query, inclusive, on a span's first and last sighting (epoch seconds).
public struct TimeFence: Sendable, Hashable {
    public var firstBefore: Int64?
    public var firstAfter: Int64?
    public var lastBefore: Int64?
    public var lastAfter: Int64?

    public init(firstBefore: Int64? = nil, firstAfter: Int64? = nil, lastBefore: Int64? = nil, lastAfter: Int64? = nil) {
        self.firstBefore = firstBefore
        self.firstAfter = firstAfter
        self.lastBefore = lastBefore
        self.lastAfter = lastAfter
    }

    public static let none = TimeFence()

    public func admits(first: Int64, last: Int64) -> Bool {
        (firstBefore.map { first <= $0 } ?? true) && (firstAfter.map { first >= $0 } ?? true)
            && (lastBefore.map { last <= $0 } ?? true) && (lastAfter.map { last >= $0 } ?? true)
    }

}

/// A span found through one of its values: the address or name that matched, and whether the span is
/// its domain's current one.
public struct ValueHit: Sendable, Equatable {
    public var span: SpanRecord
    /// The matched value as stored: an address's text, or a name without its trailing dot.
    public var value: String
    public var current: Bool

    public init(span: SpanRecord, value: String, current: Bool) {
        self.span = span
        self.value = value
        self.current = current
    }
}

/// Where the next page of a lookup starts, as the backend that read the last page says it.
public enum LookupCursor: Sendable, Hashable {
    /// After this domain, by reversed name (the pages of rrset lookups are whole domains).
    case afterName(String)
    /// After this row of the inverse index (key, domain, span).
    case afterValue(key: [UInt8], domain: Int64, span: Int64)
    /// In part `part` of chained lookups (0, then 1), where `inner` says (nil: at its start).
    indirect case part(Int, LookupCursor?)
}

/// Pages of a lookup, read one at a time as the consumer asks (a slow client holds back the reads, never
/// the memory): each page is one read transaction, found by a range scan that starts where the last
/// page ended.
public struct LookupPages<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Fetch = @Sendable (LookupCursor?) async throws -> (page: [Element], next: LookupCursor?)
    let fetch: Fetch

    /// Pages read by `fetch`: given where to start (nil: at the start), a page and where the next one
    /// starts (nil: that was the last).
    public init(fetch: @escaping Fetch) {
        self.fetch = fetch
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let fetch: Fetch
        var cursor: LookupCursor?
        var done = false

        public mutating func next() async throws -> [Element]? {
            while !done {
                let (page, next) = try await fetch(cursor)
                cursor = next
                done = next == nil
                if !page.isEmpty { return page }
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(fetch: fetch) }

    /// The pages of `first`, then those of `second` (the cursor says which, then where in it).
    static func chained(_ first: LookupPages, _ second: LookupPages) -> LookupPages {
        LookupPages { cursor in
            var part = 0, inner: LookupCursor? = nil
            if case .part(let p, let c)? = cursor { (part, inner) = (p, c) }
            let (page, next) = try await (part == 0 ? first : second).fetch(inner)
            if let next { return (page, .part(part, next)) }
            return (page, part == 0 ? .part(1, nil) : nil)
        }
    }

    /// Every element, in order (for the CLI, which prints a table of all of them).
    public func collect() async throws -> [Element] {
        var out: [Element] = []
        for try await page in self { out += page }
        return out
    }
}

extension SpanRecord {
    /// The order of an rrset lookup's spans, on both backends: by reversed name, then record type, rdata,
    /// source (polled first) and first sighting, so that the spans of one (name, type, rdata, source) are
    /// consecutive and aggregating them needs only the current group.
    public static func rrsetOrder(_ a: (rname: String, span: SpanRecord), _ b: (rname: String, span: SpanRecord)) -> Bool {
        if a.rname != b.rname { return a.rname < b.rname }
        if a.span.rrtype != b.span.rrtype { return a.span.rrtype < b.span.rrtype }
        if a.span.rdata != b.span.rdata { return a.span.rdata.lexicographicallyPrecedes(b.span.rdata) }
        if a.span.source != b.span.source { return SpanRecord.sourceOrder(a.span.source, b.span.source) }
        return (a.span.timeFirst, a.span.id) < (b.span.timeFirst, b.span.id)
    }

    /// Domains per page of an rrset lookup of `pageSize` rows (a domain's spans are few).
    public static func rrsetDomainsPerPage(_ pageSize: Int) -> Int { max(1, pageSize / 8) }
}

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
/// and the web page's reads, and `/metrics`. SQLite (`SQLiteStore`) and PostgreSQL (`PostgresStore`) give
/// the same rows in the same order, so that every endpoint answers the same bytes from both.
public protocol ServeReading: HistoryReading, InvestigationReading, FindingReading, ExplainReading {
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

extension ServeReading {
    /// Rows a lookup reads at a time: memory stays bounded on a block or a name with any number of spans.
    public static var lookupPageSize: Int { 2000 }

    /// `rrsetSpans` with the usual page size.
    public func rrsetSpans(_ name: NameMatch, type: RRType? = nil, fence: TimeFence = .none) -> LookupPages<SpanRecord> {
        rrsetSpans(name, type: type, fence: fence, pageSize: Self.lookupPageSize)
    }

    /// The NOERROR A and AAAA spans that held an address inside `block`, inside the fence, one hit per
    /// (span, address): ordered by address, then domain and span. A range scan of `span_values`; for an
    /// IPv4 block (or an IPv4-mapped IPv6 one) a second range finds AAAA values that map into it
    /// (`::ffff:192.0.2.9` is 192.0.2.9).
    public func addressSpans(in block: CIDR, fence: TimeFence = .none, pageSize: Int = Self.lookupPageSize) -> LookupPages<ValueHit> {
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
                          pageSize: Int = Self.lookupPageSize) -> LookupPages<ValueHit> {
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
