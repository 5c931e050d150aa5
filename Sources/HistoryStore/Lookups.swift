public import DNSWatchModel
import Foundation
import GRDB

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

    /// The SQL condition on `s.time_first` / `s.time_last`, with its arguments.
    var sql: (String, StatementArguments) {
        var parts: [String] = []
        var args = StatementArguments()
        if let t = firstBefore { parts.append("s.time_first <= ?"); args += [t] }
        if let t = firstAfter { parts.append("s.time_first >= ?"); args += [t] }
        if let t = lastBefore { parts.append("s.time_last <= ?"); args += [t] }
        if let t = lastAfter { parts.append("s.time_last >= ?"); args += [t] }
        return (parts.isEmpty ? "1" : parts.joined(separator: " AND "), args)
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

extension HistoryStore {
    /// Rows of a page.
    public static let lookupPageSize = 2000

    public func rrsetSpans(_ name: NameMatch, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<SpanRecord> {
        LookupPages { cursor in
            try await self.read { db in
                // A page is whole domains (a domain's spans are few), found by their reversed name.
                var domainSQL = "SELECT id, name, rname FROM domains WHERE "
                var args = StatementArguments()
                switch name {
                case .exact(let n):
                    domainSQL += "rname = ?"
                    args += [ValueKey.reversedName(n)]
                case .subdomains(let suffix):
                    let (low, high) = ValueKey.subdomainNameRange(of: suffix)
                    domainSQL += "rname >= ? AND rname < ?"
                    args += [low, high]
                }
                if case .afterName(let last)? = cursor {
                    domainSQL += " AND rname > ?"
                    args += [last]
                }
                let perPage = SpanRecord.rrsetDomainsPerPage(pageSize)
                domainSQL += " ORDER BY rname LIMIT \(perPage)"
                let domains = try Row.fetchAll(db, sql: domainSQL, arguments: args)
                guard let lastDomain = domains.last else { return ([], nil) }
                let (fenceSQL, fenceArgs) = fence.sql
                var spanArgs = StatementArguments(domains.map { $0[0] as Int64 })
                var typeSQL = ""
                if let type {
                    typeSQL = " AND s.rrtype = ?"
                    spanArgs += [type]
                }
                spanArgs += fenceArgs
                let marks = placeholders(domains.count)
                let names = Dictionary(uniqueKeysWithValues: domains.map { ($0[0] as Int64, ($0[1] as String, $0[2] as String)) })
                var spans = try Row.fetchAll(db, sql: """
                    SELECT s.domain_id, s.*, \(SpanRecord.sourceColumn) FROM spans s
                    WHERE s.domain_id IN (\(marks)) AND s.status = 'NOERROR'\(typeSQL) AND \(fenceSQL)
                    """, arguments: spanArgs).map { row in
                    (rname: names[row[0]]?.1 ?? "", span: try SpanRecord(row: row, domain: names[row[0]]?.0 ?? ""))
                }
                spans.sort(by: SpanRecord.rrsetOrder)
                let more = domains.count == perPage
                return (spans.map(\.span), more ? .afterName(lastDomain[2]) : nil)
            }
        }
    }

    public func valueSpans(_ range: ValueKeyRange, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<ValueHit> {
        let (low, high) = (range.low, range.high)
        return LookupPages { cursor in
            try await self.read { db in
                let upper = range.inclusiveHigh ? "<=" : "<"
                func select(_ keyCondition: String, _ keyArgs: StatementArguments, limit: Int) throws -> [Row] {
                    var args = keyArgs
                    var sql = """
                        SELECT v.key, v.domain_id, v.span_id, d.name AS domain, s.*, \(SpanRecord.sourceColumn), EXISTS (SELECT 1 FROM heads h WHERE h.span_id = s.id) AS current
                        FROM span_values v JOIN spans s ON s.id = v.span_id JOIN domains d ON d.id = s.domain_id
                        WHERE \(keyCondition)
                        """
                    if let type {
                        sql += " AND s.rrtype = ?"
                        args += [type]
                    }
                    let (fenceSQL, fenceArgs) = fence.sql
                    sql += " AND \(fenceSQL) ORDER BY v.key, v.domain_id, v.span_id LIMIT \(limit)"
                    args += fenceArgs
                    return try Row.fetchAll(db, sql: sql, arguments: args)
                }
                var rows: [Row]
                if case .afterValue(let key, let domain, let span)? = cursor {
                    // Resume after the last row: the rest of its key (an equality and a row-value range, which
                    // SQLite seeks to), then the keys after it. One row-value range over all three columns
                    // would be only a filter, and each page would rescan a busy key from its start.
                    rows = try select("v.key = ? AND (v.domain_id, v.span_id) > (?, ?)", [Data(key), domain, span], limit: pageSize)
                    if rows.count < pageSize {
                        rows += try select("v.key > ? AND v.key \(upper) ?", [Data(key), Data(high)], limit: pageSize - rows.count)
                    }
                } else {
                    rows = try select("v.key >= ? AND v.key \(upper) ?", [Data(low), Data(high)], limit: pageSize)
                }
                let hits = try rows.map { row -> ValueHit in
                    let key: Data = row[0]
                    return ValueHit(span: try SpanRecord(row: row), value: try ValueKey.text(of: Array(key)), current: row["current"])
                }
                guard rows.count == pageSize, let last = rows.last else { return (hits, nil) }
                let key: Data = last[0]
                return (hits, .afterValue(key: Array(key), domain: last[1], span: last[2]))
            }
        }
    }
}
