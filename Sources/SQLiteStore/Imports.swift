public import DNSWatchModel
public import Store
import Foundation
import GRDB

extension StoreWriter {
    /// The id of the source named `name`, created if new.
    public func source(named name: String, at time: Int64) throws -> Int64 {
        try db.execute(sql: "INSERT INTO sources (name, created) VALUES (?, ?) ON CONFLICT(name) DO NOTHING", arguments: [name, time])
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM sources WHERE name = ?", arguments: [name]) else {
            throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "source \(name) was not stored")
        }
        return id
    }

    /// Stores imported records as spans of `sourceID`, one span per (name, type, rdata set, source): a
    /// record already stored keeps the earliest first sighting, the latest last one and the largest count
    /// (exports of one source are cumulative, so counts are never added). A record that changes nothing
    /// writes nothing. A new span's values go into the inverse index, as a polled span's do; imported spans
    /// never become heads. Domains are created as names only (no list, never polled). `classify` gives the
    /// class of a record about to become a span (a merged one keeps its span's; `reclassify` re-derives both).
    public func mergeImported(_ records: [ImportedRecord], sourceID: Int64, at time: Int64, fingerprintVersion: String?,
                              classify: (ImportedRecord) -> DomainState = { DomainState(class: $0.class ?? .unknown, provider: $0.provider) }) throws -> MergeCounts {
        // A page cache of 64 MB for the writer (SQLite's default is 2 MB): a large import touches the pages
        // of the span and value indexes all over, batch after batch. Memory stays bounded by it.
        try db.execute(sql: "PRAGMA cache_size = -65536")
        var counts = MergeCounts()
        var domainIDs: [String: Int64] = [:]
        // (A name not found is inserted in the same transaction: a plain INSERT, which could only fail, never
        // leave a stale id.)
        let insertDomain = try db.cachedStatement(sql: "INSERT INTO domains (name, created, rname) VALUES (?, ?, ?)")
        let selectDomain = try db.cachedStatement(sql: "SELECT id FROM domains WHERE name = ?")
        let find = try db.cachedStatement(sql: """
            SELECT id, time_first, time_last, count FROM spans WHERE domain_id = ? AND rrtype = ? AND rdata = ? AND source_id = ?
            """)
        let update = try db.cachedStatement(sql: "UPDATE spans SET time_first = ?, time_last = ?, count = ? WHERE id = ?")
        let insert = try db.cachedStatement(sql: """
            INSERT INTO spans (domain_id, rrtype, status, rdata, time_first, time_last, count, class, provider, fp_version, source_id)
            VALUES (?, ?, 'NOERROR', ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertValue = try db.cachedStatement(sql: "INSERT OR IGNORE INTO span_values (key, domain_id, span_id) VALUES (?, ?, ?)")
        for r in records {
            let domainID: Int64
            if let known = domainIDs[r.domain] {
                domainID = known
            } else {
                if let id = try Int64.fetchOne(selectDomain, arguments: [r.domain]) {
                    domainID = id
                } else {
                    try insertDomain.execute(arguments: [r.domain, time, ValueKey.reversedName(r.domain)])
                    domainID = db.lastInsertedRowID
                }
                domainIDs[r.domain] = domainID
            }
            let rdata = RdataCodec.encode(r.rdata)
            if let row = try Row.fetchOne(find, arguments: [domainID, r.rrtype, rdata, sourceID]) {
                counts.merged += 1
                let first: Int64 = row[1], last: Int64 = row[2], count: Int = row[3]
                let merged = (min(first, r.timeFirst), max(last, r.timeLast), max(count, r.count))
                guard merged != (first, last, count) else { continue }
                counts.changed += 1
                try update.execute(arguments: [merged.0, merged.1, merged.2, row[0] as Int64])
                continue
            }
            let cls = classify(r)
            try insert.execute(arguments: [domainID, r.rrtype, rdata, r.timeFirst, r.timeLast, r.count,
                                           cls.class, cls.provider, fingerprintVersion, sourceID])
            let spanID = db.lastInsertedRowID
            for key in ValueKey.keys(rrtype: r.rrtype, status: .noerror, rdata: r.rdata) {
                try insertValue.execute(arguments: [Data(key), domainID, spanID])
            }
            counts.imported += 1
        }
        return counts
    }
}

extension SQLiteStore: ImportStore {
    public func importBatchBlocking(_ records: [ImportedRecord], source: String, at time: Int64, fingerprintVersion: String?,
                                    classify: @escaping @Sendable ([String: Int]) -> (ImportedRecord) -> DomainState) throws -> MergeCounts {
        try writeBlocking { w in
            let sourceID = try w.source(named: source, at: time)
            let classifier = classify(try w.cachedASNs(ImportedRecord.addresses(of: records)))
            return try w.mergeImported(records, sourceID: sourceID, at: time, fingerprintVersion: fingerprintVersion, classify: classifier)
        }
    }
}
