import DNSWatchModel
public import Store
import GRDB

/// `reclassify` on SQLite: reads on a reader (the caller holds the poll lock, so no poll writes in between),
/// each batch's plan applied in one GRDB write transaction with multi-row statements.
extension SQLiteStore: ReclassifyStore {
    public func reclassifySpans(afterID: Int64, limit: Int) async throws -> [RawSpan] {
        try await read { db in
            try RawSpan.fetchAll(db, sql: "SELECT id, domain_id, rrtype, status, rdata FROM spans WHERE id > ? ORDER BY id LIMIT ?",
                                 arguments: [afterID, limit])
        }
    }

    public func reclassifyStates(afterID: Int64, limit: Int) async throws -> [DomainStateRow] {
        try await read { db in
            var out: [DomainStateRow] = []
            let rows = try Row.fetchCursor(db, sql: """
                SELECT domain_id, class, provider, fp_version FROM domain_state WHERE domain_id > ? ORDER BY domain_id LIMIT ?
                """, arguments: [afterID, limit])
            while let row = try rows.next() {
                out.append(DomainStateRow(domainID: row[0], stored: StoredState(
                    state: DomainState(class: try row.decode(atIndex: 1), provider: row[2]), classifierVersion: row[3])))
            }
            return out
        }
    }

    public func applyReclassify(_ plan: ReclassifyPlan) async throws -> Set<Int64> {
        try await pool.write { db in
            for chunk in plan.spanClasses.chunked(300) {
                var args = StatementArguments()
                for u in chunk { args += [u.spanID, u.class.rawValue, u.provider] }
                args += [plan.classifierVersion]
                try db.execute(sql: """
                    WITH u(id, class, provider) AS (VALUES \(Array(repeating: "(?, ?, ?)", count: chunk.count).joined(separator: ", ")))
                    UPDATE spans SET class = u.class, provider = u.provider, fp_version = ? FROM u WHERE spans.id = u.id
                    """, arguments: args)
            }
            // `since` as a poll writes states (`apply(_:claim:)`, Writes.swift): kept while class and provider stay.
            var written = Set<Int64>()
            for chunk in plan.states.chunked(150) {
                var args = StatementArguments()
                for u in chunk {
                    args += [u.domainID, u.state.class.rawValue, u.state.provider,
                             u.stored.state.class.rawValue, u.stored.state.provider, u.stored.classifierVersion]
                }
                args += [plan.at, plan.at, plan.classifierVersion]
                let ids = try Int64.fetchAll(db, sql: """
                    WITH u(id, class, provider, old_class, old_provider, old_version) AS
                        (VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")))
                    UPDATE domain_state SET
                        since = CASE WHEN domain_state.class IS u.class AND domain_state.provider IS u.provider
                                     THEN domain_state.since ELSE ? END,
                        class = u.class, provider = u.provider, updated = ?, fp_version = ?
                    FROM u
                    WHERE domain_state.domain_id = u.id AND domain_state.class IS u.old_class
                      AND domain_state.provider IS u.old_provider AND domain_state.fp_version IS u.old_version
                    RETURNING domain_state.domain_id
                    """, arguments: args)
                written.formUnion(ids)
            }
            return written
        }
    }
}
