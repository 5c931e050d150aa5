public import Store
import DNSWatchModel
import GRDB

/// `watch list` and `alerts` on SQLite: one statement each, the filters in its WHERE (only those given, so
/// that the planner sees plain conditions: `alerts_by_domain` for a domain, `alerts_by_time` for the newest
/// first) and the limit in its LIMIT.
extension SQLiteStore: FindingReading {
    public func watchedStates(_ filter: WatchedFilter) async throws -> [WatchedState] {
        try await read { db in
            var conditions = ["m.retired IS NULL"]
            var args = StatementArguments()
            if let list = filter.list {
                conditions.append("l.name = ?")
                args += [list]
            }
            switch filter.state {
            case nil: break
            case .unpolled: conditions.append("st.domain_id IS NULL")
            case .state(let c):
                conditions.append("st.class = ?")
                args += [c.rawValue]
            }
            // The latest alert of each domain is one probe of alerts_by_domain (domain, time; the rowid last).
            let rows = try Row.fetchCursor(db, sql: """
                SELECT d.name AS domain, l.name AS list, l.kind, l.interval, m.added, m.note,
                       st.class, st.provider, s.last_polled, s.next_due,
                       a.id AS alert_id, a.time AS alert_time, a.type AS alert_type, a.severity AS alert_severity, a.severity_rank AS alert_rank
                FROM memberships m JOIN lists l ON l.id = m.list_id JOIN domains d ON d.id = m.domain_id
                LEFT JOIN domain_state st ON st.domain_id = d.id
                LEFT JOIN domain_status s ON s.domain_id = d.id
                LEFT JOIN alerts a ON a.id = (SELECT x.id FROM alerts x WHERE x.domain = d.name ORDER BY x.time DESC, x.id DESC LIMIT 1)
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY l.name, d.name
                """, arguments: args)
            var out: [WatchedState] = []
            while let row = try rows.next() {
                let membership = try WatchedDomain(row: row)
                let state: DomainState? = try (row["class"] as String?).map { _ in
                    DomainState(class: try row.decode(forColumn: "class"), provider: row["provider"])
                }
                let alert: AlertMark? = (row["alert_id"] as Int64?).map { id in
                    AlertMark(id: id, time: row["alert_time"], type: row["alert_type"], severity: row["alert_severity"],
                              severityRank: row["alert_rank"])
                }
                out.append(WatchedState(membership: membership, state: state, lastPolled: row["last_polled"], nextDue: row["next_due"],
                                        lastAlert: alert))
            }
            return out
        }
    }

    public func alerts(_ filter: AlertFilter) async throws -> [StoredAlert] {
        try await read { db in
            var conditions: [String] = []
            var args = StatementArguments()
            if let since = filter.since {
                conditions.append("time >= ?")
                args += [since]
            }
            if filter.minRank > 0 {
                conditions.append("severity_rank >= ?")
                args += [filter.minRank]
            }
            if let domain = filter.domain {
                conditions.append("domain = ?")
                args += [domain]
            }
            if let list = filter.list {
                conditions.append("list = ?")
                args += [list]
            }
            if !filter.types.isEmpty {
                conditions.append("type IN (\(placeholders(filter.types.count)))")
                args += StatementArguments(filter.types)
            }
            var limit = ""
            if let n = filter.limit {
                limit = " LIMIT ?"
                args += [n]
            }
            let whereSQL = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            return try StoredAlert.fetchAll(db, sql: """
                SELECT id, time, domain, list, type, severity, severity_rank, coalesce(json_extract(payload, '$.message'), '') AS message,
                       payload FROM alerts\(whereSQL)
                ORDER BY time DESC, id DESC\(limit)
                """, arguments: args)
        }
    }
}
