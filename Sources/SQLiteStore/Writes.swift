import DNSWatchModel
public import Store
import Foundation
import GRDB
import Synchronization

/// The operations of one write transaction. Handed out by `SQLiteStore.write`; never escapes it.
struct StoreWriter {
    let db: Database

    // MARK: Spans

    /// The current span of each (domain, rrtype) of these domains, read in one query.
    func heads(domainIDs: [Int64]) throws -> [HeadKey: HeadSpan] {
        var out: [HeadKey: HeadSpan] = [:]
        out.reserveCapacity(domainIDs.count * 3)
        for chunk in domainIDs.chunked(500) {
            let marks = placeholders(chunk.count)
            let rows = try Row.fetchCursor(db, sql: """
                SELECT h.domain_id, h.rrtype, s.id, s.status, s.rdata, s.class, s.provider
                FROM heads h JOIN spans s ON s.id = h.span_id WHERE h.domain_id IN (\(marks))
                """, arguments: StatementArguments(chunk))
            while let row = try rows.next() {
                out[HeadKey(domainID: row[0], rrtype: try row.decode(atIndex: 1))] = HeadSpan(
                    spanID: row[2], status: try row.decode(atIndex: 3), rdataText: row[4],
                    class: try row.decode(atIndex: 5), provider: row[6])
            }
        }
        return out
    }

    /// Extends many spans seen again at the same time, a few hundred per statement.
    private func extend(spanIDs: [Int64], at time: Int64) throws {
        for chunk in spanIDs.chunked(500) {
            let marks = placeholders(chunk.count)
            var args: StatementArguments = [time]
            args += StatementArguments(chunk)
            // A current span's sighting is its narrow head's (migration 0008); a span that is no head, which
            // a poll never extends, in place.
            try db.cachedStatement(sql: "UPDATE heads SET time_last = ?, extra = extra + 1 WHERE span_id IN (\(marks))")
                .execute(arguments: args)
            try db.cachedStatement(sql: """
                UPDATE spans SET time_last = ?, count = count + 1
                WHERE id IN (\(marks)) AND NOT EXISTS (SELECT 1 FROM heads h WHERE h.span_id = spans.id)
                """).execute(arguments: args)
        }
    }

    // MARK: Per-domain status

    /// Marks many domains polled at once (multi-row upserts), with the hash of the answers they gave.
    private func markPolled(_ domains: [(domainID: Int64, nextDue: Int64?, answerHash: Int64?)], at time: Int64) throws {
        for chunk in domains.chunked(100) {
            let rows = Array(repeating: "(?, ?, ?, ?)", count: chunk.count).joined(separator: ", ")
            var args = StatementArguments()
            for d in chunk { args += [d.domainID, time, d.nextDue, d.answerHash] }
            try db.cachedStatement(sql: """
                INSERT INTO domain_status (domain_id, last_polled, next_due, answer_hash) VALUES \(rows)
                ON CONFLICT(domain_id) DO UPDATE SET last_polled = excluded.last_polled, next_due = excluded.next_due,
                    answer_hash = excluded.answer_hash
                """).execute(arguments: args)
        }
    }

    /// The answer hash and stored state of each of these domains (for telling unchanged ones apart).
    func pollMemory(domainIDs: [Int64]) throws -> [Int64: PollMemory] {
        var out: [Int64: PollMemory] = [:]
        out.reserveCapacity(domainIDs.count)
        for chunk in domainIDs.chunked(500) {
            let marks = placeholders(chunk.count)
            let rows = try Row.fetchCursor(db, sql: """
                SELECT d.id, ds.answer_hash, st.class, st.provider, st.fp_version, \(AlertingMemory.columns)
                FROM domains d LEFT JOIN domain_status ds ON ds.domain_id = d.id LEFT JOIN domain_state st ON st.domain_id = d.id
                LEFT JOIN domain_alerting al ON al.domain_id = d.id
                WHERE d.id IN (\(marks))
                """, arguments: StatementArguments(chunk))
            while let row = try rows.next() {
                let cls: DomainClass? = try row.decode(atIndex: 2)
                let state = cls.map { StoredState(state: DomainState(class: $0, provider: row[3]), classifierVersion: row[4]) }
                out[row[0]] = PollMemory(answerHash: row[1], state: state, alerting: AlertingMemory(row: row, at: 5))
            }
        }
        return out
    }

    /// Extends the current spans of these types of these domains (seen again, unchanged).
    private func extendHeads(domainIDs: [Int64], types: [RRType], at time: Int64) throws {
        let typeList = types.map { "'\($0.rawValue)'" }.joined(separator: ",")
        for chunk in domainIDs.chunked(500) {
            let marks = placeholders(chunk.count)
            var args: StatementArguments = [time]
            args += StatementArguments(chunk)
            // One update of the narrow heads rows by their primary key (migration 0008), not of the spans.
            try db.execute(sql: """
                UPDATE heads SET time_last = ?, extra = extra + 1 WHERE domain_id IN (\(marks)) AND rrtype IN (\(typeList))
                """, arguments: args)
        }
    }

    // MARK: Polls

    /// Adds to a poll run's counts (called once per committed batch).
    private func addPollCounts(pollID: Int64, _ c: PollCounts) throws {
        try db.execute(sql: """
            UPDATE polls SET domains = domains + ?, queries = queries + ?, answers = answers + ?,
                failures = failures + ?, changes = changes + ?, alerts = alerts + ? WHERE id = ?
            """, arguments: [c.domains, c.queries, c.answers, c.failures, c.changes, c.alerts, pollID])
    }

    // MARK: Domain state, transitions, alerts

    /// Stores a transition with both sides; returns its id.
    private func insertTransition(domainID: Int64, pollID: Int64?, at time: Int64, type: String,
                                  fromJSON: String, toJSON: String) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO transitions (domain_id, poll_id, time, type, from_view, to_view) VALUES (?, ?, ?, ?, ?, ?)
            """).execute(arguments: [domainID, pollID, time, type, fromJSON, toJSON])
        return db.lastInsertedRowID
    }

    /// Stores an alert and queues it for each sink. `payload` builds the JSON given the alert's id.
    private func insertAlert(transitionID: Int64, at time: Int64, domain: String, list: String, kind: ListKind,
                             type: String, severity: String, severityRank: Int, sinks: [String],
                             payload: (Int64) throws -> String) throws -> Int64 {
        try db.cachedStatement(sql: """
            INSERT INTO alerts (transition_id, time, domain, list, kind, type, severity, severity_rank, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, '')
            """).execute(arguments: [transitionID, time, domain, list, kind.rawValue, type, severity, severityRank])
        let id = db.lastInsertedRowID
        try db.execute(sql: "UPDATE alerts SET payload = ? WHERE id = ?", arguments: [try payload(id), id])
        for sink in sinks {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO deliveries (alert_id, sink) VALUES (?, ?)")
                .execute(arguments: [id, sink])
        }
        return id
    }

    // MARK: Origin ASN cache

    /// Saves origin-ASN answers (nil asn: looked up, none known).
    func saveASN(_ entries: [ASNEntry], at time: Int64, ttl: Int64) throws {
        let st = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO asn_cache (address, asn, prefix, country, registry, fetched, expires)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """)
        for e in entries {
            try st.execute(arguments: [e.address, e.asn, e.prefix, e.country, e.registry, time, time + ttl])
        }
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}

// MARK: - A poll's reads and its plan

extension SQLiteStore: PollWrites {
    public func pollMemory(domainIDs: [Int64]) async throws -> [Int64: PollMemory] {
        try await read { db in
            try StoreWriter(db: db).pollMemory(domainIDs: domainIDs)
        }
    }

    public func heads(domainIDs: [Int64]) async throws -> [HeadKey: HeadSpan] {
        try await read { db in try StoreWriter(db: db).heads(domainIDs: domainIDs) }
    }

    public func addressesEverSeen(domainIDs: [Int64]) async throws -> [Int64: Set<String>] {
        guard !domainIDs.isEmpty else { return [:] }
        return try await read { db in
            var out = Dictionary(domainIDs.map { ($0, Set<String>()) }, uniquingKeysWith: { first, _ in first })  // an id given twice is asked once
            for chunk in domainIDs.chunked(500) {
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT domain_id, rdata FROM spans
                    WHERE domain_id IN (\(placeholders(chunk.count))) AND rrtype IN ('A', 'AAAA') AND source_id IS NULL
                    """, arguments: StatementArguments(chunk))
                while let row = try rows.next() {
                    out[row[0], default: []].formUnion(RdataCodec.decode(row[1]))
                }
            }
            return out
        }
    }

    // cachedASNs: SQLiteStore/Imports.swift (one implementation for the import and the poll).

    /// One GRDB write transaction; SQLite's poll lock (held by the caller) is the claim.
    ///
    /// Foreign keys are not checked in it. Every id of a plan was read in this poll under the poll lock, and
    /// dnswatch deletes no domain and no span, so the check (a lookup of the parent row for each span, index
    /// row, head and status row inserted: a quarter of a first poll's write) cannot fail; `integrityCheck`
    /// runs `PRAGMA foreign_key_check`, and the contract suite runs it after every SQLite case. SQLite
    /// ignores the pragma inside a transaction, so it is set around it, and back on whatever happens.
    ///
    /// Nor is the WAL checkpointed in the batch's commit (SQLite's automatic checkpoint, at 1,000 pages,
    /// would copy pages back into the database file there, a tenth of a first poll's write): a passive
    /// checkpoint is queued on the writer after it, and runs while the poll resolves its next batch. Its
    /// failure is thrown by the next batch's write.
    public func apply(_ plan: WritePlan, claim: ClaimedTargets) async throws {
        if let failure = checkpointFailure.withLock({ f in defer { f = nil }; return f }) { throw failure }
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA foreign_keys = OFF; PRAGMA wal_autocheckpoint = 0")
            let written = Result {
                try db.inTransaction {
                    try StoreWriter(db: db).apply(plan)
                    return .commit
                }
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON; PRAGMA wal_autocheckpoint = 1000")
            try written.get()
        }
        pool.asyncWriteWithoutTransaction { [self] db in
            do {
                try db.checkpoint(.passive)
            } catch {
                checkpointFailure.withLock { $0 = error }
            }
        }
    }
}

extension StoreWriter {
    /// Writes a poll batch's plan (semantics: `WritePlan`), multi-row statements where rows are many.
    func apply(_ plan: WritePlan) throws {
        let time = plan.time
        for chunk in plan.failures.chunked(100) {
            var args = StatementArguments()
            for f in chunk { args += [f.domainID, time, f.rrtype.rawValue, f.kind.rawValue] }
            try db.cachedStatement(sql: """
                INSERT INTO domain_status (domain_id, last_failure, last_failure_type, last_failure_kind) VALUES \(rows(4, chunk.count))
                ON CONFLICT(domain_id) DO UPDATE SET last_failure = excluded.last_failure,
                    last_failure_type = excluded.last_failure_type, last_failure_kind = excluded.last_failure_kind
                """).execute(arguments: args)
        }
        for g in plan.extendHeads { try extendHeads(domainIDs: g.domainIDs, types: g.types, at: time) }
        for chunk in plan.states.chunked(100) {
            var args = StatementArguments()
            for s in chunk { args += [s.domainID, s.state.class.rawValue, s.state.provider, time, time, plan.classifierVersion] }
            try db.cachedStatement(sql: """
                INSERT INTO domain_state (domain_id, class, provider, since, updated, fp_version) VALUES \(rows(6, chunk.count))
                ON CONFLICT(domain_id) DO UPDATE SET
                    since = CASE WHEN domain_state.class IS excluded.class AND domain_state.provider IS excluded.provider
                                 THEN domain_state.since ELSE excluded.since END,
                    class = excluded.class, provider = excluded.provider,
                    updated = excluded.updated, fp_version = excluded.fp_version
                """).execute(arguments: args)
        }
        for a in plan.alerting {
            let m = a.memory
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO domain_alerting (domain_id, penalty, penalty_time, suppressed_since, alerted_view,
                    disagreement_polls, disagreement_alerted, unconfirmed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [a.domainID, Int64(m.penalty.rounded()), m.penaltyTime, m.suppressedSince, m.alertedViewJSON,
                                          m.disagreementPolls, m.disagreementAlerted, m.unconfirmedJSON])
        }
        for t in plan.transitions {
            let id = try insertTransition(domainID: t.domainID, pollID: plan.pollID, at: time, type: t.type, fromJSON: t.fromJSON, toJSON: t.toJSON)
            if let a = t.alert {
                _ = try insertAlert(transitionID: id, at: time, domain: a.domain, list: a.list, kind: a.kind, type: a.type,
                                    severity: a.severity, severityRank: a.severityRank, sinks: a.sinks, payload: a.payload)
            }
        }
        try extend(spanIDs: plan.extendSpans, at: time)
        try startPlannedSpans(plan.startSpans, at: time, fingerprintVersion: plan.classifierVersion)
        try markPolled(plan.polled.map { ($0.domainID, $0.nextDue, $0.answerHash) }, at: time)
        try addPollCounts(pollID: plan.pollID, plan.counts)
    }

    /// Starts spans (at most one per (domain, rrtype), as a plan gives them): multi-row inserts of the spans,
    /// their inverse-index rows and their heads, which name the new ids directly (no scan of `spans`).
    private func startPlannedSpans(_ spans: [NewSpan], at time: Int64, fingerprintVersion: String) throws {
        guard !spans.isEmpty else { return }
        let before = try Int64.fetchOne(db, sql: "SELECT coalesce(max(id), 0) FROM spans") ?? 0
        for chunk in spans.chunked(50) {
            var args = StatementArguments()
            for sp in chunk {
                args += [sp.domainID, sp.rrtype.rawValue, sp.status.rawValue, RdataCodec.encode(sp.rdata), time, time,
                         sp.class?.rawValue, sp.provider, fingerprintVersion, sp.resolver]
            }
            try db.cachedStatement(sql: """
                INSERT INTO spans (domain_id, rrtype, status, rdata, time_first, time_last, count, class, provider, fp_version, resolver)
                VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                """).execute(arguments: args)
        }
        // Rows of one multi-row insert take consecutive ids in order (INTEGER PRIMARY KEY, max + 1 each):
        // span k got `before + 1 + k`, checked before its values and head name it.
        let last = try Int64.fetchOne(db, sql: "SELECT max(id) FROM spans") ?? 0
        guard last == before + Int64(spans.count) else {
            throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "span ids are not consecutive (\(before)+\(spans.count) → \(last))")
        }
        var values: [(key: [UInt8], domainID: Int64, spanID: Int64)] = []
        for (k, sp) in spans.enumerated() {
            for key in ValueKey.keys(rrtype: sp.rrtype, status: sp.status, rdata: sp.rdata) {
                values.append((key, sp.domainID, before + 1 + Int64(k)))
            }
        }
        for chunk in values.chunked(300) {
            var args = StatementArguments()
            for v in chunk { args += [Data(v.key), v.domainID, v.spanID] }
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO span_values (key, domain_id, span_id) VALUES \(rows(3, chunk.count))")
                .execute(arguments: args)
        }
        // A replaced head's sighting (migration 0008) is folded into its span, then the head names the new
        // span with no sighting of its own: one statement per chunk.
        for (n, chunk) in spans.chunked(300).enumerated() {
            var args = StatementArguments()
            for (k, sp) in chunk.enumerated() { args += [sp.domainID, sp.rrtype.rawValue, before + 1 + Int64(n * 300 + k)] }
            try db.cachedStatement(sql: """
                WITH r(domain_id, rrtype, span_id) AS (VALUES \(rows(3, chunk.count)))
                UPDATE spans SET time_last = h.time_last, count = spans.count + h.extra
                FROM heads h JOIN r ON h.domain_id = r.domain_id AND h.rrtype = r.rrtype
                WHERE spans.id = h.span_id AND h.time_last IS NOT NULL
                """).execute(arguments: args)
            try db.cachedStatement(sql: """
                INSERT INTO heads (domain_id, rrtype, span_id) VALUES \(rows(3, chunk.count))
                ON CONFLICT(domain_id, rrtype) DO UPDATE SET span_id = excluded.span_id, time_last = NULL, extra = 0
                """).execute(arguments: args)
        }
    }
}

/// `(?,?,?),(?,?,?)` for a multi-row `VALUES` of `count` rows of `columns` values.
private func rows(_ columns: Int, _ count: Int) -> String {
    let row = "(" + placeholders(columns) + ")"
    return Array(repeating: row, count: count).joined(separator: ",")
}
