public import DNSWatchModel
public import Store
import PostgresNIO

/// `history` and `alerts` on PostgreSQL: SQLite's statements of `SQLiteStore` (Queries.swift) ported,
/// with the same filters and order, so that both backends print the same lines.
extension PostgresStore: HistoryReading {
    public func history(domain: String, type: RRType?, since: Int64?, until: Int64?, source: SourceFilter?) async throws -> [SpanRecord] {
        try await connection("reading the history of \(domain)") { connection in
            var binds = PostgresBindings()
            binds.append(domain)
            binds.append(type?.rawValue)
            binds.append(since)
            binds.append(until)
            var sourceSQL = ""
            switch source {
            case nil: break
            case .polled: sourceSQL = " AND s.source_id IS NULL"
            case .named(let name):
                sourceSQL = " AND s.source_id = (SELECT id FROM sources WHERE name = $5)"
                binds.append(name)
            }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT d.name, \(Self.spanColumns), s.resolver
                FROM spans_seen s JOIN domains d ON d.id = s.domain_id
                WHERE d.name = $1 AND (CAST($2 AS TEXT) IS NULL OR s.rrtype = $2)
                  AND (CAST($3 AS BIGINT) IS NULL OR s.time_last >= $3) AND (CAST($4 AS BIGINT) IS NULL OR s.time_first <= $4)\(sourceSQL)
                ORDER BY s.time_first, s.id
                """, binds: binds), logger: self.logger)
            var out: [SpanRecord] = []
            for try await row in rows {
                let c = row.makeRandomAccess()
                var span = try Self.span(c, at: 1, domain: try c[0].decode(String.self))
                span.resolver = try c[12].decode(String?.self)
                out.append(span)
            }
            return out
        }
    }

    public func domainExists(_ name: String) async throws -> Bool {
        try await connection("looking up \(name)") { connection in
            let rows = try await connection.query("SELECT EXISTS (SELECT 1 FROM domains WHERE name = \(name))", logger: self.logger)
            for try await exists in rows.decode(Bool.self) { return exists }
            return false
        }
    }

    /// The `message` is the payload's, read by the server (as SQLite's `json_extract` does).
    public func alerts(since: Int64?, minRank: Int) async throws -> [StoredAlert] {
        try await connection("reading alerts") { connection in
            var binds = PostgresBindings()
            binds.append(since)
            binds.append(Int64(minRank))
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.alertColumns)
                FROM alerts WHERE (CAST($1 AS BIGINT) IS NULL OR time >= $1) AND severity_rank >= $2 ORDER BY id
                """, binds: binds), logger: self.logger)
            return try await Self.alerts(rows)
        }
    }

    /// The columns of an alert, as `alerts(_:)` decodes them.
    static let alertColumns = """
        id, time, domain, list, type, severity, severity_rank, coalesce(CAST(payload AS jsonb) ->> 'message', ''), payload
        """

    /// The alerts of rows of `alertColumns`.
    static func alerts(_ rows: PostgresRowSequence) async throws -> [StoredAlert] {
        var out: [StoredAlert] = []
        for try await (id, time, domain, list, type, severity, rank, message, payload)
            in rows.decode((Int64, Int64, String, String, String, String, Int64, String, String).self) {
            out.append(StoredAlert(id: id, time: time, domain: domain, list: list, type: type, severity: severity,
                                   severityRank: Int(rank), message: message, payload: payload))
        }
        return out
    }
}
