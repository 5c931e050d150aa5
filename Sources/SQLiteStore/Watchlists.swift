public import DNSWatchModel
public import Store
import GRDB

extension SQLiteStore {
    /// Adds entries to a list (creating it), reactivating retired memberships.
    /// Kind, interval and description are updated where the spec gives them.
    public func addEntries(_ entries: [ListEntry], to spec: ListSpec, now: Int64) async throws -> ImportCounts {
        try await write { w in try w.addEntries(entries, to: spec, now: now) }
    }

    /// Makes the stored lists equal to `lists`: new domains added, removed ones retired (history kept),
    /// kind / interval / description updated; lists absent from `lists` are retired as a whole.
    public func sync(_ lists: [(ListSpec, [ListEntry])], now: Int64) async throws -> ImportCounts {
        try await write { w in
            var total = ImportCounts()
            var keep = Set<String>()
            for (spec, entries) in lists {
                keep.insert(spec.name)
                let c = try w.addEntries(entries, to: spec, now: now, replaceHeader: true)
                total.added += c.added
                total.alreadyPresent += c.alreadyPresent
                guard let listID = try w.listID(spec.name) else { throw StoreError.unknownList(spec.name) }
                let wanted = Set(entries.map(\.domain.value))
                let active = try Row.fetchAll(w.db, sql: """
                    SELECT d.id, d.name FROM memberships m JOIN domains d ON d.id = m.domain_id
                    WHERE m.list_id = ? AND m.retired IS NULL
                    """, arguments: [listID])
                for row in active where !wanted.contains(row["name"]) {
                    try w.db.execute(sql: "UPDATE memberships SET retired = ? WHERE list_id = ? AND domain_id = ?",
                                     arguments: [now, listID, row["id"] as Int64])
                    total.retired += 1
                }
            }
            let others = try Row.fetchAll(w.db, sql: "SELECT id, name FROM lists")
            for row in others where !keep.contains(row["name"]) {
                try w.db.execute(sql: "UPDATE memberships SET retired = ? WHERE list_id = ? AND retired IS NULL",
                                 arguments: [now, row["id"] as Int64])
                total.retired += w.db.changesCount
            }
            return total
        }
    }

    /// Retires domains from one list, or from every list. Returns how many memberships ended.
    public func remove(_ domains: [DomainName], list: String?, now: Int64) async throws -> Int {
        try await write { w in
            var listID: Int64?
            if let list {
                guard let id = try w.listID(list) else { throw StoreError.unknownList(list) }
                listID = id
            }
            var n = 0
            for d in domains {
                try w.db.execute(sql: """
                    UPDATE memberships SET retired = ?
                    WHERE retired IS NULL AND domain_id = (SELECT id FROM domains WHERE name = ?)
                      AND (? IS NULL OR list_id = ?)
                    """, arguments: [now, d.value, listID, listID])
                n += w.db.changesCount
            }
            return n
        }
    }

    /// Active memberships, ordered by list then domain.
    public func watchedDomains(list: String? = nil) async throws -> [WatchedDomain] {
        try await read { db in
            try WatchedDomain.fetchAll(db, sql: """
                SELECT d.name AS domain, l.name AS list, l.kind, l.interval, m.added, m.note
                FROM memberships m JOIN lists l ON l.id = m.list_id JOIN domains d ON d.id = m.domain_id
                WHERE m.retired IS NULL AND (? IS NULL OR l.name = ?)
                ORDER BY l.name, d.name
                """, arguments: [list, list])
        }
    }

    /// Every membership (retired ones too) of these domains, by domain: one indexed read per few hundred
    /// names, never the whole table.
    public func memberships(of domains: [String]) async throws -> [String: [WatchedDomain]] {
        try await read { db in try SQLiteStore.memberships(db, of: domains) }
    }

    /// `memberships(of:)` inside a read the caller holds.
    static func memberships(_ db: Database, of domains: [String]) throws -> [String: [WatchedDomain]] {
        var rows: [WatchedDomain] = []
        for chunk in domains.chunked(500) {
            rows += try WatchedDomain.fetchAll(db, sql: """
                SELECT d.name AS domain, l.name AS list, l.kind, l.interval, m.added, m.note, m.retired
                FROM domains d JOIN memberships m ON m.domain_id = d.id JOIN lists l ON l.id = m.list_id
                WHERE d.name IN (\(placeholders(chunk.count)))
                """, arguments: StatementArguments(Array(chunk)))
        }
        return WatchedDomain.byDomain(rows)
    }
}

extension StoreWriter {
    func listID(_ name: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM lists WHERE name = ?", arguments: [name])
    }

    /// A list's id and header, if there is a list of that name.
    func list(_ name: String) throws -> (id: Int64, header: ListHeader)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, kind, interval, description FROM lists WHERE name = ?", arguments: [name]) else {
            return nil
        }
        return (row["id"], ListHeader(kind: try row.decode(ListKind.self, forColumn: "kind"), interval: row["interval"], description: row["description"]))
    }

    /// - Parameter replaceHeader: set kind, interval and description exactly as `spec` says (sync: the file is the
    ///   truth), instead of only the values it gives (import, add): `ListSpec.header(over:replacing:)`.
    func addEntries(_ entries: [ListEntry], to spec: ListSpec, now: Int64, replaceHeader: Bool = false) throws -> ImportCounts {
        let listID: Int64
        if let (id, stored) = try self.list(spec.name) {
            listID = id
            let header = spec.header(over: stored, replacing: replaceHeader)
            if header != stored {
                try db.execute(sql: "UPDATE lists SET kind = ?, interval = ?, description = ? WHERE id = ?",
                               arguments: [header.kind.rawValue, header.interval, header.description, id])
            }
        } else {
            let header = spec.header(over: nil, replacing: replaceHeader)
            try db.execute(sql: "INSERT INTO lists (name, kind, interval, description, created) VALUES (?, ?, ?, ?, ?)",
                           arguments: [spec.name, header.kind.rawValue, header.interval, header.description, now])
            listID = db.lastInsertedRowID
        }
        var counts = ImportCounts()
        let insertDomain = try db.cachedStatement(sql: "INSERT INTO domains (name, created, rname) VALUES (?, ?, ?) ON CONFLICT(name) DO NOTHING")
        let selectDomain = try db.cachedStatement(sql: "SELECT id FROM domains WHERE name = ?")
        let membership = try db.cachedStatement(sql: "SELECT retired FROM memberships WHERE list_id = ? AND domain_id = ?")
        let insertMembership = try db.cachedStatement(sql: "INSERT INTO memberships (list_id, domain_id, added, note) VALUES (?, ?, ?, ?)")
        let reactivate = try db.cachedStatement(sql: "UPDATE memberships SET retired = NULL, added = ?, note = COALESCE(?, note) WHERE list_id = ? AND domain_id = ?")
        for entry in ListEntry.distinct(entries) {
            try insertDomain.execute(arguments: [entry.domain.value, now, ValueKey.reversedName(entry.domain.value)])
            guard let id = try Int64.fetchOne(selectDomain, arguments: [entry.domain.value]) else { continue }
            if let row = try Row.fetchOne(membership, arguments: [listID, id]) {
                if (row[0] as Int64?) != nil {
                    try reactivate.execute(arguments: [now, entry.note, listID, id])
                    counts.added += 1
                } else {
                    counts.alreadyPresent += 1
                }
            } else {
                try insertMembership.execute(arguments: [listID, id, now, entry.note])
                counts.added += 1
            }
        }
        return counts
    }
}

extension SQLiteStore: WatchlistStore {}
