import DNSWatchModel
public import Store
import Logging
import NIOCore
import PostgresNIO

/// One value of a multi-row statement's row (its case is its column's type, also when it is NULL).
enum Bind {
    case int(Int64?)
    case text(String?)
    case bytes([UInt8]?)
}

/// Multi-row statements: `head SELECT ... FROM unnest($1, $2, ...) tail` for `rows` (each `columns` values
/// of the same kinds): one array parameter per column (and one of NULL flags for a column holding NULLs),
/// so a statement of 20,000 rows is parsed as quickly as one of a single row. `head` is
/// `INSERT INTO table (c1, c2, ...)`.
enum UnnestRows {
    static let perStatement = 20_000

    /// The statements that write `rows`, at most `perStatement` rows each.
    static func statements(_ head: String, _ tail: String, columns: Int, _ rows: [[Bind]]) throws -> [PostgresQuery] {
        var out: [PostgresQuery] = []
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + perStatement)]
            var binds = PostgresBindings(capacity: 2 * columns)
            var selects: [String] = [], arrays: [String] = [], names: [String] = []
            var n = 0
            for c in 0..<columns {
                let column = chunk.map { $0[c] }
                let hasNull = column.contains(where: \.isNull)
                let type: String
                switch column.first {
                case .int?:
                    binds.append(try column.map { (b: Bind) throws -> Int64 in
                        guard case .int(let v) = b else { throw Bind.mixed(head, c) }
                        return v ?? 0
                    })
                    type = "bigint[]"
                case .text?:
                    binds.append(try column.map { (b: Bind) throws -> String in
                        guard case .text(let v) = b else { throw Bind.mixed(head, c) }
                        return v ?? ""
                    })
                    type = "text[]"
                case .bytes?, nil:
                    binds.append(try column.map { (b: Bind) throws -> ByteBuffer in
                        guard case .bytes(let v) = b else { throw Bind.mixed(head, c) }
                        return ByteBuffer(bytes: v ?? [])
                    })
                    type = "bytea[]"
                }
                n += 1
                arrays.append("$\(n)::\(type)")
                names.append("v\(c)")
                if hasNull {
                    binds.append(column.map(\.isNull))
                    n += 1
                    arrays.append("$\(n)::boolean[]")
                    names.append("n\(c)")
                    selects.append("CASE WHEN n\(c) THEN NULL ELSE v\(c) END")
                } else {
                    selects.append("v\(c)")
                }
            }
            let sql = "\(head) SELECT \(selects.joined(separator: ", ")) FROM unnest(\(arrays.joined(separator: ", "))) AS u(\(names.joined(separator: ", "))) \(tail)"
            out.append(PostgresQuery(unsafeSQL: sql, binds: binds))
            start += chunk.count
        }
        return out
    }
}

extension PostgresConnection {
    /// Writes `rows` with `UnnestRows`' multi-row statements.
    func insertRows(_ head: String, _ tail: String = "", columns: Int, _ rows: [[Bind]], logger: Logger) async throws {
        for statement in try UnnestRows.statements(head, tail, columns: columns, rows) { try await query(statement, logger: logger) }
    }
}

extension Bind {
    /// A column whose rows hold values of different types: a bug in the caller, never written.
    static func mixed(_ head: String, _ column: Int) -> PostgresStore.Failure {
        PostgresStore.Failure("column \(column + 1) of \(head) holds values of different types")
    }

    var isNull: Bool {
        switch self {
        case .int(let v): v == nil
        case .text(let v): v == nil
        case .bytes(let v): v == nil
        }
    }
}

/// Stored text back to its type: an unknown value is an error, never a default.
enum Stored {
    /// The columns of `domain_alerting` (as `al`) that `alerting(_:at:)` reads, in its order.
    static let alertingColumns = """
        al.penalty, al.penalty_time, al.suppressed_since, al.alerted_view, al.disagreement_polls, al.disagreement_alerted, al.unconfirmed
        """

    /// A domain's alerting memory from the `alertingColumns` of a row, starting at column `i`; nil when the
    /// domain has no `domain_alerting` row (a NULL penalty: a LEFT JOIN found none).
    static func alerting(_ c: PostgresRandomAccessRow, at i: Int) throws -> AlertingMemory? {
        try c[i].decode(Int64?.self).map { penalty in
            AlertingMemory(penalty: Double(penalty), penaltyTime: try c[i + 1].decode(Int64.self), suppressedSince: try c[i + 2].decode(Int64?.self),
                           alertedViewJSON: try c[i + 3].decode(String?.self), disagreementPolls: Int(try c[i + 4].decode(Int32.self)),
                           disagreementAlerted: try c[i + 5].decode(Int32.self) != 0, unconfirmedJSON: try c[i + 6].decode(String?.self))
        }
    }

    static func rrtype(_ s: String) throws -> RRType { try known(s, "record type") }
    static func status(_ s: String) throws -> AnswerStatus { try known(s, "answer status") }
    static func domainClass(_ s: String) throws -> DomainClass { try known(s, "class") }
    static func listKind(_ s: String) throws -> ListKind { try known(s, "list kind") }

    /// The one rule: a stored text this version does not know is `unknown WHAT TEXT in the database`.
    private static func known<T: RawRepresentable>(_ s: String, _ what: String) throws -> T where T.RawValue == String {
        guard let v = T(rawValue: s) else { throw PostgresStore.Failure("unknown \(what) \(s) in the database") }
        return v
    }
}

// MARK: - A poll's write as a plan

/// A poll's reads before a batch's write, each one statement over the whole batch (`= ANY($1)`) on a
/// connection of the pool, and the batch's plan applied in one transaction with multi-row statements.
extension PostgresStore: PollWrites {
    public func pollMemory(domainIDs: [Int64]) async throws -> [Int64: PollMemory] {
        guard !domainIDs.isEmpty else { return [:] }
        let logger = self.logger
        return try await connection("reading the batch's answer hashes and states") { connection in
            var out: [Int64: PollMemory] = [:]
            out.reserveCapacity(domainIDs.count)
            let rows = try await connection.query("""
                SELECT d.id, ds.answer_hash, st.class, st.provider, st.fp_version, \(unescaped: Stored.alertingColumns)
                FROM domains d LEFT JOIN domain_status ds ON ds.domain_id = d.id LEFT JOIN domain_state st ON st.domain_id = d.id
                LEFT JOIN domain_alerting al ON al.domain_id = d.id
                WHERE d.id = ANY(\(domainIDs))
                """, logger: logger)
            for try await row in rows {
                let c = row.makeRandomAccess()
                let id = try c[0].decode(Int64.self), provider = try c[3].decode(String?.self), version = try c[4].decode(String?.self)
                let state = try c[2].decode(String?.self).map {
                    StoredState(state: DomainState(class: try Stored.domainClass($0), provider: provider), classifierVersion: version)
                }
                out[id] = PollMemory(answerHash: try c[1].decode(Int64?.self), state: state, alerting: try Stored.alerting(c, at: 5))
            }
            return out
        }
    }

    public func heads(domainIDs: [Int64]) async throws -> [HeadKey: HeadSpan] {
        guard !domainIDs.isEmpty else { return [:] }
        let logger = self.logger
        return try await connection("reading the batch's current spans") { connection in
            try await Self.heads(connection, logger: logger, domainIDs: domainIDs)
        }
    }

    /// The current span of each (domain, rrtype) of these domains, on `connection` (its running sighting
    /// in `heads` is not needed: a head is compared by its answer).
    static func heads(_ connection: PostgresConnection, logger: Logger, domainIDs: [Int64]) async throws -> [HeadKey: HeadSpan] {
        var out: [HeadKey: HeadSpan] = [:]
        out.reserveCapacity(domainIDs.count * 3)
        let rows = try await connection.query("""
            SELECT h.domain_id, h.rrtype, s.id, s.status, s.rdata, s.class, s.provider
            FROM heads h JOIN spans s ON s.id = h.span_id WHERE h.domain_id = ANY(\(domainIDs))
            """, logger: logger)
        for try await (domain, rrtype, span, status, rdata, cls, provider)
            in rows.decode((Int64, String, Int64, String, String, String?, String?).self) {
            out[HeadKey(domainID: domain, rrtype: try Stored.rrtype(rrtype))] = HeadSpan(
                spanID: span, status: try Stored.status(status), rdataText: rdata, class: try cls.map(Stored.domainClass),
                provider: provider)
        }
        return out
    }

    public func addressesEverSeen(domainIDs: [Int64]) async throws -> [Int64: Set<String>] {
        guard !domainIDs.isEmpty else { return [:] }
        let logger = self.logger
        return try await connection("reading the addresses the batch's domains had") { connection in
            var out = Dictionary(domainIDs.map { ($0, Set<String>()) }, uniquingKeysWith: { first, _ in first })  // an id given twice is asked once
            let rows = try await connection.query("""
                SELECT domain_id, rdata FROM spans
                WHERE domain_id = ANY(\(domainIDs)) AND rrtype IN ('A', 'AAAA') AND source_id IS NULL
                """, logger: logger)
            for try await (domain, rdata) in rows.decode((Int64, String).self) {
                out[domain, default: []].formUnion(RdataCodec.decode(rdata))
            }
            return out
        }
    }

    // `cachedASNs` (of `PollWrites` and `ImportStore`, one implementation): Imports.swift.

    /// The batch's transaction, fenced first: the claim is released (deleted) only while it is live, and the
    /// row lock of that delete is held to the commit. A claimer deleting it as expired meanwhile either
    /// waits for that lock (and then finds it gone, and these domains polled) or deleted it first (and this
    /// deletes nothing: `LeaseLost`, nothing written). Then every part of the plan, each one statement (or
    /// one per group of types), alerts last: their lock, which orders alert ids by commit, is held the
    /// shortest.
    public func apply(_ plan: WritePlan, claim: ClaimedTargets) async throws {
        guard let token = claim.lease else { throw Failure("\(url): a batch without a lease") }
        let domains = claim.targets.count, logger = self.logger
        try await transaction("writing a batch") { connection in
            let released = try await connection.query("""
                DELETE FROM claims WHERE token = \(token) AND until > clock_timestamp() RETURNING token
                """, logger: logger)
            var live = false
            for try await _ in released.decode(Int64.self) { live = true }
            guard live else { throw LeaseLost(domains: domains) }
            try await PlanWriter(connection: connection, logger: logger, plan: plan).write()
        }
    }
}

/// Writes one `WritePlan` on a connection inside its transaction.
private struct PlanWriter {
    let connection: PostgresConnection
    let logger: Logger
    let plan: WritePlan
    var time: Int64 { plan.time }

    func write() async throws {
        try await extendHeads()
        try await extendSpans()
        try await startSpans()
        try await failures()
        try await polled()
        try await states()
        try await alerting()
        try await transitions()
        try await connection.query("""
            UPDATE polls SET domains = domains + \(Int64(plan.counts.domains)), queries = queries + \(Int64(plan.counts.queries)),
                answers = answers + \(Int64(plan.counts.answers)), failures = failures + \(Int64(plan.counts.failures)),
                changes = changes + \(Int64(plan.counts.changes)), alerts = alerts + \(Int64(plan.counts.alerts))
            WHERE id = \(plan.pollID)
            """, logger: logger)
    }

    /// Unchanged domains: one update of the narrow `heads` rows by their primary key per group of types
    /// (migration 0003), not of the spans.
    private func extendHeads() async throws {
        for group in plan.extendHeads where !group.domainIDs.isEmpty && !group.types.isEmpty {
            try await connection.query("""
                UPDATE heads SET time_last = \(time), extra = extra + 1
                WHERE domain_id = ANY(\(group.domainIDs)) AND rrtype = ANY(\(group.types.map(\.rawValue)))
                """, logger: logger)
        }
    }

    /// Current spans seen again: their running sighting in `heads` (migration 0003); a span that is not a
    /// head, which a plan never holds, would be extended in place.
    private func extendSpans() async throws {
        let ids = plan.extendSpans
        guard !ids.isEmpty else { return }
        try await connection.query("""
            WITH seen AS (UPDATE heads SET time_last = \(time), extra = extra + 1 WHERE span_id = ANY(\(ids)) RETURNING span_id)
            UPDATE spans SET time_last = \(time), count = count + 1 WHERE id = ANY(\(ids)) AND id NOT IN (SELECT span_id FROM seen)
            """, logger: logger)
    }

    /// New spans, their inverse-index rows, and their heads. The ids are taken first (one statement, in
    /// ascending order), so that each span's index rows and head name it for certain.
    private func startSpans() async throws {
        let spans = plan.startSpans
        guard !spans.isEmpty else { return }
        var ids = try await nextIDs("spans_id_seq", spans.count)
        ids.sort()
        try await connection.insertRows(
            "INSERT INTO spans (id, domain_id, rrtype, status, rdata, time_first, time_last, count, class, provider, fp_version, resolver)",
            columns: 12,
            zip(ids, spans).map { id, sp in
                [.int(id), .int(sp.domainID), .text(sp.rrtype.rawValue), .text(sp.status.rawValue), .text(RdataCodec.encode(sp.rdata)),
                 .int(time), .int(time), .int(1), .text(sp.class?.rawValue), .text(sp.provider), .text(plan.classifierVersion),
                 .text(sp.resolver)]
            }, logger: logger)
        var values: [[Bind]] = []
        var heads: [HeadKey: Int64] = [:]
        var order: [HeadKey] = []
        for (id, sp) in zip(ids, spans) {
            for key in ValueKey.keys(rrtype: sp.rrtype, status: sp.status, rdata: sp.rdata) {
                values.append([.bytes(key), .int(sp.domainID), .int(id)])
            }
            let key = HeadKey(domainID: sp.domainID, rrtype: sp.rrtype)
            if heads.updateValue(id, forKey: key) == nil { order.append(key) }  // the latest of a (domain, rrtype)
        }
        try await connection.insertRows("INSERT INTO span_values (key, domain_id, span_id)", "ON CONFLICT DO NOTHING", columns: 3, values,
                                         logger: logger)
        // Each new span becomes its (domain, type)'s head. A head it replaces stops being current: its running
        // sighting goes into its span first (migration 0003). One statement: both parts read the heads as
        // they were before it, and write different tables.
        let domainIDs = order.map(\.domainID), types = order.map(\.rrtype.rawValue), spanIDs = order.map { heads[$0]! }
        try await connection.query("""
            WITH r AS (SELECT * FROM unnest(\(domainIDs)::bigint[], \(types)::text[], \(spanIDs)::bigint[]) AS r(domain_id, rrtype, span_id)),
            folded AS (
                UPDATE spans s SET time_last = h.time_last, count = s.count + h.extra
                FROM heads h JOIN r ON h.domain_id = r.domain_id AND h.rrtype = r.rrtype
                WHERE s.id = h.span_id AND h.time_last IS NOT NULL)
            INSERT INTO heads (domain_id, rrtype, span_id) SELECT domain_id, rrtype, span_id FROM r
            ON CONFLICT (domain_id, rrtype) DO UPDATE SET span_id = excluded.span_id, time_last = NULL, extra = 0
            """, logger: logger)
    }

    /// Failed lookups: the status row's failure columns (the last of a domain's, should a plan hold two).
    private func failures() async throws {
        var rows: [Int64: [Bind]] = [:], order: [Int64] = []
        for f in plan.failures {
            if rows.updateValue([.int(f.domainID), .int(time), .text(f.rrtype.rawValue), .text(f.kind.rawValue)], forKey: f.domainID) == nil {
                order.append(f.domainID)
            }
        }
        try await connection.insertRows("INSERT INTO domain_status (domain_id, last_failure, last_failure_type, last_failure_kind)", """
            ON CONFLICT (domain_id) DO UPDATE SET last_failure = excluded.last_failure,
                last_failure_type = excluded.last_failure_type, last_failure_kind = excluded.last_failure_kind
            """, columns: 4, order.map { rows[$0]! }, logger: logger)
    }

    /// Domains polled: the status row's poll columns.
    private func polled() async throws {
        try await connection.insertRows("INSERT INTO domain_status (domain_id, last_polled, next_due, answer_hash)", """
            ON CONFLICT (domain_id) DO UPDATE SET last_polled = excluded.last_polled, next_due = excluded.next_due,
                answer_hash = excluded.answer_hash
            """, columns: 4, plan.polled.map { [.int($0.domainID), .int(time), .int($0.nextDue), .int($0.answerHash)] }, logger: logger)
    }

    /// States: a changed class or provider resets `since`.
    private func states() async throws {
        try await connection.insertRows("INSERT INTO domain_state (domain_id, class, provider, since, updated, fp_version)", """
            ON CONFLICT (domain_id) DO UPDATE SET
                since = CASE WHEN domain_state.class IS NOT DISTINCT FROM excluded.class
                              AND domain_state.provider IS NOT DISTINCT FROM excluded.provider
                             THEN domain_state.since ELSE excluded.since END,
                class = excluded.class, provider = excluded.provider, updated = excluded.updated, fp_version = excluded.fp_version
            """, columns: 6, plan.states.map { s in
                [.int(s.domainID), .text(s.state.class.rawValue), .text(s.state.provider), .int(time), .int(time), .text(plan.classifierVersion)]
            }, logger: logger)
    }

    /// Alerting memories, each row replaced whole (a handful a batch: the domains whose change was damped or
    /// not confirmed).
    private func alerting() async throws {
        for a in plan.alerting {
            let m = a.memory
            try await connection.query("""
                INSERT INTO domain_alerting (domain_id, penalty, penalty_time, suppressed_since, alerted_view, disagreement_polls,
                                             disagreement_alerted, unconfirmed)
                VALUES (\(a.domainID), \(Int64(m.penalty.rounded())), \(m.penaltyTime), \(m.suppressedSince), \(m.alertedViewJSON),
                        \(Int32(m.disagreementPolls)), \(Int32(m.disagreementAlerted ? 1 : 0)), \(m.unconfirmedJSON))
                ON CONFLICT (domain_id) DO UPDATE SET penalty = excluded.penalty, penalty_time = excluded.penalty_time,
                    suppressed_since = excluded.suppressed_since, alerted_view = excluded.alerted_view,
                    disagreement_polls = excluded.disagreement_polls, disagreement_alerted = excluded.disagreement_alerted,
                    unconfirmed = excluded.unconfirmed
                """, logger: logger)
        }
    }

    /// Transitions, then their alerts (payloads built from the alerts' ids) and one delivery per sink key.
    /// Alert ids are taken under the alerts' lock, held to the commit (migration 0002): a batch of another
    /// poller takes its ids after this one's are visible, and /metrics, reading by id, misses none.
    private func transitions() async throws {
        let transitions = plan.transitions
        guard !transitions.isEmpty else { return }
        var ids = try await nextIDs("transitions_id_seq", transitions.count)
        ids.sort()
        try await connection.insertRows("INSERT INTO transitions (id, domain_id, poll_id, time, type, from_view, to_view)", columns: 7,
                                         zip(ids, transitions).map { id, t in
                                             [.int(id), .int(t.domainID), .int(plan.pollID), .int(time), .text(t.type), .text(t.fromJSON),
                                              .text(t.toJSON)]
                                         }, logger: logger)
        let alerts = zip(ids, transitions).compactMap { id, t in t.alert.map { (transition: id, alert: $0) } }
        guard !alerts.isEmpty else { return }
        try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.alertsLockKey))", logger: logger)
        var alertIDs = try await nextIDs("alerts_id_seq", alerts.count)
        alertIDs.sort()
        var rows: [[Bind]] = [], deliveries: [[Bind]] = []
        for (id, (transition, a)) in zip(alertIDs, alerts) {
            rows.append([.int(id), .int(transition), .int(time), .text(a.domain), .text(a.list), .text(a.kind.rawValue), .text(a.type),
                         .text(a.severity), .int(Int64(a.severityRank)), .text(try a.payload(id))])
            for sink in Set(a.sinks).sorted() { deliveries.append([.int(id), .text(sink)]) }
        }
        try await connection.insertRows(
            "INSERT INTO alerts (id, transition_id, time, domain, list, kind, type, severity, severity_rank, payload)", columns: 10, rows,
            logger: logger)
        try await connection.insertRows("INSERT INTO deliveries (alert_id, sink)", "ON CONFLICT DO NOTHING", columns: 2, deliveries,
                                         logger: logger)
    }

    /// `n` new ids of the sequence `sequence`.
    private func nextIDs(_ sequence: String, _ n: Int) async throws -> [Int64] {
        var ids: [Int64] = []
        ids.reserveCapacity(n)
        let rows = try await connection.query("SELECT nextval(\(sequence)) FROM generate_series(1, \(Int64(n)))", logger: logger)
        for try await id in rows.decode(Int64.self) { ids.append(id) }
        guard ids.count == n else { throw PostgresStore.Failure("taking \(n) ids of \(sequence) returned \(ids.count)") }
        return ids
    }
}
