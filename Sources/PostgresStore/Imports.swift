public import DNSWatchModel
public import SQLiteStore
public import Store
import Dispatch
import PostgresNIO
import Synchronization

/// `import cof` on PostgreSQL: SQLite's `mergeImported` (SQLiteStore's Imports.swift) as a few statements a
/// batch: the source, the names not known yet (ids in the records' order), the spans of the source already
/// stored for the batch's (name, type, rdata), then the new spans with their inverse-index rows and the
/// widened ones. The records are folded in order in Swift, so a record repeated in one batch merges into
/// the span its first occurrence made, and the counts are SQLite's.
extension PostgresStore: ImportStore {
    public func importBatchBlocking(_ records: [ImportedRecord], source: String, at time: Int64, fingerprintVersion: String?,
                                    classify: @escaping @Sendable ([String: Int]) -> (ImportedRecord) -> DomainState) throws -> MergeCounts {
        // The import runs on its own thread (COFImport): it waits here for the transaction, which runs on the
        // connection's event loop and a thread of NIO's pool, never on this thread or the cooperative pool.
        let outcome = Mutex<Result<MergeCounts, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<MergeCounts, any Error>
            do {
                result = .success(try await blockingTransaction("importing records of \(source)") { c in
                    try Self.merge(c, records, source: source, at: time, fingerprintVersion: fingerprintVersion, classify: classify)
                })
            } catch {
                result = .failure(error)
            }
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        guard let result = outcome.withLock({ $0 }) else { throw Failure("\(url): an import batch ended without a result") }
        return try result.get()
    }

    /// A (name, type, rdata) of one source: one span.
    private struct SpanKey: Hashable {
        var domainID: Int64
        var rrtype: RRType
        var rdata: String
    }

    /// The span a key has after the records so far: stored (`id`) or new, and whether it must be written.
    private struct Folded {
        var id: Int64?
        var first: Int64, last: Int64, count: Int
        var state: DomainState?
        var values: [String]
        var dirty: Bool
    }

    static func merge(_ c: SyncConnection, _ records: [ImportedRecord], source: String, at time: Int64, fingerprintVersion: String?,
                      classify: ([String: Int]) -> (ImportedRecord) -> DomainState) throws -> MergeCounts {
        var counts = MergeCounts()
        guard !records.isEmpty else { return counts }
        try c.query("INSERT INTO sources (name, created) VALUES (\(source), \(time)) ON CONFLICT (name) DO NOTHING")
        guard let sourceID = try c.query("SELECT id FROM sources WHERE name = \(source)").first?.decode(Int64.self) else {
            throw Failure("source \(source) was not stored")
        }
        // Names in the records' order, those not known yet inserted in that order (as SQLite inserts them).
        var seen = Set<String>(), names: [String] = []
        for r in records where seen.insert(r.domain).inserted { names.append(r.domain) }
        try insertNames(c, names, at: time)
        var ids: [String: Int64] = [:]
        for row in try c.query("SELECT name, id FROM domains WHERE name = ANY(\(names))") {
            let (name, id) = try row.decode((String, Int64).self)
            ids[name] = id
        }
        var keys: [SpanKey] = []
        keys.reserveCapacity(records.count)
        for r in records {
            guard let id = ids[r.domain] else { throw Failure("domain \(r.domain) was not stored") }
            keys.append(SpanKey(domainID: id, rrtype: r.rrtype, rdata: RdataCodec.encode(r.rdata)))
        }
        // The spans of this source already stored for these keys (the partial unique index spans_imported).
        var spans: [SpanKey: Folded] = [:]
        let distinct = Array(Set(keys))
        for row in try c.query("""
            SELECT s.id, s.domain_id, s.rrtype, s.rdata, s.time_first, s.time_last, s.count
            FROM unnest(\(distinct.map(\.domainID))::bigint[], \(distinct.map(\.rrtype.rawValue))::text[], \(distinct.map(\.rdata))::text[])
                AS k(domain_id, rrtype, rdata)
            JOIN spans s ON s.domain_id = k.domain_id AND s.rrtype = k.rrtype AND s.rdata = k.rdata AND s.source_id = \(sourceID)
            """) {
            let (id, domain, rrtype, rdata, first, last, count) = try row.decode((Int64, Int64, String, String, Int64, Int64, Int64).self)
            spans[SpanKey(domainID: domain, rrtype: try Stored.rrtype(rrtype), rdata: rdata)] =
                Folded(id: id, first: first, last: last, count: Int(count), state: nil, values: [], dirty: false)
        }
        let classifier = classify(try PostgresBatchWriter(c).cachedASNs(ImportedRecord.addresses(of: records)))
        var order: [SpanKey] = []
        for (r, key) in zip(records, keys) {
            if var span = spans[key] {
                counts.merged += 1
                let merged = (min(span.first, r.timeFirst), max(span.last, r.timeLast), max(span.count, r.count))
                guard merged != (span.first, span.last, span.count) else { continue }
                counts.changed += 1
                (span.first, span.last, span.count) = merged
                span.dirty = true
                spans[key] = span
            } else {
                counts.imported += 1
                spans[key] = Folded(id: nil, first: r.timeFirst, last: r.timeLast, count: r.count, state: classifier(r), values: r.rdata,
                                    dirty: true)
                order.append(key)
            }
        }
        // New spans, ids in the records' order (as SQLite's inserts take them), and their inverse-index rows.
        if !order.isEmpty {
            var newIDs: [Int64] = []
            for row in try c.query("SELECT nextval('spans_id_seq') FROM generate_series(1, \(Int64(order.count)))") {
                newIDs.append(try row.decode(Int64.self))
            }
            var rows: [[Bind]] = [], values: [[Bind]] = []
            for (id, key) in zip(newIDs, order) {
                guard let span = spans[key] else { continue }
                rows.append([.int(id), .int(key.domainID), .text(key.rrtype.rawValue), .text(AnswerStatus.noerror.rawValue), .text(key.rdata),
                             .int(span.first), .int(span.last),
                             .int(Int64(span.count)), .text(span.state?.class.rawValue), .text(span.state?.provider), .text(fingerprintVersion),
                             .int(sourceID)])
                for value in ValueKey.keys(rrtype: key.rrtype, status: .noerror, rdata: span.values) {
                    values.append([.bytes(value), .int(key.domainID), .int(id)])
                }
            }
            try c.insertRows(
                "INSERT INTO spans (id, domain_id, rrtype, status, rdata, time_first, time_last, count, class, provider, fp_version, source_id)",
                columns: 12, rows)
            try c.insertRows("INSERT INTO span_values (key, domain_id, span_id)", "ON CONFLICT DO NOTHING", columns: 3, values)
        }
        // Stored spans the batch widened.
        let widened = spans.values.filter { $0.dirty && $0.id != nil }
        if !widened.isEmpty {
            try c.query("""
                UPDATE spans s SET time_first = w.first, time_last = w.last, count = w.count
                FROM unnest(\(widened.compactMap(\.id))::bigint[], \(widened.map(\.first))::bigint[], \(widened.map(\.last))::bigint[],
                            \(widened.map { Int64($0.count) })::bigint[]) AS w(id, first, last, count)
                WHERE s.id = w.id
                """)
        }
        return counts
    }
}
