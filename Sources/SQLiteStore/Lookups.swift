public import DNSWatchModel
public import Store
import Foundation
import GRDB

extension SQLiteStore {

    public func rrsetSpans(_ name: NameMatch, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<SpanRecord> {
        LookupPages { cursor in
            try await self.read { db in
                // A page is whole domains (a domain's spans are few), found by their reversed name.
                var domainSQL = "SELECT id, name, rname FROM domains WHERE "
                var args = StatementArguments()
                switch name {
                case .exact(let n):
                    domainSQL += "rname = ?"
                    args += [ValueKey.reversedName(n)]
                case .subdomains(let suffix):
                    let (low, high) = ValueKey.subdomainNameRange(of: suffix)
                    domainSQL += "rname >= ? AND rname < ?"
                    args += [low, high]
                }
                if case .afterName(let last)? = cursor {
                    domainSQL += " AND rname > ?"
                    args += [last]
                }
                let perPage = SpanRecord.rrsetDomainsPerPage(pageSize)
                domainSQL += " ORDER BY rname LIMIT \(perPage)"
                let domains = try Row.fetchAll(db, sql: domainSQL, arguments: args)
                guard let lastDomain = domains.last else { return ([], nil) }
                let (fenceSQL, fenceArgs) = fence.sql
                var spanArgs = StatementArguments(domains.map { $0[0] as Int64 })
                var typeSQL = ""
                if let type {
                    typeSQL = " AND s.rrtype = ?"
                    spanArgs += [type]
                }
                spanArgs += fenceArgs
                let marks = placeholders(domains.count)
                let names = Dictionary(uniqueKeysWithValues: domains.map { ($0[0] as Int64, ($0[1] as String, $0[2] as String)) })
                var spans = try Row.fetchAll(db, sql: """
                    SELECT s.domain_id, s.*, \(SpanRecord.sourceColumn) FROM spans_seen s
                    WHERE s.domain_id IN (\(marks)) AND s.status = 'NOERROR'\(typeSQL) AND \(fenceSQL)
                    """, arguments: spanArgs).map { row in
                    (rname: names[row[0]]?.1 ?? "", span: try SpanRecord(row: row, domain: names[row[0]]?.0 ?? ""))
                }
                spans.sort(by: SpanRecord.rrsetOrder)
                let more = domains.count == perPage
                return (spans.map(\.span), more ? .afterName(lastDomain[2]) : nil)
            }
        }
    }

    public func valueSpans(_ range: ValueKeyRange, type: RRType?, fence: TimeFence, pageSize: Int) -> LookupPages<ValueHit> {
        let (low, high) = (range.low, range.high)
        return LookupPages { cursor in
            try await self.read { db in
                let upper = range.inclusiveHigh ? "<=" : "<"
                func select(_ keyCondition: String, _ keyArgs: StatementArguments, limit: Int) throws -> [Row] {
                    var args = keyArgs
                    var sql = """
                        SELECT v.key, v.domain_id, v.span_id, d.name AS domain, s.*, \(SpanRecord.sourceColumn), EXISTS (SELECT 1 FROM heads h WHERE h.span_id = s.id) AS current
                        FROM span_values v JOIN spans_seen s ON s.id = v.span_id JOIN domains d ON d.id = s.domain_id
                        WHERE \(keyCondition)
                        """
                    if let type {
                        sql += " AND s.rrtype = ?"
                        args += [type]
                    }
                    let (fenceSQL, fenceArgs) = fence.sql
                    sql += " AND \(fenceSQL) ORDER BY v.key, v.domain_id, v.span_id LIMIT \(limit)"
                    args += fenceArgs
                    return try Row.fetchAll(db, sql: sql, arguments: args)
                }
                var rows: [Row]
                if case .afterValue(let key, let domain, let span)? = cursor {
                    // Resume after the last row: the rest of its key (an equality and a row-value range, which
                    // SQLite seeks to), then the keys after it. One row-value range over all three columns
                    // would be only a filter, and each page would rescan a busy key from its start.
                    rows = try select("v.key = ? AND (v.domain_id, v.span_id) > (?, ?)", [Data(key), domain, span], limit: pageSize)
                    if rows.count < pageSize {
                        rows += try select("v.key > ? AND v.key \(upper) ?", [Data(key), Data(high)], limit: pageSize - rows.count)
                    }
                } else {
                    rows = try select("v.key >= ? AND v.key \(upper) ?", [Data(low), Data(high)], limit: pageSize)
                }
                let hits = try rows.map { row -> ValueHit in
                    let key: Data = row[0]
                    return ValueHit(span: try SpanRecord(row: row), value: try ValueKey.text(of: Array(key)), current: row["current"])
                }
                guard rows.count == pageSize, let last = rows.last else { return (hits, nil) }
                let key: Data = last[0]
                return (hits, .afterValue(key: Array(key), domain: last[1], span: last[2]))
            }
        }
    }
}

extension SQLiteStore: ServeReading {}
