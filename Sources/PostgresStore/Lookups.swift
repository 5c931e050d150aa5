public import DNSWatchModel
public import Store
import Logging
import NIOCore
import PostgresNIO

/// What `serve` reads, on PostgreSQL: SQLite's statements of `SQLiteStore` (Lookups.swift, Queries.swift,
/// Metrics.swift) ported to give the same rows in the same order, so that every endpoint answers the same.
///
/// Names and keys compare by their bytes as on SQLite: `rname` with the `text_pattern_ops` operators
/// (`~<~`, `~>=~`, ..., which the index `domains_by_rname` serves, whatever the database's collation), keys
/// as BYTEA. Each page is one statement, resumed after the last row it returned (`LookupCursor`).
extension PostgresStore: ServeReading {
    public func rrsetSpans(_ name: NameMatch, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<SpanRecord> {
        let perPage = SpanRecord.rrsetDomainsPerPage(pageSize)
        return LookupPages { cursor in
            try await self.connection("looking up the rrsets of \(name)") { connection in
                var binds = PostgresBindings()
                var condition: String
                switch name {
                case .exact(let n):
                    binds.append(ValueKey.reversedName(n))
                    condition = "rname = $1"
                case .subdomains(let suffix):
                    let (low, high) = ValueKey.subdomainNameRange(of: suffix)
                    binds.append(low)
                    binds.append(high)
                    condition = "rname ~>=~ $1 AND rname ~<~ $2"
                }
                if case .afterName(let last)? = cursor {
                    binds.append(last)
                    condition += " AND rname ~>~ $\(binds.count)"
                }
                var domains: [(id: Int64, name: String, rname: String)] = []
                let found = try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT id, name, rname FROM domains WHERE \(condition) ORDER BY rname USING ~<~ LIMIT \(perPage)
                    """, binds: binds), logger: self.logger)
                for try await (id, name, rname) in found.decode((Int64, String, String).self) { domains.append((id, name, rname)) }
                guard let lastDomain = domains.last else { return ([], nil) }

                var spanBinds = PostgresBindings()
                spanBinds.append(domains.map(\.id))
                spanBinds.append(type?.rawValue)
                let fenceSQL = Self.fence(fence, into: &spanBinds)
                let names = Dictionary(uniqueKeysWithValues: domains.map { ($0.id, ($0.name, $0.rname)) })
                var spans: [(rname: String, span: SpanRecord)] = []
                let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT s.domain_id, \(Self.spanColumns) FROM spans_seen s
                    WHERE s.domain_id = ANY($1) AND s.status = 'NOERROR' AND (CAST($2 AS TEXT) IS NULL OR s.rrtype = $2) AND \(fenceSQL)
                    """, binds: spanBinds), logger: self.logger)
                for try await row in rows {
                    let c = row.makeRandomAccess()
                    guard let (domain, rname) = names[try c[0].decode(Int64.self)] else {
                        throw Failure("\(self.url): a span of a domain not asked for")
                    }
                    spans.append((rname, try Self.span(c, at: 1, domain: domain)))
                }
                spans.sort(by: SpanRecord.rrsetOrder)
                return (spans.map(\.span), domains.count == perPage ? .afterName(lastDomain.rname) : nil)
            }
        }
    }

    public func valueSpans(_ range: ValueKeyRange, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<ValueHit> {
        LookupPages { cursor in
            try await self.connection("looking up the history of values") { connection in
                let upper = range.inclusiveHigh ? "<=" : "<"
                /// The rows of one key condition (its binds first), in the primary key's order.
                func select(_ keyCondition: String, _ keyBinds: PostgresBindings, limit: Int) async throws -> [(key: [UInt8], domainID: Int64, hit: ValueHit)] {
                    var binds = keyBinds
                    binds.append(type?.rawValue)
                    let typeSQL = "(CAST($\(binds.count) AS TEXT) IS NULL OR s.rrtype = $\(binds.count))"
                    let fenceSQL = Self.fence(fence, into: &binds)
                    let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                        SELECT v.key, v.domain_id, d.name, \(Self.spanColumns), EXISTS (SELECT 1 FROM heads h WHERE h.span_id = s.id)
                        FROM span_values v JOIN spans_seen s ON s.id = v.span_id JOIN domains d ON d.id = s.domain_id
                        WHERE \(keyCondition) AND \(typeSQL) AND \(fenceSQL)
                        ORDER BY v.key, v.domain_id, v.span_id LIMIT \(limit)
                        """, binds: binds), logger: self.logger)
                    var out: [(key: [UInt8], domainID: Int64, hit: ValueHit)] = []
                    for try await row in rows {
                        let c = row.makeRandomAccess()
                        var buffer = try c[0].decode(ByteBuffer.self)
                        let key = buffer.readBytes(length: buffer.readableBytes) ?? []
                        let span = try Self.span(c, at: 3, domain: try c[2].decode(String.self))
                        out.append((key, try c[1].decode(Int64.self),
                                    ValueHit(span: span, value: try ValueKey.text(of: key), current: try c[14].decode(Bool.self))))
                    }
                    return out
                }
                var rows: [(key: [UInt8], domainID: Int64, hit: ValueHit)]
                if case .afterValue(let key, let domain, let span)? = cursor {
                    // The rest of the last row's key, then the keys after it (as on SQLite: two index ranges).
                    var binds = PostgresBindings()
                    binds.append(ByteBuffer(bytes: key))
                    binds.append(domain)
                    binds.append(span)
                    rows = try await select("v.key = $1 AND (v.domain_id, v.span_id) > ($2, $3)", binds, limit: pageSize)
                    if rows.count < pageSize {
                        var after = PostgresBindings()
                        after.append(ByteBuffer(bytes: key))
                        after.append(ByteBuffer(bytes: range.high))
                        rows += try await select("v.key > $1 AND v.key \(upper) $2", after, limit: pageSize - rows.count)
                    }
                } else {
                    var binds = PostgresBindings()
                    binds.append(ByteBuffer(bytes: range.low))
                    binds.append(ByteBuffer(bytes: range.high))
                    rows = try await select("v.key >= $1 AND v.key \(upper) $2", binds, limit: pageSize)
                }
                guard rows.count == pageSize, let last = rows.last else { return (rows.map(\.hit), nil) }
                return (rows.map(\.hit), .afterValue(key: last.key, domain: last.domainID, span: last.hit.span.id))
            }
        }
    }

    public func alerts(domain: String) async throws -> [StoredAlert] {
        try await storedAlerts("reading the alerts of \(domain)", "WHERE domain = $1 ORDER BY time, id", domain)
    }

    public func latestAlerts(limit: Int) async throws -> [StoredAlert] {
        try await storedAlerts("reading the latest alerts", "ORDER BY id DESC LIMIT $1", Int64(limit))
    }

    public func state(of domain: String) async throws -> DomainState? {
        let logger = self.logger
        return try await connection("reading the state of \(domain)") { connection in
            try await Self.states(connection, logger: logger, of: [domain])[domain]
        }
    }

    /// On PostgreSQL polls are counted by `finish_seq` and alerts by id, each in the order they commit
    /// (migration 0002): `FinishedPoll.id` is the poll's `finish_seq`, and `afterPoll` one of those.
    public func metricsReading(afterPoll: Int64, afterAlert: Int64) async throws -> MetricsReading {
        let logger = self.logger
        return try await transaction("reading the metrics") { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            var polls: [FinishedPoll] = []
            let pollRows = try await connection.query("""
                SELECT finish_seq, started, finished, queries, answers, failures FROM polls
                WHERE finish_seq > \(afterPoll) ORDER BY finish_seq
                """, logger: logger)
            for try await (seq, started, finished, queries, answers, failures) in pollRows.decode((Int64, Int64, Int64, Int64, Int64, Int64).self) {
                polls.append(FinishedPoll(id: seq, started: started, finished: finished, queries: Int(queries), answers: Int(answers),
                                          failures: Int(failures)))
            }
            var alerts: [AlertTally] = []
            let alertRows = try await connection.query("""
                SELECT type, severity, severity_rank, count(*), max(id) FROM alerts WHERE id > \(afterAlert)
                GROUP BY type, severity, severity_rank ORDER BY type COLLATE "C", severity COLLATE "C"
                """, logger: logger)
            for try await (type, severity, rank, count, last) in alertRows.decode((String, String, Int64, Int64, Int64).self) {
                alerts.append(AlertTally(type: type, severity: severity, severityRank: Int(rank), count: Int(count), lastID: last))
            }
            let counts = try await connection.query("""
                SELECT (SELECT count(*) FROM deliveries WHERE delivered IS NULL),
                       (SELECT count(DISTINCT domain_id) FROM memberships WHERE retired IS NULL)
                """, logger: logger)
            var pending: Int64 = 0, watched: Int64 = 0
            for try await (p, w) in counts.decode((Int64, Int64).self) { (pending, watched) = (p, w) }
            return MetricsReading(polls: polls, alerts: alerts, outboxPending: Int(pending), watchedDomains: Int(watched))
        }
    }

    // MARK: The statements

    /// Alerts with one condition and order on one bound value (`$1`), with the payload's message.
    private func storedAlerts(_ what: String, _ tail: String, _ value: some PostgresEncodable & Sendable) async throws -> [StoredAlert] {
        try await connection(what) { connection in
            var binds = PostgresBindings()
            try binds.append(value)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.alertColumns) FROM alerts \(tail)
                """, binds: binds), logger: self.logger)
            return try await Self.alerts(rows)
        }
    }

    /// The condition of a time fence on `s.time_first` / `s.time_last`, its four bounds appended to `binds`
    /// (a bound not given is NULL and admits every span, as SQLite's `TimeFence.sql` leaves it out).
    static func fence(_ fence: TimeFence, into binds: inout PostgresBindings) -> String {
        var parts: [String] = []
        for (bound, condition) in [(fence.firstBefore, "s.time_first <="), (fence.firstAfter, "s.time_first >="),
                                   (fence.lastBefore, "s.time_last <="), (fence.lastAfter, "s.time_last >=")] {
            guard let bound else { continue }
            binds.append(bound)
            parts.append("\(condition) $\(binds.count)")
        }
        return parts.isEmpty ? "true" : parts.joined(separator: " AND ")
    }
}
