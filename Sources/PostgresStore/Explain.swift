public import Store
import DNSWatchModel
import PostgresNIO

/// `explain` on PostgreSQL: SQLite's reads (SQLiteStore, Explain.swift) ported, in one snapshot as SQLite's one
/// read transaction, in the same order.
extension PostgresStore: ExplainReading {
    public func explainReads(domain: String, transitions: Int) async throws -> ExplainReads? {
        let logger = self.logger
        return try await transaction("reading what explains \(domain)") { connection in
            // One snapshot for every statement, as SQLite's one read transaction.
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            return try await Self.explainReads(connection, logger: logger, domain: domain, transitions: transitions)
        }
    }

    private static func explainReads(_ connection: PostgresConnection, logger: Logger, domain: String, transitions: Int) async throws -> ExplainReads? {
        var id: Int64?
        for try await row in try await connection.query("SELECT id FROM domains WHERE name = \(domain)", logger: logger) {
            id = try row.decode(Int64.self)
        }
        guard let id else { return nil }
        var state: ExplainedState?
        for try await (cls, provider, since) in try await connection.query(
            "SELECT class, provider, since FROM domain_state WHERE domain_id = \(id)", logger: logger)
            .decode((String, String?, Int64).self) {
            state = ExplainedState(state: DomainState(class: try Stored.domainClass(cls), provider: provider), since: since)
        }
        var current: [SpanRecord] = []
        let spans = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT \(spanColumns) FROM heads h JOIN spans_seen s ON s.id = h.span_id
            WHERE h.domain_id = $1 ORDER BY s.rrtype COLLATE "C", s.id
            """, binds: bindings(id)), logger: logger)
        for try await row in spans {
            current.append(try span(row.makeRandomAccess(), at: 0, domain: domain))
        }
        var stored: [StoredTransition] = []
        for try await (tid, time, type, from, to) in try await connection.query("""
            SELECT id, time, type, from_view, to_view FROM transitions WHERE domain_id = \(id)
            ORDER BY time DESC, id DESC LIMIT \(Int64(transitions))
            """, logger: logger).decode((Int64, Int64, String, String, String).self) {
            stored.append(StoredTransition(id: tid, time: time, type: type, fromViewJSON: from, toViewJSON: to))
        }
        var alerting: AlertingMemory?
        for try await row in try await connection.query("""
            SELECT \(unescaped: Stored.alertingColumns) FROM domain_alerting al WHERE al.domain_id = \(id)
            """, logger: logger) {
            alerting = try Stored.alerting(row.makeRandomAccess(), at: 0)
        }
        var status = PollingStatus()
        for try await (polled, due, failure, failureType, failureKind) in try await connection.query("""
            SELECT last_polled, next_due, last_failure, last_failure_type, last_failure_kind FROM domain_status WHERE domain_id = \(id)
            """, logger: logger).decode((Int64?, Int64?, Int64?, String?, String?).self) {
            status = PollingStatus(lastPolled: polled, nextDue: due, lastFailure: failure, lastFailureType: failureType, lastFailureKind: failureKind)
        }
        return ExplainReads(domain: domain, state: state, current: current, transitions: stored, alerting: alerting, status: status)
    }

    private static func bindings(_ id: Int64) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(id)
        return binds
    }
}
