import DNSWatchModel
public import Store
import PostgresNIO

/// `reclassify` on PostgreSQL: reads on a connection of the pool, each batch's plan applied in one
/// transaction with one multi-row statement per table (arrays unnested). Pollers go on meanwhile: a state
/// is updated only where the stored one is still the one read (a poll's newer state stays).
extension PostgresStore: ReclassifyStore {
    public func reclassifySpans(afterID: Int64, limit: Int) async throws -> [RawSpan] {
        try await connection("reading spans to reclassify") { connection in
            let rows = try await connection.query("""
                SELECT id, domain_id, rrtype, status, rdata FROM spans WHERE id > \(afterID) ORDER BY id LIMIT \(Int64(limit))
                """, logger: self.logger)
            var out: [RawSpan] = []
            for try await (id, domain, rrtype, status, rdata) in rows.decode((Int64, Int64, String, String, String).self) {
                out.append(RawSpan(id: id, domainID: domain, rrtype: try Stored.rrtype(rrtype), status: try Stored.status(status),
                                   rdata: RdataCodec.decode(rdata)))
            }
            return out
        }
    }

    public func reclassifyStates(afterID: Int64, limit: Int) async throws -> [DomainStateRow] {
        try await connection("reading domain states to reclassify") { connection in
            let rows = try await connection.query("""
                SELECT domain_id, class, provider, fp_version FROM domain_state WHERE domain_id > \(afterID)
                ORDER BY domain_id LIMIT \(Int64(limit))
                """, logger: self.logger)
            var out: [DomainStateRow] = []
            for try await (id, cls, provider, version) in rows.decode((Int64, String, String?, String?).self) {
                out.append(DomainStateRow(domainID: id, stored: StoredState(
                    state: DomainState(class: try Stored.domainClass(cls), provider: provider), classifierVersion: version)))
            }
            return out
        }
    }

    public func applyReclassify(_ plan: ReclassifyPlan) async throws -> Set<Int64> {
        try await transaction("reclassifying") { connection in
            let spans = plan.spanClasses
            if !spans.isEmpty {
                try await connection.query("""
                    UPDATE spans s SET class = u.class, provider = CASE WHEN u.no_provider THEN NULL ELSE u.provider_text END,
                        fp_version = \(plan.classifierVersion)
                    FROM unnest(\(spans.map(\.spanID))::bigint[], \(spans.map(\.class.rawValue))::text[],
                                \(spans.map { $0.provider ?? "" })::text[], \(spans.map { $0.provider == nil })::boolean[])
                        AS u(id, class, provider_text, no_provider)
                    WHERE s.id = u.id
                    """, logger: self.logger)
            }
            let states = plan.states
            guard !states.isEmpty else { return [] }
            // `since` as a poll writes states (`apply(_:claim:)`, Writes.swift): kept while class and provider stay.
            let rows = try await connection.query("""
                UPDATE domain_state st SET
                    since = CASE WHEN st.class IS NOT DISTINCT FROM u.class AND st.provider IS NOT DISTINCT FROM u.provider
                                 THEN st.since ELSE \(plan.at) END,
                    class = u.class, provider = u.provider, updated = \(plan.at), fp_version = \(plan.classifierVersion)
                FROM (SELECT id, class, CASE WHEN no_provider THEN NULL ELSE provider_text END AS provider, old_class,
                             CASE WHEN no_old_provider THEN NULL ELSE old_provider_text END AS old_provider,
                             CASE WHEN no_old_version THEN NULL ELSE old_version_text END AS old_version
                      FROM unnest(\(states.map(\.domainID))::bigint[], \(states.map(\.state.class.rawValue))::text[],
                                  \(states.map { $0.state.provider ?? "" })::text[], \(states.map { $0.state.provider == nil })::boolean[],
                                  \(states.map(\.stored.state.class.rawValue))::text[],
                                  \(states.map { $0.stored.state.provider ?? "" })::text[], \(states.map { $0.stored.state.provider == nil })::boolean[],
                                  \(states.map { $0.stored.classifierVersion ?? "" })::text[], \(states.map { $0.stored.classifierVersion == nil })::boolean[])
                          AS v(id, class, provider_text, no_provider, old_class, old_provider_text, no_old_provider, old_version_text, no_old_version)
                     ) u
                WHERE st.domain_id = u.id AND st.class = u.old_class AND st.provider IS NOT DISTINCT FROM u.old_provider
                  AND st.fp_version IS NOT DISTINCT FROM u.old_version
                RETURNING st.domain_id
                """, logger: self.logger)
            var written = Set<Int64>()
            for try await id in rows.decode(Int64.self) { written.insert(id) }
            return written
        }
    }
}
