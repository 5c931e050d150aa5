import DNSWatchModel
import Foundation
public import GRDB
public import Store

// GRDB conformances of the Store's plain records (rows read from SQLite), and the SQL fragments of its
// filters: GRDB stays in this target.

extension SpanRecord: FetchableRecord {
    /// From a `spans` row with the domain's name as `domain` (and its source's name as `source`:
    /// `SpanRecord.sourceColumn`).
    public init(row: Row) throws {
        try self.init(row: row, domain: row["domain"])
    }

    /// From a `spans` row, for a domain named elsewhere.
    init(row: Row, domain: String) throws {
        let id: Int64 = row["id"]
        let source: String? = row["source"]
        guard source != nil || row["source_id"] as Int64? == nil else {
            throw DatabaseError(resultCode: .SQLITE_CORRUPT, message: "span \(id) names a source that is not stored")
        }
        self.init(id: id, domain: domain, rrtype: try row.decode(forColumn: "rrtype"), status: try row.decode(forColumn: "status"),
                  rdata: RdataCodec.decode(row["rdata"]), timeFirst: row["time_first"], timeLast: row["time_last"], count: row["count"],
                  class: try row.decode(forColumn: "class"), provider: row["provider"], source: source)
    }

    /// The column a span query selects beside `s.*` for `source` (the sources table is a handful of rows,
    /// each found by its primary key).
    static let sourceColumn = "(SELECT name FROM sources WHERE id = s.source_id) AS source"
}

extension SourceFilter {
    /// The SQL condition on `s.source_id`, with its arguments.
    var sql: (String, StatementArguments) {
        switch self {
        case .polled: ("s.source_id IS NULL", [])
        case .named(let name): ("s.source_id = (SELECT id FROM sources WHERE name = ?)", [name])
        }
    }
}

extension StoredAlert: FetchableRecord {
    public init(row: Row) throws {
        self.init(id: row["id"], time: row["time"], domain: row["domain"], list: row["list"], type: row["type"], severity: row["severity"],
                  severityRank: row["severity_rank"], message: row["message"], payload: row["payload"])
    }
}

extension TimeFence {
    /// The SQL condition on `s.time_first` / `s.time_last`, with its arguments.
    var sql: (String, StatementArguments) {
        var parts: [String] = []
        var args = StatementArguments()
        if let t = firstBefore { parts.append("s.time_first <= ?"); args += [t] }
        if let t = firstAfter { parts.append("s.time_first >= ?"); args += [t] }
        if let t = lastBefore { parts.append("s.time_last <= ?"); args += [t] }
        if let t = lastAfter { parts.append("s.time_last >= ?"); args += [t] }
        return (parts.isEmpty ? "1" : parts.joined(separator: " AND "), args)
    }
}

extension ValueKey {
    /// Fills `domains.rname` and `span_values` for what is already stored (migration 0005), in pages of
    /// spans so that memory stays bounded on a large history.
    static func backfill(_ db: Database) throws {
        let setName = try db.makeStatement(sql: "UPDATE domains SET rname = ? WHERE id = ?")
        for row in try Row.fetchAll(db, sql: "SELECT id, name FROM domains") {
            try setName.execute(arguments: [reversedName(row[1]), row[0] as Int64])
        }
        let insert = try db.makeStatement(sql: "INSERT OR IGNORE INTO span_values (key, domain_id, span_id) VALUES (?, ?, ?)")
        var after: Int64 = 0
        while true {
            let rows = try Row.fetchAll(db, sql: """
                SELECT id, rrtype, status, rdata, domain_id FROM spans WHERE id > ? AND status = 'NOERROR'
                  AND rrtype IN ('A', 'AAAA', 'NS', 'CNAME') ORDER BY id LIMIT 5000
                """, arguments: [after])
            guard let last = rows.last else { break }
            for row in rows {
                let id: Int64 = row[0]
                let rrtype: RRType = try row.decode(atIndex: 1)
                let status: AnswerStatus = try row.decode(atIndex: 2)
                for key in keys(rrtype: rrtype, status: status, rdata: RdataCodec.decode(row[3])) {
                    try insert.execute(arguments: [Data(key), row[4] as Int64, id])
                }
            }
            after = last[0]
        }
    }
}

extension WatchedDomain: FetchableRecord {
    /// From a row with `domain`, `list`, `kind`, `interval`, `added`, `note` and optionally `retired`.
    public init(row: Row) throws {
        self.init(domain: row["domain"], list: row["list"], kind: try row.decode(forColumn: "kind"), interval: row["interval"],
                  added: row["added"], note: row["note"], retired: row["retired"])
    }
}

extension ASNEntry: FetchableRecord {
    public init(row: Row) throws {
        self.init(address: row["address"], asn: row["asn"], prefix: row["prefix"], country: row["country"], registry: row["registry"])
    }
}

extension RawSpan: FetchableRecord {
    public init(row: Row) throws {
        self.init(id: row["id"], domainID: row["domain_id"], rrtype: try row.decode(forColumn: "rrtype"),
                  status: try row.decode(forColumn: "status"), rdata: RdataCodec.decode(row["rdata"]))
    }
}

extension AlertingMemory {
    /// The columns of `domain_alerting` (as `al`) that `init?(row:at:)` reads, in its order.
    static let columns = """
        al.penalty, al.penalty_time, al.suppressed_since, al.alerted_view, al.disagreement_polls, al.disagreement_alerted, al.unconfirmed
        """

    /// From the `columns` of `row`, starting at column `i`; nil when the domain has no `domain_alerting` row
    /// (a NULL penalty: a LEFT JOIN found none).
    init?(row: Row, at i: Int) {
        guard let penalty = row[i] as Int64? else { return nil }
        self.init(penalty: Double(penalty), penaltyTime: row[i + 1], suppressedSince: row[i + 2], alertedViewJSON: row[i + 3],
                  disagreementPolls: row[i + 4], disagreementAlerted: row[i + 5], unconfirmedJSON: row[i + 6])
    }
}
