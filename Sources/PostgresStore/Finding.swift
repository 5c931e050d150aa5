public import Store
import DNSWatchModel
import PostgresNIO

/// `watch list` and `alerts` on PostgreSQL: SQLite's statements (SQLiteStore, Finding.swift) ported, with
/// the same filters (only those given, in the WHERE), order and limit, so that both backends print the same.
extension PostgresStore: FindingReading {
    public func watchedStates(_ filter: WatchedFilter) async throws -> [WatchedState] {
        try await connection("reading the watched domains' states") { connection in
            var binds = PostgresBindings()
            var conditions = ["m.retired IS NULL"]
            if let list = filter.list {
                binds.append(list)
                conditions.append("l.name = $\(binds.count)")
            }
            switch filter.state {
            case nil: break
            case .unpolled: conditions.append("st.domain_id IS NULL")
            case .state(let c):
                binds.append(c.rawValue)
                conditions.append("st.class = $\(binds.count)")
            }
            // Ordered by bytes (COLLATE "C"), as SQLite's BINARY collation orders them; the latest alert of each
            // domain is one probe of alerts_by_domain (domain, time).
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT d.name, l.name, l.kind, l.interval, m.added, m.note,
                       st.class, st.provider, s.last_polled, s.next_due,
                       a.id, a.time, a.type, a.severity, a.severity_rank
                FROM memberships m JOIN lists l ON l.id = m.list_id JOIN domains d ON d.id = m.domain_id
                LEFT JOIN domain_state st ON st.domain_id = d.id
                LEFT JOIN domain_status s ON s.domain_id = d.id
                LEFT JOIN LATERAL (SELECT x.id, x.time, x.type, x.severity, x.severity_rank FROM alerts x WHERE x.domain = d.name
                                   ORDER BY x.time DESC, x.id DESC LIMIT 1) a ON true
                WHERE \(conditions.joined(separator: " AND "))
                ORDER BY l.name COLLATE "C", d.name COLLATE "C"
                """, binds: binds), logger: self.logger)
            var out: [WatchedState] = []
            for try await row in rows {
                let c = row.makeRandomAccess()
                let membership = WatchedDomain(domain: try c[0].decode(String.self), list: try c[1].decode(String.self),
                                               kind: try Stored.listKind(try c[2].decode(String.self)),
                                               interval: try c[3].decode(Int64?.self).map { Int($0) }, added: try c[4].decode(Int64.self),
                                               note: try c[5].decode(String?.self))
                let state = try c[6].decode(String?.self).map { DomainState(class: try Stored.domainClass($0), provider: try c[7].decode(String?.self)) }
                var alert: AlertMark?
                if let id = try c[10].decode(Int64?.self) {
                    alert = AlertMark(id: id, time: try c[11].decode(Int64.self), type: try c[12].decode(String.self),
                                      severity: try c[13].decode(String.self), severityRank: Int(try c[14].decode(Int64.self)))
                }
                out.append(WatchedState(membership: membership, state: state, lastPolled: try c[8].decode(Int64?.self),
                                        nextDue: try c[9].decode(Int64?.self), lastAlert: alert))
            }
            return out
        }
    }

    public func alerts(_ filter: AlertFilter) async throws -> [StoredAlert] {
        try await connection("reading alerts") { connection in
            var binds = PostgresBindings()
            var conditions: [String] = []
            if let since = filter.since {
                binds.append(since)
                conditions.append("time >= $\(binds.count)")
            }
            if filter.minRank > 0 {
                binds.append(Int64(filter.minRank))
                conditions.append("severity_rank >= $\(binds.count)")
            }
            if let domain = filter.domain {
                binds.append(domain)
                conditions.append("domain = $\(binds.count)")
            }
            if let list = filter.list {
                binds.append(list)
                conditions.append("list = $\(binds.count)")
            }
            if !filter.types.isEmpty {
                binds.append(filter.types)
                conditions.append("type = ANY($\(binds.count))")
            }
            var limit = ""
            if let n = filter.limit {
                binds.append(Int64(n))
                limit = " LIMIT $\(binds.count)"
            }
            let whereSQL = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.alertColumns) FROM alerts\(whereSQL)
                ORDER BY time DESC, id DESC\(limit)
                """, binds: binds), logger: self.logger)
            return try await Self.alerts(rows)
        }
    }
}
