import DNSWatchModel
public import Store
import Foundation
import GRDB

/// `import cof` on SQLite: the SQL of `ImportStore` (the merge rule is `ImportPlan.merging`, in Store).
extension SQLiteStore: ImportStore {
    public func importSource(named name: String, at time: Int64) async throws -> Int64 {
        // Read first: a known source (every batch but the first) costs no write transaction.
        if let id = try await read({ db in try Int64.fetchOne(db, sql: "SELECT id FROM sources WHERE name = ?", arguments: [name]) }) {
            return id
        }
        return try await pool.write { db in
            try db.execute(sql: "INSERT INTO sources (name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", arguments: [name, time])
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM sources WHERE name = ?", arguments: [name]) else {
                throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "source \(name) was not stored")
            }
            return id
        }
    }

    public func importedSpans(matching keys: [ImportKey], sourceID: Int64) async throws -> [StoredImportSpan] {
        guard !keys.isEmpty else { return [] }
        return try await read { db in
            let find = try db.cachedStatement(sql: """
                SELECT s.id, s.time_first, s.time_last, s.count FROM domains d
                JOIN spans s ON s.domain_id = d.id AND s.rrtype = ? AND s.rdata = ? AND s.source_id = ?
                WHERE d.name = ?
                """)
            var out: [StoredImportSpan] = []
            for key in keys {
                guard let row = try Row.fetchOne(find, arguments: [key.rrtype, key.rdata, sourceID, key.domain]) else { continue }
                out.append(StoredImportSpan(id: row[0], key: key, timeFirst: row[1], timeLast: row[2], count: row[3]))
            }
            return out
        }
    }

    /// (Also `PollWrites.cachedASNs`: one implementation.)
    public func cachedASNs(_ addresses: [String]) async throws -> [String: Int] {
        guard !addresses.isEmpty else { return [:] }
        return try await read { db in
            var out: [String: Int] = [:]
            for chunk in addresses.chunked(500) {
                let rows = try Row.fetchCursor(db, sql: "SELECT address, asn FROM asn_cache WHERE asn IS NOT NULL AND address IN (\(placeholders(chunk.count)))",
                                               arguments: StatementArguments(chunk))
                while let row = try rows.next() { out[row[0]] = row[1] }
            }
            return out
        }
    }

    public func applyImport(_ plan: ImportPlan) async throws {
        guard !plan.create.isEmpty || !plan.widen.isEmpty else { return }
        try await pool.write { db in
            // A page cache of 64 MB for the writer (SQLite's default is 2 MB): a large import touches the pages
            // of the span and value indexes all over, batch after batch. Memory stays bounded by it.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            // (A name not found is inserted in the same transaction: a plain INSERT, which could only fail,
            // never leave a stale id.)
            let insertDomain = try db.cachedStatement(sql: "INSERT INTO domains (name, created, rname) VALUES (?, ?, ?)")
            let selectDomain = try db.cachedStatement(sql: "SELECT id FROM domains WHERE name = ?")
            // Widened, not inserted, when another import of the source stored the span since the plan's read.
            let insert = try db.cachedStatement(sql: """
                INSERT INTO spans (domain_id, rrtype, status, rdata, time_first, time_last, count, class, provider, fp_version, source_id)
                VALUES (?, ?, 'NOERROR', ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (domain_id, rrtype, rdata, source_id) WHERE source_id IS NOT NULL DO UPDATE SET
                    time_first = MIN(time_first, excluded.time_first), time_last = MAX(time_last, excluded.time_last),
                    count = MAX(count, excluded.count)
                RETURNING id
                """)
            let insertValue = try db.cachedStatement(sql: "INSERT OR IGNORE INTO span_values (key, domain_id, span_id) VALUES (?, ?, ?)")
            var domainIDs: [String: Int64] = [:]
            for span in plan.create {
                let key = span.key
                let domainID: Int64
                if let known = domainIDs[key.domain] {
                    domainID = known
                } else {
                    if let id = try Int64.fetchOne(selectDomain, arguments: [key.domain]) {
                        domainID = id
                    } else {
                        try insertDomain.execute(arguments: [key.domain, plan.time, ValueKey.reversedName(key.domain)])
                        domainID = db.lastInsertedRowID
                    }
                    domainIDs[key.domain] = domainID
                }
                guard let spanID = try Int64.fetchOne(insert, arguments: [
                    domainID, key.rrtype, key.rdata, span.timeFirst, span.timeLast, span.count,
                    span.state.class, span.state.provider, plan.fingerprintVersion, plan.sourceID,
                ]) else {
                    throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "an imported span of \(key.domain) was not stored")
                }
                for value in ValueKey.keys(rrtype: key.rrtype, status: .noerror, rdata: span.values) {
                    try insertValue.execute(arguments: [Data(value), domainID, spanID])
                }
            }
            // Widened in SQL too: a concurrent import's wider times or larger count are kept.
            let update = try db.cachedStatement(sql: """
                UPDATE spans SET time_first = MIN(time_first, ?), time_last = MAX(time_last, ?), count = MAX(count, ?) WHERE id = ?
                """)
            for w in plan.widen {
                try update.execute(arguments: [w.timeFirst, w.timeLast, w.count, w.id])
            }
        }
    }
}
