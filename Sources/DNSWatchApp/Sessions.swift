public import Foundation
public import Logging
import PostgresStore
import SQLiteStore
public import Store

/// What a command that only reads gets: the history (both backends' `ServeReading`), the pollers, and a
/// note for stderr when there is no database yet.
public struct Reader: Sendable {
    public let history: any ServeReading
    /// Set when the database does not exist yet (no SQLite file, or a PostgreSQL database without
    /// dnswatch's tables): the history then reads as empty (`NoHistory`), and nothing is created.
    public let note: String?
    let listPollers: @Sendable () async throws -> [PollerInfo]

    /// Every poller that polled this database, by name, with its last poll run.
    public func pollers() async throws -> [PollerInfo] { try await listPollers() }
}

/// What `ip`, `triage` and `classify` get: the investigation's reads, the store that caches origin ASNs
/// (saving what `--resolver` looks up), and a note for stderr when there is no database yet.
public struct Investigating: Sendable {
    public let reading: any InvestigationReading
    public let asnCache: any PollStore
    public let note: String?
}

/// What a command that writes lists or imported history gets (`watch`, `import cof`).
public struct Writer: Sendable {
    public let watchlists: any WatchlistStore
    public let imports: any ImportStore
}

/// What a poll or a reclassification gets: the store, and on SQLite the poll lock, held while this
/// value lives (one poll or reclassification at a time per database file); on PostgreSQL no lock: pollers
/// share the due domains through leases.
public struct Polling: Sendable {
    public let polls: any PollStore
    public let reclassify: any ReclassifyStore
    /// The SQLite poll lock (nil on PostgreSQL): give it to the Poller or Reclassifier to hold.
    public let lock: (any Sendable)?
    let openServing: @Sendable () throws -> any ServeReading

    /// What `daemon --listen` serves from: on SQLite a read-only connection of its own (the poll's writes
    /// never wait for it), on PostgreSQL the same pool of connections as the poll.
    public func servingReader() throws -> any ServeReading { try openServing() }
}

extension Database {
    /// Runs `body` with the history of a command that only reads. SQLite: the file, opened read-only
    /// (nothing written, so a reader with read access only can use it); without a file, nothing and a note
    /// (no file or directory is created). PostgreSQL: never migrated by a reader (a wrong URL, an
    /// unreachable server or a missing database is the store's sentence, exit 1); without dnswatch's
    /// tables, nothing and a note naming `creators` (the writing commands that create them); one an older
    /// dnswatch wrote is refused until a writing command migrates it, as a SQLite file is.
    public func reading<T: Sendable>(logger: Logger, creators: String = "'poll' or 'migrate'",
                                     _ body: (Reader) async throws -> T) async throws -> T {
        switch location {
        case .sqlite(let path):
            guard SQLiteStore.exists(at: path) else {
                let note = "no database at \(path) yet (a writing command such as 'watch import' or 'poll' creates it)"
                return try await body(Reader(history: NoHistory(), note: note, listPollers: { [] }))
            }
            let store = try Self.opening(path) { try SQLiteStore.readOnly(path: path) }
            return try await body(Reader(history: store, note: nil, listPollers: { try await store.pollers() }))
        case .postgres(let url):
            return try await PostgresStore.withStore(url, logger: logger, migrate: false) { store in
                guard try await store.hasSchema() else {
                    let note = "no dnswatch tables in \(url) yet (a writing command such as \(creators) creates them)"
                    return try await body(Reader(history: NoHistory(), note: note, listPollers: { [] }))
                }
                let missing = try await store.missingMigrations()
                guard missing.isEmpty else {
                    throw AppFailure(.failure, """
                        the database \(url) was written by an older dnswatch and needs migrating (\(missing.joined(separator: ", "))): \
                        run a command that writes to it once (poll, watch add)
                        """)
                }
                return try await body(Reader(history: store, note: nil, listPollers: { try await store.pollers() }))
            }
        }
    }

    /// Runs `body` with the stores of an investigation command. SQLite: read-only, unless `cache` (origin
    /// ASNs looked up by `--resolver` are saved), then opened to write (and migrated); without a file, an
    /// empty in-memory SQLite store and a note (nothing created). PostgreSQL: never migrated.
    public func investigating<T: Sendable>(logger: Logger, cache: Bool, _ body: (Investigating) async throws -> T) async throws -> T {
        switch location {
        case .sqlite(let path):
            guard SQLiteStore.exists(at: path) else {
                let empty: SQLiteStore
                do { empty = try SQLiteStore.empty() } catch { throw AppFailure(.failure, "\(error)") }
                let note = "no database at \(path) yet (a writing command such as 'watch import' or 'poll' creates it)"
                return try await body(Investigating(reading: empty, asnCache: empty, note: note))
            }
            let store = try Self.opening(path) { cache ? try SQLiteStore(path: path) : try SQLiteStore.readOnly(path: path) }
            return try await body(Investigating(reading: store, asnCache: store, note: nil))
        case .postgres(let url):
            return try await PostgresStore.withStore(url, logger: logger, migrate: false) { store in
                try await body(Investigating(reading: store, asnCache: store, note: nil))
            }
        }
    }

    /// Runs `body` with the store of a command that writes lists or imported history: the SQLite file
    /// (created with `fileMode`, directories 0700, and migrated on first use) or the PostgreSQL database
    /// (migrated on first use).
    public func writing<T: Sendable>(logger: Logger, fileMode: mode_t, _ body: (Writer) async throws -> T) async throws -> T {
        switch location {
        case .sqlite(let path):
            let store = try Self.opening(path) { try SQLiteStore(path: path, fileMode: fileMode) }
            return try await body(Writer(watchlists: store, imports: store))
        case .postgres(let url):
            return try await PostgresStore.withStore(url, logger: logger, migrate: true) { store in
                try await body(Writer(watchlists: store, imports: store))
            }
        }
    }

    /// Runs `body` with the store of a poll or a reclassification. SQLite: the file (created with `fileMode`
    /// and migrated on first use) and its poll lock, taken at once or, with `wait`, when the poll holding it
    /// ends; PostgreSQL: the database, migrated on first use.
    public func polling<T: Sendable>(logger: Logger, fileMode: mode_t, wait: Bool, _ body: (Polling) async throws -> T) async throws -> T {
        switch location {
        case .sqlite(let path):
            let store = try Self.opening(path) { try SQLiteStore(path: path, fileMode: fileMode) }
            let lock: PollLock
            do {
                lock = try await PollLock.acquire(store: store, wait: wait, fileMode: fileMode)
            } catch let e as PollLock.Failure {
                throw AppFailure(.failure, e.description)
            }
            let serving: @Sendable () throws -> any ServeReading = {
                do {
                    return try SQLiteStore.readOnly(path: path)
                } catch {
                    throw AppFailure(.failure, "cannot open the database \(path) for serving: \(error)")
                }
            }
            return try await body(Polling(polls: lock.store, reclassify: lock.store, lock: lock, openServing: serving))
        case .postgres(let url):
            return try await PostgresStore.withStore(url, logger: logger, migrate: true) { store in
                try await body(Polling(polls: store, reclassify: store, lock: nil, openServing: { store }))
            }
        }
    }

    /// `dnswatch migrate --from`: copies the SQLite database at `source` into this one, which must be an
    /// empty PostgreSQL database (migrated first); the rows copied per table.
    public func copying(from source: String, logger: Logger) async throws -> CopyReport {
        guard case .postgres(let url) = location else {
            throw AppFailure(.usage, "migrate copies into PostgreSQL: give --db postgresql://USER@HOST/DB (or $DNSWATCH_DB)")
        }
        guard SQLiteStore.exists(at: source) else { throw AppFailure(.failure, "no database at \(source)") }
        let from: SQLiteStore
        do { from = try SQLiteStore.readOnly(path: source) } catch { throw AppFailure(.failure, "\(error)") }
        return try await PostgresStore.withStore(url, logger: logger, migrate: true) { try await $0.copy(from: from) }
    }

    /// Runs `open`, turning its failure into one sentence (exit 1).
    private static func opening(_ path: String, _ open: () throws -> SQLiteStore) throws -> SQLiteStore {
        do {
            return try open()
        } catch let e as StoreError {
            throw AppFailure(.failure, e.description)
        } catch {
            throw AppFailure(.failure, "cannot open the database \(path): \(error)")
        }
    }
}
