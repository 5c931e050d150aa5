public import DNSWatchModel
public import Store
import GRDB

extension SQLiteStore {
    /// The spans of a domain, oldest first, overlapping [since, until]: polled and imported ones (each with
    /// its `source`), or with `source` only those of one.
    public func history(domain: String, type: RRType? = nil, since: Int64? = nil, until: Int64? = nil,
                        source: SourceFilter? = nil) async throws -> [SpanRecord] {
        try await read { db in
            var args: StatementArguments = [domain, type, type, since, since, until, until]
            var sourceSQL = ""
            if let (condition, sourceArgs) = source?.sql {
                sourceSQL = " AND " + condition
                args += sourceArgs
            }
            let rows = try Row.fetchCursor(db, sql: """
                SELECT d.name AS domain, s.*, \(SpanRecord.sourceColumn) FROM spans_seen s JOIN domains d ON d.id = s.domain_id
                WHERE d.name = ? AND (? IS NULL OR s.rrtype = ?)
                  AND (? IS NULL OR s.time_last >= ?) AND (? IS NULL OR s.time_first <= ?)\(sourceSQL)
                ORDER BY s.time_first, s.id
                """, arguments: args)
            var out: [SpanRecord] = []
            while let row = try rows.next() {
                var span = try SpanRecord(row: row)
                span.resolver = row["resolver"]
                out.append(span)
            }
            return out
        }
    }

    /// Whether the domain is known at all (watched now or before).
    public func domainExists(_ name: String) async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM domains WHERE name = ?", arguments: [name]) ?? false }
    }

    /// Every (domain, address) of A/AAAA history inside `block`, oldest first (through the inverse index).
    /// With `atMost`, a block holding more sightings than that throws `TooManySightings` once the pages read
    /// pass it (memory stays bounded; the oldest-first order needs them all).
    public func domains(resolvingInto block: CIDR, atMost: Int? = nil) async throws -> [AddressHit] {
        var hits: [AddressHit] = []
        for try await page in addressSpans(in: block) {
            hits += page.map(AddressHit.init)
            if let atMost, hits.count > atMost { throw TooManySightings(block: block, limit: atMost) }
        }
        return hits.sorted { ($0.timeFirst, $0.domain) < ($1.timeFirst, $1.domain) }
    }

    /// Domains whose NS history names this name server, oldest first.
    public func domains(withNameServer ns: String) async throws -> [AddressHit] {
        try await nameSpans(holding: .exact(ns), type: .ns).collect().map(AddressHit.init)
            .sorted { ($0.timeFirst, $0.domain) < ($1.timeFirst, $1.domain) }
    }

    /// Cached origin-ASN answers that have not expired.
    public func cachedASN(_ addresses: [String], now: Int64) async throws -> [String: ASNEntry] {
        try await read { db in try SQLiteStore.cachedASN(db, addresses, now: now) }
    }

    /// `cachedASN(_:now:)` inside a read the caller holds.
    static func cachedASN(_ db: Database, _ addresses: [String], now: Int64) throws -> [String: ASNEntry] {
        var out: [String: ASNEntry] = [:]
        for chunk in Array(Set(addresses)).chunked(500) {
            let marks = placeholders(chunk.count)
            var args = StatementArguments(chunk)
            args += [now]
            for e in try ASNEntry.fetchAll(db, sql: "SELECT * FROM asn_cache WHERE address IN (\(marks)) AND expires > ?", arguments: args) {
                out[e.address] = e
            }
        }
        return out
    }

    /// Alerts since a time at or above a severity rank, oldest first.
    public func alerts(since: Int64? = nil, minRank: Int = 0) async throws -> [StoredAlert] {
        try await read { db in
            try StoredAlert.fetchAll(db, sql: """
                SELECT id, time, domain, list, type, severity, severity_rank, coalesce(json_extract(payload, '$.message'), '') AS message,
                       payload FROM alerts
                WHERE (? IS NULL OR time >= ?) AND severity_rank >= ? ORDER BY id
                """, arguments: [since, since, minRank])
        }
    }

    /// A domain's alerts, oldest first.
    public func alerts(domain: String) async throws -> [StoredAlert] {
        try await read { db in
            try StoredAlert.fetchAll(db, sql: """
                SELECT id, time, domain, list, type, severity, severity_rank, coalesce(json_extract(payload, '$.message'), '') AS message,
                       payload FROM alerts WHERE domain = ? ORDER BY time, id
                """, arguments: [domain])
        }
    }

    /// The latest alerts, newest first.
    public func latestAlerts(limit: Int) async throws -> [StoredAlert] {
        try await read { db in
            try StoredAlert.fetchAll(db, sql: """
                SELECT id, time, domain, list, type, severity, severity_rank, coalesce(json_extract(payload, '$.message'), '') AS message,
                       payload FROM alerts ORDER BY id DESC LIMIT ?
                """, arguments: [limit])
        }
    }

    /// A domain's stored state, if it was ever polled with an answer.
    public func state(of domain: String) async throws -> DomainState? {
        try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT s.class, s.provider FROM domain_state s JOIN domains d ON d.id = s.domain_id WHERE d.name = ?
                """, arguments: [domain]).map { DomainState(class: try $0.decode(atIndex: 0), provider: $0[1]) }
        }
    }
}

extension SQLiteStore: HistoryReading {}
