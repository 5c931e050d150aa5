public import DNSWatchModel
public import Store
import Logging
import PostgresNIO

/// The `watch` commands on PostgreSQL: the rules of SQLite's Watchlists.swift (the same counts, the same
/// rows), written a few statements per list instead of a few per domain: a 100,000-name import is two
/// statements over arrays of the names (`unnest`), whatever their number.
extension PostgresStore: WatchlistStore {
    /// The advisory lock every watchlist-writing transaction takes first ("dnswlist" in ASCII): one such
    /// transaction at a time, as SQLite's single writer, so that the memberships it read (to count added and
    /// already present) are still as read when it writes them. Polls never take it.
    static let watchlistLockKey: Int64 = 0x646E_7377_6C69_7374

    public func addEntries(_ entries: [ListEntry], to spec: ListSpec, now: Int64) async throws -> ImportCounts {
        try await transaction("adding domains to list \(spec.name)") { [logger] c in
            try await Self.lockWatchlists(c, logger)
            return try await Self.addEntries(c, logger, entries, to: spec, now: now, replaceHeader: false).counts
        }
    }

    public func sync(_ lists: [(ListSpec, [ListEntry])], now: Int64) async throws -> ImportCounts {
        try await transaction("syncing lists") { [logger] c in
            try await Self.lockWatchlists(c, logger)
            var total = ImportCounts()
            var keep: [String] = []
            for (spec, entries) in lists {
                keep.append(spec.name)
                let (listID, counts) = try await Self.addEntries(c, logger, entries, to: spec, now: now, replaceHeader: true)
                total.added += counts.added
                total.alreadyPresent += counts.alreadyPresent
                // The list's active domains the file no longer has.
                total.retired += Int(try await Self.single(c, logger, "retiring memberships", """
                    WITH changed AS (
                        UPDATE memberships m SET retired = \(now) FROM domains d
                        WHERE d.id = m.domain_id AND m.list_id = \(listID) AND m.retired IS NULL
                          AND d.name <> ALL(\(entries.map(\.domain.value)))
                        RETURNING 1)
                    SELECT count(*) FROM changed
                    """))
            }
            // Lists without a file, as a whole.
            total.retired += Int(try await Self.single(c, logger, "retiring memberships", """
                WITH changed AS (
                    UPDATE memberships SET retired = \(now)
                    WHERE retired IS NULL AND list_id IN (SELECT id FROM lists WHERE name <> ALL(\(keep)))
                    RETURNING 1)
                SELECT count(*) FROM changed
                """))
            return total
        }
    }

    public func remove(_ domains: [DomainName], list: String?, now: Int64) async throws -> Int {
        try await transaction("removing domains") { [logger] c in
            try await Self.lockWatchlists(c, logger)
            var listID: Int64?
            if let list {
                guard let (id, _) = try await Self.list(c, logger, list) else { throw StoreError.unknownList(list) }
                listID = id
            }
            // One statement: a name given twice ends its membership once, as the per-name updates on SQLite do.
            return Int(try await Self.single(c, logger, "removing domains", """
                WITH changed AS (
                    UPDATE memberships SET retired = \(now)
                    WHERE retired IS NULL AND domain_id IN (SELECT id FROM domains WHERE name = ANY(\(domains.map(\.value))))
                      AND (CAST(\(listID) AS BIGINT) IS NULL OR list_id = \(listID))
                    RETURNING 1)
                SELECT count(*) FROM changed
                """))
        }
    }

    public func watchedDomains(list: String?) async throws -> [WatchedDomain] {
        try await connection("reading watched domains") { connection in
            var out: [WatchedDomain] = []
            // Ordered by bytes (COLLATE "C"), as SQLite's BINARY collation orders them, whatever the database's locale.
            let rows = try await connection.query("""
                SELECT d.name, l.name, l.kind, l.interval, m.added, m.note
                FROM memberships m JOIN lists l ON l.id = m.list_id JOIN domains d ON d.id = m.domain_id
                WHERE m.retired IS NULL AND (CAST(\(list) AS TEXT) IS NULL OR l.name = \(list))
                ORDER BY l.name COLLATE "C", d.name COLLATE "C"
                """, logger: self.logger)
            for try await (domain, list, kind, interval, added, note) in rows.decode((String, String, String, Int64?, Int64, String?).self) {
                out.append(WatchedDomain(domain: domain, list: list, kind: try Stored.listKind(kind), interval: interval.map { Int($0) },
                                         added: added, note: note))
            }
            return out
        }
    }

    /// The migrations this dnswatch has that the database has not had yet (a reader does not apply them).
    public func missingMigrations() async throws -> [String] {
        try await connection("reading the schema") { connection in
            var applied = Set<String>()
            for try await id in try await connection.query("SELECT id FROM dnswatch_migrations", logger: self.logger).decode(String.self) {
                applied.insert(id)
            }
            return PostgresMigrations.all.map(\.id).filter { !applied.contains($0) }
        }
    }

    /// Whether a writing command migrated this database yet: a database no dnswatch wrote to has no tables
    /// to read, and a reader shows it as empty (as a reader on SQLite shows a database file not created yet).
    public func hasSchema() async throws -> Bool {
        try await connection("reading the schema") { connection in
            let rows = try await connection.query("SELECT to_regclass('dnswatch_migrations') IS NOT NULL", logger: self.logger)
            for try await present in rows.decode(Bool.self) { return present }
            throw Failure("\(self.url): reading the schema returned no row")
        }
    }

    // MARK: Inside a watchlist transaction

    static func lockWatchlists(_ c: PostgresConnection, _ logger: Logger) async throws {
        try await c.query("SELECT pg_advisory_xact_lock(\(watchlistLockKey))", logger: logger)
    }

    /// Inserts the names not stored yet, in the given order (ids follow it, as on SQLite's inserts one by
    /// one; an existing name uses up no id). Names are distinct.
    static func insertNames(_ c: PostgresConnection, _ logger: Logger, _ names: [String], at time: Int64) async throws {
        try await c.query("""
            INSERT INTO domains (name, created, rname)
            SELECT v.name, \(time), v.rname FROM unnest(\(names)::text[], \(names.map(ValueKey.reversedName))::text[]) WITH ORDINALITY AS v(name, rname, i)
            WHERE NOT EXISTS (SELECT 1 FROM domains d WHERE d.name = v.name)
            ORDER BY v.i
            ON CONFLICT (name) DO NOTHING
            """, logger: logger)
    }

    /// The one integer a statement returns: an id (`RETURNING id`) or a count (`WITH changed AS (...
    /// RETURNING 1) SELECT count(*) FROM changed`: the rows an INSERT or UPDATE wrote).
    static func single(_ c: PostgresConnection, _ logger: Logger, _ what: String, _ query: PostgresQuery) async throws -> Int64 {
        for try await n in try await c.query(query, logger: logger).decode(Int64.self) { return n }
        throw Failure("\(what) returned no row")
    }

    /// A list's id and header, if there is a list of that name.
    static func list(_ c: PostgresConnection, _ logger: Logger, _ name: String) async throws -> (id: Int64, header: ListHeader)? {
        let rows = try await c.query("SELECT id, kind, interval, description FROM lists WHERE name = \(name)", logger: logger)
        for try await (id, kind, interval, description) in rows.decode((Int64, String, Int64?, String?).self) {
            return (id, ListHeader(kind: try Stored.listKind(kind), interval: interval.map { Int($0) }, description: description))
        }
        return nil
    }

    /// SQLite's `StoreWriter.addEntries`: the list created or its header updated (`replaceHeader`: exactly as
    /// `spec` says, for sync; else only what it gives: `ListSpec.header(over:replacing:)`); new domains created
    /// with their reversed name; each domain's membership added, reactivated (retired: `added` is now, the note
    /// kept unless a new one is given) or counted as already present. A domain given twice counts once, its
    /// first entry's note (`ListEntry.distinct`).
    static func addEntries(_ c: PostgresConnection, _ logger: Logger, _ entries: [ListEntry], to spec: ListSpec, now: Int64,
                           replaceHeader: Bool) async throws -> (listID: Int64, counts: ImportCounts) {
        let listID: Int64
        if let (id, stored) = try await self.list(c, logger, spec.name) {
            listID = id
            let header = spec.header(over: stored, replacing: replaceHeader)
            if header != stored {
                try await c.query("""
                    UPDATE lists SET kind = \(header.kind.rawValue), interval = \(header.interval.map { Int64($0) }),
                                     description = \(header.description)
                    WHERE id = \(id)
                    """, logger: logger)
            }
        } else {
            let header = spec.header(over: nil, replacing: replaceHeader)
            listID = try await single(c, logger, "creating list \(spec.name)", """
                INSERT INTO lists (name, kind, interval, description, created)
                VALUES (\(spec.name), \(header.kind.rawValue), \(header.interval.map { Int64($0) }), \(header.description), \(now)) RETURNING id
                """)
        }
        let unique = ListEntry.distinct(entries)
        guard !unique.isEmpty else { return (listID, ImportCounts()) }
        let names = unique.map(\.domain.value)
        try await insertNames(c, logger, names, at: now)
        // Each membership added, or reactivated where retired (`added` anew, the note kept unless one is
        // given); an active one is left as it is and is not counted by the statement.
        let added = Int(try await single(c, logger, "adding memberships", """
            WITH changed AS (
            INSERT INTO memberships (list_id, domain_id, added, note)
            SELECT \(listID), d.id, \(now), CASE WHEN v.given THEN v.note END
            FROM unnest(\(names)::text[], \(unique.map { $0.note ?? "" })::text[], \(unique.map { $0.note != nil })::boolean[]) AS v(name, note, given)
            JOIN domains d ON d.name = v.name
            ON CONFLICT (list_id, domain_id) DO UPDATE SET retired = NULL, added = excluded.added,
                note = COALESCE(excluded.note, memberships.note)
            WHERE memberships.retired IS NOT NULL
            RETURNING 1)
            SELECT count(*) FROM changed
            """))
        // Every name is a domain by now (domains are never deleted): the others were already present.
        var counts = ImportCounts()
        counts.added = added
        counts.alreadyPresent = unique.count - added
        return (listID, counts)
    }
}
