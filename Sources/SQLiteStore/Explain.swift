public import Store
import DNSWatchModel
import GRDB

/// `explain` on SQLite: one read transaction, a probe per table by the domain's id (transitions through
/// `transitions_by_domain`, backwards).
extension SQLiteStore: ExplainReading {
    public func explainReads(domain: String, transitions: Int) async throws -> ExplainReads? {
        try await read { db in
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM domains WHERE name = ?", arguments: [domain]) else { return nil }
            var state: ExplainedState?
            if let row = try Row.fetchOne(db, sql: "SELECT class, provider, since FROM domain_state WHERE domain_id = ?", arguments: [id]) {
                state = ExplainedState(state: DomainState(class: try row.decode(forColumn: "class"), provider: row["provider"]),
                                       since: row["since"])
            }
            let current = try Row.fetchAll(db, sql: """
                SELECT ? AS domain, s.*, \(SpanRecord.sourceColumn) FROM heads h JOIN spans_seen s ON s.id = h.span_id
                WHERE h.domain_id = ? ORDER BY s.rrtype, s.id
                """, arguments: [domain, id]).map { try SpanRecord(row: $0) }
            let stored = try Row.fetchAll(db, sql: """
                SELECT id, time, type, from_view, to_view FROM transitions WHERE domain_id = ?
                ORDER BY time DESC, id DESC LIMIT ?
                """, arguments: [id, transitions]).map {
                StoredTransition(id: $0["id"], time: $0["time"], type: $0["type"], fromViewJSON: $0["from_view"], toViewJSON: $0["to_view"])
            }
            let alerting = try Row.fetchOne(db, sql: "SELECT \(AlertingMemory.columns) FROM domain_alerting al WHERE al.domain_id = ?",
                                            arguments: [id]).flatMap { AlertingMemory(row: $0, at: 0) }
            let status = try Row.fetchOne(db, sql: """
                SELECT last_polled, next_due, last_failure, last_failure_type, last_failure_kind FROM domain_status WHERE domain_id = ?
                """, arguments: [id]).map { row in
                PollingStatus(lastPolled: row[0], nextDue: row[1], lastFailure: row[2], lastFailureType: row[3], lastFailureKind: row[4])
            } ?? PollingStatus()
            return ExplainReads(domain: domain, state: state, current: current, transitions: stored, alerting: alerting, status: status)
        }
    }
}
