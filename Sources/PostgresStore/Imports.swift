import DNSWatchModel
public import Store
import NIOCore
import PostgresNIO

/// `import cof` on PostgreSQL: the SQL of `ImportStore` (the merge rule is `ImportPlan.merging`, in Store),
/// a few multi-row statements a batch, with ids in the plan's order (as SQLite's inserts take them).
extension PostgresStore: ImportStore {
    public func importSource(named name: String, at time: Int64) async throws -> Int64 {
        try await connection("storing the source \(name)") { [logger] c in
            try await c.query("INSERT INTO sources (name, created) VALUES (\(name), \(time)) ON CONFLICT (name) DO NOTHING", logger: logger)
            for try await id in try await c.query("SELECT id FROM sources WHERE name = \(name)", logger: logger).decode(Int64.self) {
                return id
            }
            throw Failure("source \(name) was not stored")
        }
    }

    public func importedSpans(matching keys: [ImportKey], sourceID: Int64) async throws -> [StoredImportSpan] {
        guard !keys.isEmpty else { return [] }
        return try await connection("reading the imported spans of a batch") { [logger] c in
            let rows = try await c.query("""
                SELECT k.i, s.id, s.time_first, s.time_last, s.count
                FROM unnest(\(keys.map(\.domain))::text[], \(keys.map(\.rrtype.rawValue))::text[], \(keys.map(\.rdata))::text[])
                    WITH ORDINALITY AS k(name, rrtype, rdata, i)
                JOIN domains d ON d.name = k.name
                JOIN spans s ON s.domain_id = d.id AND s.rrtype = k.rrtype AND s.rdata = k.rdata AND s.source_id = \(sourceID)
                """, logger: logger)
            var out: [StoredImportSpan] = []
            for try await (i, id, first, last, count) in rows.decode((Int64, Int64, Int64, Int64, Int64).self) {
                guard i >= 1, i <= keys.count else { throw Failure("a span was read for a key not asked for (\(i))") }
                out.append(StoredImportSpan(id: id, key: keys[Int(i) - 1], timeFirst: first, timeLast: last, count: Int(count)))
            }
            return out
        }
    }

    /// (Also `PollWrites.cachedASNs`: one implementation.)
    public func cachedASNs(_ addresses: [String]) async throws -> [String: Int] {
        guard !addresses.isEmpty else { return [:] }
        return try await connection("reading cached origin ASNs") { [logger] c in
            var out: [String: Int] = [:]
            let rows = try await c.query("SELECT address, asn FROM asn_cache WHERE asn IS NOT NULL AND address = ANY(\(addresses))", logger: logger)
            for try await (address, asn) in rows.decode((String, Int64).self) { out[address] = Int(asn) }
            return out
        }
    }

    public func applyImport(_ plan: ImportPlan) async throws {
        guard !plan.create.isEmpty || !plan.widen.isEmpty else { return }
        try await transaction("importing records") { [logger] c in
            if !plan.create.isEmpty { try await Self.create(c, plan, logger: logger) }
            if !plan.widen.isEmpty {
                // Widened in SQL: a concurrent import's wider times or larger count are kept.
                let w = plan.widen
                try await c.query("""
                    UPDATE spans s SET time_first = LEAST(s.time_first, w.first), time_last = GREATEST(s.time_last, w.last),
                                       count = GREATEST(s.count, w.count)
                    FROM unnest(\(w.map(\.id))::bigint[], \(w.map(\.timeFirst))::bigint[], \(w.map(\.timeLast))::bigint[],
                                \(w.map { Int64($0.count) })::bigint[]) AS w(id, first, last, count)
                    WHERE s.id = w.id
                    """, logger: logger)
            }
        }
    }

    /// The plan's new spans: their names not stored yet (ids in the plan's order), the spans (ids taken in
    /// the plan's order), their values in the inverse index.
    private static func create(_ c: PostgresConnection, _ plan: ImportPlan, logger: Logger) async throws {
        let spans = plan.create
        var seen = Set<String>(), names: [String] = []
        for s in spans where seen.insert(s.key.domain).inserted { names.append(s.key.domain) }
        try await c.query("""
            INSERT INTO domains (name, created, rname)
            SELECT v.name, \(plan.time), v.rname
            FROM unnest(\(names)::text[], \(names.map(ValueKey.reversedName))::text[]) WITH ORDINALITY AS v(name, rname, i)
            WHERE NOT EXISTS (SELECT 1 FROM domains d WHERE d.name = v.name)
            ORDER BY v.i
            ON CONFLICT (name) DO NOTHING
            """, logger: logger)
        var ids: [Int64] = []
        for try await id in try await c.query("SELECT nextval('spans_id_seq') FROM generate_series(1, \(Int64(spans.count)))",
                                              logger: logger).decode(Int64.self) {
            ids.append(id)
        }
        guard ids.count == spans.count else { throw Failure("\(spans.count) span ids were asked for, \(ids.count) given") }
        // Widened, not inserted, when another import of the source stored the span since the plan's read.
        let written = try await c.query("""
            INSERT INTO spans (id, domain_id, rrtype, status, rdata, time_first, time_last, count, class, provider, fp_version, source_id)
            SELECT v.id, d.id, v.rrtype, 'NOERROR', v.rdata, v.first, v.last, v.count, v.class,
                   CASE WHEN v.no_provider THEN NULL ELSE v.provider END, \(plan.fingerprintVersion)::text, \(plan.sourceID)
            FROM unnest(\(ids)::bigint[], \(spans.map(\.key.domain))::text[], \(spans.map(\.key.rrtype.rawValue))::text[],
                        \(spans.map(\.key.rdata))::text[], \(spans.map(\.timeFirst))::bigint[], \(spans.map(\.timeLast))::bigint[],
                        \(spans.map { Int64($0.count) })::bigint[], \(spans.map(\.state.class.rawValue))::text[],
                        \(spans.map { $0.state.provider ?? "" })::text[], \(spans.map { $0.state.provider == nil })::boolean[])
                AS v(id, name, rrtype, rdata, first, last, count, class, provider, no_provider)
            JOIN domains d ON d.name = v.name
            ORDER BY v.id
            ON CONFLICT (domain_id, rrtype, rdata, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
                time_first = LEAST(spans.time_first, EXCLUDED.time_first), time_last = GREATEST(spans.time_last, EXCLUDED.time_last),
                count = GREATEST(spans.count, EXCLUDED.count)
            RETURNING 1
            """, logger: logger)
        var count = 0
        for try await _ in written { count += 1 }
        guard count == spans.count else { throw Failure("\(spans.count) imported spans were to be written, \(count) were") }
        // Each new span's values, by its key (the span inserted, or the one another import stored).
        var keys: [ByteBuffer] = [], valueNames: [String] = [], types: [String] = [], rdatas: [String] = []
        for s in spans {
            for value in ValueKey.keys(rrtype: s.key.rrtype, status: .noerror, rdata: s.values) {
                keys.append(ByteBuffer(bytes: value))
                valueNames.append(s.key.domain)
                types.append(s.key.rrtype.rawValue)
                rdatas.append(s.key.rdata)
            }
        }
        guard !keys.isEmpty else { return }
        try await c.query("""
            INSERT INTO span_values (key, domain_id, span_id)
            SELECT v.key, s.domain_id, s.id
            FROM unnest(\(keys)::bytea[], \(valueNames)::text[], \(types)::text[], \(rdatas)::text[]) AS v(key, name, rrtype, rdata)
            JOIN domains d ON d.name = v.name
            JOIN spans s ON s.domain_id = d.id AND s.rrtype = v.rrtype AND s.rdata = v.rdata AND s.source_id = \(plan.sourceID)
            ON CONFLICT DO NOTHING
            """, logger: logger)
    }
}
