public import DNSWatchModel
public import Store
import Logging
import PostgresNIO

extension PostgresStore: PollStore {
    /// Two batches of one poll are written at once: their transactions touch distinct domains (only the
    /// poll run's counts are shared, one short row lock at the end of each).
    public var concurrentBatchWrites: Int { 2 }

    /// Watched (active membership), and due by `$1` when it is not NULL (no status row, or a next due time
    /// by then); the one condition of counting and claiming. Both are scalar subqueries by index of the one
    /// domain, so that a claim walks `domains` in id order and stops at its limit. (Written as `EXISTS`,
    /// PostgreSQL turned them into semi- and anti-joins that hash every membership and status row: each
    /// claim read the whole watchlist, 60 ms a claim at 20,000 domains, a quarter of a poll's server time.)
    /// `(SELECT true ... LIMIT 1)` is NULL when there is no row.
    private static let watchedAndDue = """
        (SELECT true FROM memberships m WHERE m.domain_id = d.id AND m.retired IS NULL LIMIT 1)
          AND (CAST($1 AS BIGINT) IS NULL OR (SELECT true FROM domain_status s WHERE s.domain_id = d.id AND s.next_due > $1) IS NULL)
        """

    /// Outside every live claim (migration 0004): a claim's range holds the due domains it took.
    private static let unclaimed = """
        NOT EXISTS (SELECT 1 FROM claims c WHERE d.id BETWEEN c.low AND c.high AND c.until > clock_timestamp())
        """

    public func countTargets(dueAt: Int64?) async throws -> Int {
        try await connection("counting due domains") { connection in
            var binds = PostgresBindings()
            binds.append(dueAt)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT count(*) FROM domains d WHERE \(Self.watchedAndDue) AND \(Self.unclaimed)
                """, binds: binds), logger: self.logger)
            for try await n in rows.decode(Int64.self) { return Int(n) }
            return 0
        }
    }

    /// Claims the next due domains after `afterID` under a new lease token: one at a time (an advisory lock),
    /// the claims that expired are deleted (their batches can no longer commit), then the due domains
    /// outside every live claim, in id order up to `limit`, become one claim (a row of `claims` with their
    /// range), and the poller is registered (last seen, domains claimed).
    public func claimTargets(afterID: Int64, limit: Int, dueAt: Int64?, poller: String, lease: Int64) async throws -> ClaimedTargets {
        let logger = self.logger
        return try await transaction("claiming due domains") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.claimsLockKey))", logger: logger)
            try await connection.query("DELETE FROM claims WHERE until <= clock_timestamp()", logger: logger)
            var binds = PostgresBindings()
            binds.append(dueAt)
            binds.append(afterID)
            binds.append(Int64(limit))
            binds.append(poller)
            binds.append(lease)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                WITH picked AS (
                    SELECT d.id, d.name FROM domains d
                    WHERE d.id > $2 AND \(Self.watchedAndDue) AND \(Self.unclaimed)
                    ORDER BY d.id LIMIT $3),
                claim AS (
                    INSERT INTO claims (token, poller, low, high, until)
                    SELECT nextval('lease_tokens'), $4, min(id), max(id), clock_timestamp() + make_interval(secs => $5)
                    FROM picked HAVING count(*) > 0
                    RETURNING token),
                seen AS (
                    INSERT INTO pollers (name, last_seen, claimed) SELECT $4, now(), count(*) FROM picked
                    ON CONFLICT (name) DO UPDATE SET last_seen = now(), claimed = pollers.claimed + excluded.claimed)
                SELECT p.id, p.name, l.id, l.name, l.kind, l.interval, (SELECT token FROM claim) FROM picked p
                JOIN LATERAL (SELECT m.list_id FROM memberships m WHERE m.domain_id = p.id AND m.retired IS NULL OFFSET 0) m ON true
                JOIN lists l ON l.id = m.list_id
                ORDER BY p.id, l.name COLLATE "C"
                """, binds: binds), logger: logger)
            var targets = PollTargetRows(capacity: limit)
            var token: Int64?
            for try await (id, name, listID, list, kind, interval, lease) in rows.decode((Int64, String, Int64, String, String, Int64?, Int64).self) {
                token = lease
                try targets.add(domainID: id, name: { name }, listID: listID) {
                    Membership(list: list, kind: try Stored.listKind(kind), interval: interval.map { Int($0) })
                }
            }
            return ClaimedTargets(targets: targets.targets, lease: token)
        }
    }

    public func beginPoll(at time: Int64, resolvers: String, poller: String) async throws -> Int64 {
        try await transaction("starting a poll run") { connection in
            let rows = try await connection.query("""
                INSERT INTO polls (started, resolvers, poller) VALUES (\(time), \(resolvers), \(poller)) RETURNING id
                """, logger: self.logger)
            for try await id in rows.decode(Int64.self) { return id }
            throw PostgresStore.Failure("\(self.url): starting a poll run returned no id")
        }
    }

    /// The run's `finish_seq` is taken under a lock held to the commit, so runs become visible in that
    /// order (migration 0002), whichever poller finishes first.
    public func finishPoll(_ id: Int64, at time: Int64) async throws {
        let logger = self.logger
        try await transaction("finishing a poll run") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.finishesLockKey))", logger: logger)
            try await connection.query("UPDATE polls SET finished = \(time), finish_seq = nextval('poll_finishes') WHERE id = \(id)",
                                       logger: logger)
        }
    }

    public func clampDueTimes(defaults: PollInterval.Defaults) async throws {
        try await transaction("bringing due times forward") { connection in
            let logger = self.logger
            var intervals: [Int] = []
            for try await (interval, kind) in try await connection.query("""
                SELECT DISTINCT l.interval, l.kind FROM lists l JOIN memberships m ON m.list_id = l.id AND m.retired IS NULL
                """, logger: logger).decode((Int64?, String).self) {
                intervals.append(defaults.interval(listInterval: interval.map { Int($0) }, kind: try Stored.listKind(kind)))
            }
            guard let floor = intervals.min() else { return }
            var latest: [Int64: (lastPolled: Int64, nextDue: Int64, memberships: [(interval: Int?, kind: ListKind)])] = [:]
            for try await (id, lastPolled, nextDue, interval, kind) in try await connection.query("""
                SELECT s.domain_id, s.last_polled, s.next_due, l.interval, l.kind FROM domain_status s
                JOIN memberships m ON m.domain_id = s.domain_id AND m.retired IS NULL JOIN lists l ON l.id = m.list_id
                WHERE s.last_polled IS NOT NULL AND s.next_due - s.last_polled > \(Int64(floor))
                """, logger: logger).decode((Int64, Int64, Int64, Int64?, String).self) {
                latest[id, default: (lastPolled, nextDue, [])].memberships.append((interval.map { Int($0) }, try Stored.listKind(kind)))
            }
            var ids: [Int64] = [], due: [Int64] = []
            for (id, d) in latest {
                let clamped = d.lastPolled + Int64(defaults.shortest(d.memberships))
                if d.nextDue > clamped {
                    ids.append(id)
                    due.append(clamped)
                }
            }
            guard !ids.isEmpty else { return }
            try await connection.query("""
                UPDATE domain_status s SET next_due = v.due FROM unnest(\(ids)::bigint[], \(due)::bigint[]) AS v(id, due)
                WHERE s.domain_id = v.id
                """, logger: logger)
        }
    }

    public func cachedASN(_ addresses: [String], now: Int64) async throws -> [String: ASNEntry] {
        guard !addresses.isEmpty else { return [:] }
        return try await connection("reading the origin-ASN cache") { connection in
            try await Self.cachedASN(connection, logger: self.logger, addresses, now: now)
        }
    }

    public func saveASN(_ entries: [ASNEntry], none: [ASNEntry], at time: Int64, ttl: Int64, negativeTTL: Int64) async throws {
        guard !(entries.isEmpty && none.isEmpty) else { return }
        // One row per address (the last answer wins, as INSERT OR REPLACE does on SQLite).
        var rows: [String: [Bind]] = [:]
        for (list, keep) in [(entries, ttl), (none, negativeTTL)] {
            for e in list {
                rows[e.address] = [.text(e.address), .int(e.asn.map { Int64($0) }), .text(e.prefix), .text(e.country), .text(e.registry),
                                   .int(time), .int(time + keep)]
            }
        }
        // In address order: two pollers saving overlapping addresses lock their rows in the same order (no deadlock).
        let values = rows.keys.sorted().compactMap { rows[$0] }, logger = self.logger
        try await transaction("saving origin ASNs") { connection in
            try await connection.insertRows("INSERT INTO asn_cache (address, asn, prefix, country, registry, fetched, expires)", """
                ON CONFLICT (address) DO UPDATE SET asn = excluded.asn, prefix = excluded.prefix, country = excluded.country,
                    registry = excluded.registry, fetched = excluded.fetched, expires = excluded.expires
                """, columns: 7, values, logger: logger)
        }
    }

    /// The transaction-level lock of claiming deliveries ("dnsoutbx" in ASCII): one claim at a time.
    static let deliveriesLockKey: Int64 = 0x646E_736F_7574_6278

    /// Claims the pending deliveries of these sink keys for `poller` and returns them, oldest first. A sink
    /// with a delivery claimed by another poller (whose claim has not expired) is left to that poller, so
    /// one sink's alerts go out from one poller, in order. Claims are made one at a time (an advisory lock
    /// held to the commit): the statement after it reads every earlier claim committed, where two claims at
    /// once would each miss the other's and split a sink's queue between them.
    public func pendingDeliveries(sinks: [String], poller: String) async throws -> [QueuedDelivery] {
        guard !sinks.isEmpty else { return [] }
        let logger = self.logger
        return try await transaction("claiming pending deliveries") { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.deliveriesLockKey))", logger: logger)
            let rows = try await connection.query("""
                WITH picked AS (
                    SELECT p.alert_id, p.sink FROM deliveries p
                    WHERE p.delivered IS NULL AND p.sink = ANY(\(sinks)) AND (p.claim_until IS NULL OR p.claim_until < now()
                          OR p.claimed_by = \(poller))
                      AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.sink = p.sink AND o.delivered IS NULL
                                      AND o.claimed_by <> \(poller) AND o.claim_until >= now())
                    ORDER BY p.alert_id FOR UPDATE SKIP LOCKED)
                UPDATE deliveries d SET claimed_by = \(poller), claim_until = now() + interval '10 minutes'
                FROM picked, alerts a WHERE d.alert_id = picked.alert_id AND d.sink = picked.sink AND a.id = d.alert_id
                RETURNING d.alert_id, d.sink, a.payload
                """, logger: self.logger)
            var out: [QueuedDelivery] = []
            for try await (id, sink, payload) in rows.decode((Int64, String, String).self) {
                out.append(QueuedDelivery(alertID: id, sink: sink, payload: payload))
            }
            return out.sorted { ($0.alertID, $0.sink) < ($1.alertID, $1.sink) }
        }
    }

    public func recordDelivery(alertID: Int64, sink: String, at time: Int64, error: String?) async throws {
        try await connection("recording a delivery") { connection in
            if let error {
                try await connection.query("""
                    UPDATE deliveries SET attempts = attempts + 1, last_error = \(error), claimed_by = NULL, claim_until = NULL
                    WHERE alert_id = \(alertID) AND sink = \(sink)
                    """, logger: self.logger)
            } else {
                try await connection.query("""
                    UPDATE deliveries SET attempts = attempts + 1, delivered = \(time), last_error = NULL, claimed_by = NULL,
                        claim_until = NULL
                    WHERE alert_id = \(alertID) AND sink = \(sink) AND delivered IS NULL
                    """, logger: self.logger)
            }
        }
    }
}

extension PostgresStore {
    /// Every poller with a poll run here, by name (`PollerInfo`): last seen at its runs' latest time (the
    /// poll's clock), the domains it claimed in all (`pollers.claimed`: a discarded batch's too; for runs
    /// copied by `migrate --from`, whose claims were never recorded here, the domains they polled, as on
    /// SQLite), its last run.
    public func pollers() async throws -> [PollerInfo] {
        try await connection("reading pollers") { connection in
            var out: [PollerInfo] = []
            let rows = try await connection.query("""
                SELECT r.poller, r.seen, coalesce(w.claimed, r.polled),
                       p.id, p.started, p.finished, p.domains, p.queries, p.answers, p.failures, p.changes, p.alerts
                FROM (SELECT poller, max(coalesce(finished, started)) AS seen, max(id) AS last, sum(domains)::bigint AS polled FROM polls
                      WHERE poller IS NOT NULL GROUP BY poller) r
                JOIN polls p ON p.id = r.last LEFT JOIN pollers w ON w.name = r.poller
                ORDER BY r.poller COLLATE "C"
                """, logger: self.logger)
            for try await row in rows {
                let columns = row.makeRandomAccess()
                let name = try columns[0].decode(String.self), seen = try columns[1].decode(Int64.self)
                let claimed = try columns[2].decode(Int64.self)
                var run: PollRun?
                if let id = try columns[3].decode(Int64?.self) {
                    var c = PollCounts()
                    c.domains = Int(try columns[6].decode(Int64.self))
                    c.queries = Int(try columns[7].decode(Int64.self))
                    c.answers = Int(try columns[8].decode(Int64.self))
                    c.failures = Int(try columns[9].decode(Int64.self))
                    c.changes = Int(try columns[10].decode(Int64.self))
                    c.alerts = Int(try columns[11].decode(Int64.self))
                    run = PollRun(id: id, started: try columns[4].decode(Int64.self), finished: try columns[5].decode(Int64?.self), counts: c)
                }
                out.append(PollerInfo(name: name, lastSeen: seen, claimed: claimed, lastPoll: run))
            }
            return out
        }
    }
}
