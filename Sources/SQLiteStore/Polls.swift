public import DNSWatchModel
public import Store
import GRDB

extension SQLiteStore {
    /// Active watched domains with id greater than `afterID`, in id order, at most `limit`
    /// (a poll streams the watchlist in such chunks). With `dueAt`, only domains due by then:
    /// never polled, or `next_due` reached.
    public func pollTargets(afterID: Int64, limit: Int, dueAt: Int64? = nil) async throws -> [PollTarget] {
        try await read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT d.id, d.name, l.id AS list_id, l.name AS list, l.kind, l.interval
                FROM (SELECT d.id, d.name FROM domains d LEFT JOIN domain_status s ON s.domain_id = d.id
                      WHERE d.id > ?
                        AND EXISTS (SELECT 1 FROM memberships m WHERE m.domain_id = d.id AND m.retired IS NULL)
                        AND (? IS NULL OR s.next_due IS NULL OR s.next_due <= ?)
                      ORDER BY d.id LIMIT ?) d
                JOIN memberships m ON m.domain_id = d.id AND m.retired IS NULL
                JOIN lists l ON l.id = m.list_id
                ORDER BY d.id, l.name
                """, arguments: [afterID, dueAt, dueAt, limit])
            var out = PollTargetRows(capacity: limit)
            while let row = try rows.next() {
                try out.add(domainID: row[0], name: { row[1] }, listID: row[2]) {
                    Membership(list: row["list"], kind: try row.decode(ListKind.self, forColumn: "kind"), interval: row["interval"])
                }
            }
            return out.targets
        }
    }

    /// Starts a poll run. Runs a killed process left open are not touched: they keep `finished` NULL.
    public func beginPoll(at time: Int64, resolvers: String, poller: String? = nil) async throws -> Int64 {
        try await write { w in
            try w.db.execute(sql: "INSERT INTO polls (started, resolvers, poller) VALUES (?, ?, ?)", arguments: [time, resolvers, poller])
            return w.db.lastInsertedRowID
        }
    }

    /// Marks a poll run finished.
    public func finishPoll(_ id: Int64, at time: Int64) async throws {
        try await write { w in try w.db.execute(sql: "UPDATE polls SET finished = ? WHERE id = ?", arguments: [time, id]) }
    }
}

extension SQLiteStore {
    /// How many domains a poll would visit (all active ones, or those due by `dueAt`).
    public func countTargets(dueAt: Int64? = nil) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM domains d LEFT JOIN domain_status s ON s.domain_id = d.id
                WHERE EXISTS (SELECT 1 FROM memberships m WHERE m.domain_id = d.id AND m.retired IS NULL)
                  AND (? IS NULL OR s.next_due IS NULL OR s.next_due <= ?)
                """, arguments: [dueAt, dueAt]) ?? 0
        }
    }
}

extension SQLiteStore {
    /// Brings due times forward where a domain's interval got shorter since it was polled (a list's
    /// `interval` changed, the config's defaults changed, or the domain joined a list polled more often):
    /// `next_due` becomes at most `last_polled` + the domain's current shortest interval
    /// (`PollInterval.Defaults.shortest`, the one rule the poll also uses).
    public func clampDueTimes(defaults: PollInterval.Defaults) async throws {
        try await write { w in
            // Only domains due later than the shortest interval of any active list allows can need it.
            let lists = try Row.fetchAll(w.db, sql: """
                SELECT DISTINCT l.interval, l.kind FROM lists l JOIN memberships m ON m.list_id = l.id AND m.retired IS NULL
                """)
            let intervals = try lists.map { defaults.interval(listInterval: $0["interval"], kind: try $0.decode(ListKind.self, forColumn: "kind")) }
            guard let floor = intervals.min() else { return }
            let rows = try Row.fetchAll(w.db, sql: """
                SELECT s.domain_id, s.last_polled, s.next_due, l.interval, l.kind FROM domain_status s
                JOIN memberships m ON m.domain_id = s.domain_id AND m.retired IS NULL JOIN lists l ON l.id = m.list_id
                WHERE s.last_polled IS NOT NULL AND s.next_due - s.last_polled > ?
                ORDER BY s.domain_id
                """, arguments: [floor])
            var i = 0
            while i < rows.count {
                let id: Int64 = rows[i][0], lastPolled: Int64 = rows[i][1], nextDue: Int64 = rows[i][2]
                var memberships: [(interval: Int?, kind: ListKind)] = []
                while i < rows.count, rows[i][0] as Int64 == id {
                    memberships.append((rows[i][3], try rows[i].decode(ListKind.self, forColumn: "kind")))
                    i += 1
                }
                let latest = lastPolled + Int64(defaults.shortest(memberships))
                if nextDue > latest {
                    try w.db.execute(sql: "UPDATE domain_status SET next_due = ? WHERE domain_id = ?", arguments: [latest, id])
                }
            }
        }
    }
}

extension SQLiteStore: PollStore {
    /// SQLite has one writer: batches are written one after another.
    public var concurrentBatchWrites: Int { 1 }

    public func claimTargets(afterID: Int64, limit: Int, dueAt: Int64?, poller: String, lease: Int64) async throws -> ClaimedTargets {
        // One poller at a time holds the poll lock: nothing to lease.
        ClaimedTargets(targets: try await pollTargets(afterID: afterID, limit: limit, dueAt: dueAt), lease: nil)
    }

    public func beginPoll(at time: Int64, resolvers: String, poller: String) async throws -> Int64 {
        try await beginPoll(at: time, resolvers: resolvers, poller: Optional(poller))
    }

    public func saveASN(_ entries: [ASNEntry], none: [ASNEntry], at time: Int64, ttl: Int64, negativeTTL: Int64) async throws {
        try await write { w in
            try w.saveASN(entries, at: time, ttl: ttl)
            try w.saveASN(none, at: time, ttl: negativeTTL)
        }
    }

    public func pendingDeliveries(sinks: [String], poller: String) async throws -> [QueuedDelivery] {
        try await pendingDeliveries(sinks: sinks)
    }
}

extension SQLiteStore {
    /// The pollers that recorded poll runs here (one poller at a time on SQLite; each run names its
    /// `--poller`), by name. Claimed domains are the domains of their runs.
    public func pollers() async throws -> [PollerInfo] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT p.poller, max(coalesce(p.finished, p.started)) AS seen, sum(p.domains) AS claimed, max(p.id) AS last
                FROM polls p WHERE p.poller IS NOT NULL GROUP BY p.poller ORDER BY p.poller
                """).map { row in
                let last: Int64 = row["last"]
                let run = try Row.fetchOne(db, sql: "SELECT * FROM polls WHERE id = ?", arguments: [last]).map { r in
                    var c = PollCounts()
                    c.domains = r["domains"]
                    c.queries = r["queries"]
                    c.answers = r["answers"]
                    c.failures = r["failures"]
                    c.changes = r["changes"]
                    c.alerts = r["alerts"]
                    return PollRun(id: r["id"], started: r["started"], finished: r["finished"], counts: c)
                }
                return PollerInfo(name: row["poller"], lastSeen: row["seen"], claimed: row["claimed"], lastPoll: run)
            }
        }
    }
}
