import DNSWatchModel
import SQLiteStore
import Store
import NIOCore
import PostgresNIO

/// One value of a multi-row statement's row (its case is its column's type, also when it is NULL).
enum Bind {
    case int(Int64?)
    case text(String?)
    case bytes([UInt8]?)
}

extension SyncConnection {
    /// Runs `head SELECT ... FROM unnest($1, $2, ...) tail` for `rows` (each `columns` values of the same
    /// kinds): one array parameter per column (and one of NULL flags for a column holding NULLs), so a
    /// statement of 20,000 rows is parsed as quickly as one of a single row. `head` is
    /// `INSERT INTO table (c1, c2, ...)`.
    func insertRows(_ head: String, _ tail: String = "", columns: Int, _ rows: [[Bind]]) throws {
        let perStatement = 20_000
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
            try query(PostgresQuery(unsafeSQL: sql, binds: binds))
            start += chunk.count
        }
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

/// A batch's writes on PostgreSQL: the calls of `BatchStoreWriter` inside the batch's fenced transaction.
/// Reads are single statements over the whole batch (`= ANY($1)`); states and failures, written per
/// domain by the caller, are collected and written by `flush()` in multi-row upserts before the commit.
final class PostgresBatchWriter: ReclassifyWriter {
    let c: SyncConnection
    private var states: [Int64: (DomainState, Int64, String?)] = [:]
    private var stateOrder: [Int64] = []
    private var failures: [Int64: (RRType, FailureKind, Int64)] = [:]
    private var failureOrder: [Int64] = []
    /// Span classes set by `setSpanClass`, written by `flush()`.
    private var spanClasses: [(id: Int64, class: DomainClass, provider: String?, version: String)] = []
    /// Whether this transaction holds the alerts' advisory lock (taken before its first alert id).
    private var alertsLocked = false
    /// The domains whose heads `heads(domainIDs:)` read, and the heads it found: a new span of a (domain,
    /// type) read without a head is a plain insert of its head, with nothing to fold or replace.
    private var headsRead = Set<Int64>()
    private var headsFound = Set<HeadKey>()

    init(_ c: SyncConnection) { self.c = c }

    func heads(domainIDs: [Int64]) throws -> [HeadKey: HeadSpan] {
        guard !domainIDs.isEmpty else { return [:] }
        var out: [HeadKey: HeadSpan] = [:]
        let rows = try c.query("""
            SELECT h.domain_id, h.rrtype, s.id, s.status, s.rdata, s.class, s.provider
            FROM heads h JOIN spans s ON s.id = h.span_id WHERE h.domain_id = ANY(\(domainIDs))
            """)
        for row in rows {
            let (domain, rrtype, span, status, rdata, cls, provider) = try row.decode((Int64, String, Int64, String, String, String?, String?).self)
            out[HeadKey(domainID: domain, rrtype: try Stored.rrtype(rrtype))] = HeadSpan(
                spanID: span, status: try Stored.status(status), rdataText: rdata, class: try cls.map(Stored.domainClass),
                provider: provider)
        }
        headsRead.formUnion(domainIDs)
        headsFound.formUnion(out.keys)
        return out
    }

    /// The spans are current ones: their running sighting is in their `heads` row (migration 0003); a span
    /// that is not a head, which the caller never gives, would be extended in place.
    func extend(spanIDs: [Int64], at time: Int64) throws {
        guard !spanIDs.isEmpty else { return }
        try c.query("""
            WITH seen AS (UPDATE heads SET time_last = \(time), extra = extra + 1 WHERE span_id = ANY(\(spanIDs)) RETURNING span_id)
            UPDATE spans SET time_last = \(time), count = count + 1 WHERE id = ANY(\(spanIDs)) AND id NOT IN (SELECT span_id FROM seen)
            """)
    }

    func startSpans(_ spans: [NewSpan], at time: Int64, fingerprintVersion: String?) throws {
        guard !spans.isEmpty else { return }
        // Ids first (one statement), so that each span's inverse-index rows and head name it for certain.
        var ids: [Int64] = []
        ids.reserveCapacity(spans.count)
        for row in try c.query("SELECT nextval('spans_id_seq') FROM generate_series(1, \(Int64(spans.count)))") {
            ids.append(try row.decode(Int64.self))
        }
        try c.insertRows(
            "INSERT INTO spans (id, domain_id, rrtype, status, rdata, time_first, time_last, count, class, provider, fp_version)",
            columns: 11,
            zip(ids, spans).map { id, sp in
                [.int(id), .int(sp.domainID), .text(sp.rrtype.rawValue), .text(sp.status.rawValue), .text(RdataCodec.encode(sp.rdata)),
                 .int(time), .int(time), .int(1), .text(sp.class?.rawValue), .text(sp.provider), .text(fingerprintVersion)]
            })
        var values: [[Bind]] = []
        var heads: [HeadKey: Int64] = [:]
        for (id, sp) in zip(ids, spans) {
            for key in ValueKey.keys(rrtype: sp.rrtype, status: sp.status, rdata: sp.rdata) {
                values.append([.bytes(key), .int(sp.domainID), .int(id)])
            }
            heads[HeadKey(domainID: sp.domainID, rrtype: sp.rrtype)] = id  // the latest of a (domain, rrtype)
        }
        try c.insertRows("INSERT INTO span_values (key, domain_id, span_id)", "ON CONFLICT DO NOTHING", columns: 3, values)
        // Heads of (domain, type)s that had none are inserted; the others are replaced, and the spans they
        // named stop being current: their running sighting goes into them first (migration 0003).
        var fresh: [[Bind]] = [], replaced: [(key: HeadKey, span: Int64)] = []
        for (key, id) in heads {
            if headsRead.contains(key.domainID) && !headsFound.contains(key) {
                fresh.append([.int(key.domainID), .text(key.rrtype.rawValue), .int(id)])
            } else {
                replaced.append((key, id))
            }
        }
        try c.insertRows("INSERT INTO heads (domain_id, rrtype, span_id)", columns: 3, fresh)
        guard !replaced.isEmpty else { return }
        try c.query("""
            UPDATE spans s SET time_last = h.time_last, count = s.count + h.extra
            FROM heads h JOIN unnest(\(replaced.map(\.key.domainID))::bigint[], \(replaced.map(\.key.rrtype.rawValue))::text[]) AS r(domain_id, rrtype)
                ON h.domain_id = r.domain_id AND h.rrtype = r.rrtype
            WHERE s.id = h.span_id AND h.time_last IS NOT NULL
            """)
        try c.insertRows("INSERT INTO heads (domain_id, rrtype, span_id)",
                         "ON CONFLICT (domain_id, rrtype) DO UPDATE SET span_id = excluded.span_id, time_last = NULL, extra = 0", columns: 3,
                         replaced.map { [.int($0.key.domainID), .text($0.key.rrtype.rawValue), .int($0.span)] })
    }

    func addressesEverSeen(domainID: Int64) throws -> Set<String> {
        var out = Set<String>()
        for row in try c.query("""
            SELECT rdata FROM spans WHERE domain_id = \(domainID) AND rrtype IN ('A', 'AAAA') AND source_id IS NULL
            """) {
            out.formUnion(RdataCodec.decode(try row.decode(String.self)))
        }
        return out
    }

    func markPolled(_ domains: [(domainID: Int64, nextDue: Int64?, answerHash: Int64?)], at time: Int64) throws {
        try c.insertRows("INSERT INTO domain_status (domain_id, last_polled, next_due, answer_hash)", """
            ON CONFLICT (domain_id) DO UPDATE SET last_polled = excluded.last_polled, next_due = excluded.next_due,
                answer_hash = excluded.answer_hash
            """, columns: 4, domains.map { [.int($0.domainID), .int(time), .int($0.nextDue), .int($0.answerHash)] })
    }

    func pollMemory(domainIDs: [Int64]) throws -> [Int64: (answerHash: Int64?, state: StoredState?)] {
        guard !domainIDs.isEmpty else { return [:] }
        var out: [Int64: (answerHash: Int64?, state: StoredState?)] = [:]
        for row in try c.query("""
            SELECT d.id, ds.answer_hash, st.class, st.provider, st.fp_version
            FROM domains d LEFT JOIN domain_status ds ON ds.domain_id = d.id LEFT JOIN domain_state st ON st.domain_id = d.id
            WHERE d.id = ANY(\(domainIDs))
            """) {
            let (id, hash, cls, provider, version) = try row.decode((Int64, Int64?, String?, String?, String?).self)
            let state = try cls.map { StoredState(state: DomainState(class: try Stored.domainClass($0), provider: provider), classifierVersion: version) }
            out[id] = (hash, state)
        }
        return out
    }

    func extendHeads(domainIDs: [Int64], types: [RRType], at time: Int64) throws {
        guard !domainIDs.isEmpty else { return }
        // One update of the narrow heads rows by their primary key (migration 0003), not of the spans.
        try c.query("""
            UPDATE heads SET time_last = \(time), extra = extra + 1 WHERE domain_id = ANY(\(domainIDs)) AND rrtype = ANY(\(types.map(\.rawValue)))
            """)
    }

    func recordFailure(domainID: Int64, rrtype: RRType, kind: FailureKind, at time: Int64) throws {
        if failures.updateValue((rrtype, kind, time), forKey: domainID) == nil { failureOrder.append(domainID) }
    }

    func addPollCounts(pollID: Int64, _ c: PollCounts) throws {
        try self.c.query("""
            UPDATE polls SET domains = domains + \(Int64(c.domains)), queries = queries + \(Int64(c.queries)),
                answers = answers + \(Int64(c.answers)), failures = failures + \(Int64(c.failures)),
                changes = changes + \(Int64(c.changes)), alerts = alerts + \(Int64(c.alerts)) WHERE id = \(pollID)
            """)
    }

    func saveState(domainID: Int64, _ state: DomainState, at time: Int64, classifierVersion: String?) throws {
        if states.updateValue((state, time, classifierVersion), forKey: domainID) == nil { stateOrder.append(domainID) }
    }

    func insertTransition(domainID: Int64, pollID: Int64?, at time: Int64, type: String, fromJSON: String, toJSON: String) throws -> Int64 {
        let rows = try c.query("""
            INSERT INTO transitions (domain_id, poll_id, time, type, from_view, to_view)
            VALUES (\(domainID), \(pollID), \(time), \(type), \(fromJSON), \(toJSON)) RETURNING id
            """)
        guard let row = rows.first else { throw PostgresStore.Failure("inserting a transition returned no id") }
        return try row.decode(Int64.self)
    }

    func insertAlert(transitionID: Int64, at time: Int64, domain: String, list: String, kind: ListKind, type: String,
                     severity: String, severityRank: Int, sinks: [String], payload: (Int64) throws -> String) throws -> Int64 {
        // Alert ids in commit order (migration 0002): the lock is held to the commit, so a batch of another
        // poller takes its ids after this one's are visible, and /metrics, reading by id, misses none.
        if !alertsLocked {
            try c.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.alertsLockKey))")
            alertsLocked = true
        }
        let rows = try c.query("SELECT nextval('alerts_id_seq')")
        guard let row = rows.first else { throw PostgresStore.Failure("allocating an alert id returned nothing") }
        let id = try row.decode(Int64.self)
        let json = try payload(id)
        try c.query("""
            INSERT INTO alerts (id, transition_id, time, domain, list, kind, type, severity, severity_rank, payload)
            VALUES (\(id), \(transitionID), \(time), \(domain), \(list), \(kind.rawValue), \(type), \(severity), \(Int64(severityRank)), \(json))
            """)
        if !sinks.isEmpty {
            try c.query("""
                INSERT INTO deliveries (alert_id, sink) SELECT \(id), unnest(\(sinks)::text[]) ON CONFLICT DO NOTHING
                """)
        }
        return id
    }

    func cachedASNs(_ addresses: [String]) throws -> [String: Int] {
        guard !addresses.isEmpty else { return [:] }
        var out: [String: Int] = [:]
        for row in try c.query("SELECT address, asn FROM asn_cache WHERE asn IS NOT NULL AND address = ANY(\(addresses))") {
            let (address, asn) = try row.decode((String, Int64).self)
            out[address] = Int(asn)
        }
        return out
    }

    func rawSpans(afterID: Int64, limit: Int) throws -> [RawSpan] {
        try c.query("SELECT id, domain_id, rrtype, status, rdata FROM spans WHERE id > \(afterID) ORDER BY id LIMIT \(Int64(limit))").map { row in
            let (id, domain, rrtype, status, rdata) = try row.decode((Int64, Int64, String, String, String).self)
            return RawSpan(id: id, domainID: domain, rrtype: try Stored.rrtype(rrtype), status: try Stored.status(status),
                           rdata: RdataCodec.decode(rdata))
        }
    }

    func setSpanClass(spanID: Int64, class cls: DomainClass, provider: String?, fingerprintVersion: String) throws {
        spanClasses.append((spanID, cls, provider, fingerprintVersion))
    }

    func stateDomainIDs(afterID: Int64, limit: Int) throws -> [Int64] {
        try c.query("SELECT domain_id FROM domain_state WHERE domain_id > \(afterID) ORDER BY domain_id LIMIT \(Int64(limit))").map {
            try $0.decode(Int64.self)
        }
    }

    /// Writes the span classes, states and failures collected from the batch, a few thousand rows a statement.
    func flush() throws {
        if !spanClasses.isEmpty {
            try c.query("""
                UPDATE spans s SET class = u.class, provider = CASE WHEN u.no_provider THEN NULL ELSE u.provider_text END,
                    fp_version = u.version
                FROM unnest(\(spanClasses.map(\.id))::bigint[], \(spanClasses.map(\.class.rawValue))::text[],
                            \(spanClasses.map { $0.provider ?? "" })::text[], \(spanClasses.map { $0.provider == nil })::boolean[],
                            \(spanClasses.map(\.version))::text[]) AS u(id, class, provider_text, no_provider, version)
                WHERE s.id = u.id
                """)
            spanClasses = []
        }
        try c.insertRows("INSERT INTO domain_state (domain_id, class, provider, since, updated, fp_version)", """
            ON CONFLICT (domain_id) DO UPDATE SET
                since = CASE WHEN domain_state.class IS NOT DISTINCT FROM excluded.class
                              AND domain_state.provider IS NOT DISTINCT FROM excluded.provider
                             THEN domain_state.since ELSE excluded.since END,
                class = excluded.class, provider = excluded.provider, updated = excluded.updated, fp_version = excluded.fp_version
            """, columns: 6, stateOrder.compactMap { id in
                states[id].map { state, time, version in
                    [.int(id), .text(state.class.rawValue), .text(state.provider), .int(time), .int(time), .text(version)]
                }
            })
        try c.insertRows("INSERT INTO domain_status (domain_id, last_failure, last_failure_type, last_failure_kind)", """
            ON CONFLICT (domain_id) DO UPDATE SET last_failure = excluded.last_failure,
                last_failure_type = excluded.last_failure_type, last_failure_kind = excluded.last_failure_kind
            """, columns: 4, failureOrder.compactMap { id in
                failures[id].map { type, kind, time in [.int(id), .int(time), .text(type.rawValue), .text(kind.rawValue)] }
            })
        states = [:]
        stateOrder = []
        failures = [:]
        failureOrder = []
    }
}

/// Stored text back to its type: an unknown value is an error, never a default.
enum Stored {
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
