import DNSWatchModel
public import Store
public import Foundation
import GRDB
import GRDBSQLite
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The SQLite history: WAL mode, migrated on open, readers never block the writer.
/// Every write goes through one transaction at a time (`write`), in batches, never one commit per answer.
public final class SQLiteStore: Sendable {
    public let path: String
    let pool: any DatabaseWriter
    /// Why the last checkpoint queued after a poll batch failed, until the next batch reports it (`apply`).
    let checkpointFailure = Mutex<(any Error)?>(nil)

    /// Mode of the files dnswatch creates (database, its -wal and -shm, the poll lock): owner only
    /// unless the config's `file_mode` says otherwise (`FileModes`, the one rule).
    public static let defaultFileMode: mode_t = FileModes.ownerOnly
    /// Mode of the directories dnswatch creates.
    public static let directoryMode: mode_t = FileModes.directory(for: FileModes.ownerOnly)

    /// `--db PATH`, else `$DNSWATCH_DB`, else `$XDG_DATA_HOME/dnswatch/dnswatch.sqlite`
    /// (`~/.local/share/dnswatch/dnswatch.sqlite`). An empty flag or variable is an error, never the default.
    public static func resolvePath(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) -> String {
        if let flag {
            guard !flag.isEmpty else { throw .emptyPath(source: "--db") }
            return flag
        }
        if let env = environment["DNSWATCH_DB"] {
            guard !env.isEmpty else { throw .emptyPath(source: "$DNSWATCH_DB") }
            return env
        }
        let base: String
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            base = xdg
        } else {
            base = (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        }
        return base + "/dnswatch/dnswatch.sqlite"
    }

    /// Whether a database file exists at `path` (commands that only read open nothing when it does not).
    /// A path that cannot be looked at (permission denied, a symbolic-link loop) counts as existing, so
    /// that opening it reports why instead of answering as for an empty database.
    public static func exists(at path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 || (errno != ENOENT && errno != ENOTDIR)
    }

    /// Opens (creating the file and its directories if needed) and migrates the database.
    ///
    /// A new file is created with `fileMode` (default 0600) and new directories 0700, whatever the
    /// umask; SQLite gives the -wal and -shm files the database's mode. An existing file is checked
    /// read-only first: another program's database, or a file that is not SQLite, is refused before
    /// anything is written to it.
    public init(path: String, fileMode: mode_t = SQLiteStore.defaultFileMode, busyTimeout: TimeInterval = 30) throws {
        self.path = path
        var st = stat()
        if stat(path, &st) == 0 {
            try Self.checkExisting(path, st)
        } else {
            try Self.createFile(path, mode: fileMode)
        }
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 16777216")
            // The writer (a pool's readers are read-only connections) keeps a poll batch's pages cached:
            // 32 MB instead of SQLite's 2 MB default, and its temporary b-trees in memory.
            if !db.configuration.readonly {
                try db.execute(sql: "PRAGMA cache_size = -32768; PRAGMA temp_store = MEMORY")
            }
            try Self.keepWALFiles(db)
        }
        let pool = try DatabasePool(path: path, configuration: config)
        try Self.migrate(pool, path: path)
        self.pool = pool
    }

    /// Opens an existing database through a read-only connection: nothing is written (no migration, no
    /// journal-mode change), so a reader with read access only (file_mode 0640, group) can use it. A
    /// database that still needs a migration is refused with a sentence asking for a writing command.
    public static func readOnly(path: String) throws -> SQLiteStore {
        try SQLiteStore(readOnlyPath: path)
    }

    private init(readOnlyPath path: String) throws {
        self.path = path
        var st = stat()
        guard stat(path, &st) == 0 else { throw StoreError.notADatabase(path, "cannot look at it: \(String(cString: strerror(errno)))") }
        try Self.checkReadable(path, st)
        try Self.checkExisting(path, st)
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        config.prepareDatabase { db in try Self.keepWALFiles(db) }
        // A pool of read-only connections: concurrent readers (the server's requests) never wait for
        // each other, and in WAL mode never for a poll.
        let queue = try DatabasePool(path: path, configuration: config)
        let migrator = Migrations.migrator()
        let (applied, complete) = try queue.read { db in
            (try migrator.appliedIdentifiers(db), try migrator.hasCompletedMigrations(db))
        }
        let unknown = applied.subtracting(Set(Migrations.all.map(\.id))).sorted()
        guard unknown.isEmpty else { throw StoreError.newerDatabase(path: path, unknown: unknown) }
        guard complete else { throw StoreError.needsMigration(path) }
        pool = queue
    }

    /// Keeps the `-wal` and `-shm` files in place when the last connection closes (SQLite's persistent WAL:
    /// the WAL is truncated, not deleted). A reader that may not create files in the database's directory
    /// (`serve` under systemd's `ProtectSystem=strict` with `ReadOnlyPaths=`) can open a WAL database only
    /// when both exist: it then reads the `-shm` index read-only, and stays correct while a poll writes.
    /// Set on every connection, readers' too, so that no one deletes them.
    static func keepWALFiles(_ db: Database) throws {
        var flag: CInt = 1
        let code = withUnsafeMutablePointer(to: &flag) { sqlite3_file_control(db.sqliteConnection, nil, SQLITE_FCNTL_PERSIST_WAL, $0) }
        guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code)) }
    }

    /// Before a read-only open, the cases SQLite would only call "unable to open": the file not readable, and
    /// a WAL database whose `-wal` or `-shm` is missing (or unreadable) in a directory this user cannot write,
    /// where SQLite cannot create them and so cannot read safely while a poll may write. Each in a sentence
    /// that says what to grant.
    static func checkReadable(_ path: String, _ st: stat) throws {
        guard st.st_mode & S_IFMT == S_IFREG, st.st_size > 0 else { return }  // checkExisting speaks for these
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.cannotRead(path, "cannot open it: \(String(cString: strerror(errno)))") }
        var header = [UInt8](repeating: 0, count: 20)
        let n = Glibc.read(fd, &header, header.count)
        close(fd)
        // Bytes 18 and 19 of the header, the read and write versions, are 2 in WAL mode.
        guard n == header.count, header[18] == 2, header[19] == 2 else { return }
        let dir = PathText.directory(of: path).isEmpty ? "." : PathText.directory(of: path)
        if access(dir, W_OK) == 0 { return }  // SQLite creates what is missing
        let missing = ["-wal", "-shm"].filter { access(path + $0, F_OK) != 0 }
        if !missing.isEmpty {
            throw StoreError.cannotRead(path, "it is in WAL mode, its \(missing.joined(separator: " and ")) file\(missing.count == 1 ? " is" : "s are") missing, "
                + "and this user may not create files in \(dir); SQLite needs both to read it while a poll may write. "
                + "Run a writing command (poll, watch add) once with this version, which keeps them in place, "
                + "or let this user write to \(dir) (systemd: ReadWritePaths=\(dir))")
        }
        let unreadable = ["-wal", "-shm"].filter { access(path + $0, R_OK) != 0 }
        if !unreadable.isEmpty {
            throw StoreError.cannotRead(path, "this user may not read its \(unreadable.joined(separator: " and ")) file\(unreadable.count == 1 ? "" : "s") "
                + "(give them the database's owner, group and mode, e.g. file_mode = \"0640\" and the group)")
        }
    }

    /// A migrated, empty, in-memory store: what commands that only read answer from when the database
    /// file does not exist (they never create one).
    public static func empty() throws -> SQLiteStore {
        try SQLiteStore(inMemory: ())
    }

    private init(inMemory: Void) throws {
        path = ":memory:"
        let queue = try DatabaseQueue()
        try Self.migrate(queue, path: path)
        pool = queue
    }

    private static func migrate(_ writer: any DatabaseWriter, path: String) throws {
        let migrator = Migrations.migrator()
        let unknown = try writer.read { db -> [String] in
            let applied = try migrator.appliedIdentifiers(db)
            let known = Set(Migrations.all.map(\.id))
            return applied.subtracting(known).sorted()
        }
        guard unknown.isEmpty else { throw StoreError.newerDatabase(path: path, unknown: unknown) }
        try migrator.migrate(writer)
    }

    /// An existing file must be a regular file with one name, and a dnswatch database (or empty).
    private static func checkExisting(_ path: String, _ st: stat) throws {
        guard st.st_mode & S_IFMT == S_IFREG else { throw StoreError.notADatabase(path, "not a regular file") }
        // Each path gets its own lock and its own -wal/-shm: two hard links to one file could be polled
        // at once and split its journal. (A symbolic link is resolved and shares the lock.)
        guard st.st_nlink <= 1 else {
            throw StoreError.notADatabase(path, "the file has \(st.st_nlink) hard links; give dnswatch one path to it (a symbolic link is fine)")
        }
        if st.st_size > 0 { try checkIsOurs(path) }
    }

    /// Refuses, through a read-only connection (nothing written, journal mode untouched), a database
    /// that has tables but none of dnswatch's migrations, and a file SQLite cannot read.
    private static func checkIsOurs(_ path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.prepareDatabase { db in try Self.keepWALFiles(db) }
        let tables: [String]
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            tables = try queue.read { db in
                try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            }
            guard !tables.isEmpty else { return }
            let ours = try queue.read { db -> Bool in
                guard tables.contains("grdb_migrations") else { return false }
                let ids = try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations")
                return ids.contains(Migrations.all[0].id)
            }
            guard ours else { throw StoreError.foreignDatabase(path) }
        } catch let e as DatabaseError where e.resultCode == .SQLITE_NOTADB {
            throw StoreError.notADatabase(path, "the file is not an SQLite database")
        } catch let e as DatabaseError where e.resultCode == .SQLITE_CANTOPEN || e.resultCode == .SQLITE_PERM {
            throw StoreError.notADatabase(path, "cannot open it (\(e.message ?? "permission denied"))")
        }
    }

    /// Creates the missing directories of `path` (0700) and the file itself (`mode`, exclusive).
    private static func createFile(_ path: String, mode: mode_t) throws {
        let dir = PathText.directory(of: path)
        // Directories a group may enter when the files are for the group too (file_mode 0640).
        if !dir.isEmpty { try createDirectories(dir, mode: FileModes.directory(for: mode)) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        if fd < 0 {
            let err = errno
            if err == EEXIST {
                var link = stat()
                if lstat(path, &link) == 0, link.st_mode & S_IFMT == S_IFLNK {
                    throw StoreError.cannotCreate(path, "it is a symbolic link to a file that does not exist; create the database at the link's target")
                }
                return  // created meanwhile by another dnswatch
            }
            throw StoreError.cannotCreate(path, String(cString: strerror(err)))
        }
        defer { close(fd) }
        // The umask may have narrowed the mode (never widened): set exactly what was asked.
        if fchmod(fd, mode) != 0 { throw StoreError.cannotCreate(path, String(cString: strerror(errno))) }
    }

    /// `mkdir -p` with mode 0700 for each directory it creates.
    static func createDirectories(_ dir: String, mode: mode_t) throws {
        var st = stat()
        if stat(dir, &st) == 0 {
            guard st.st_mode & S_IFMT == S_IFDIR else { throw StoreError.cannotCreateDirectory(dir, "a file of that name exists") }
            return
        }
        let parent = PathText.directory(of: dir)
        if !parent.isEmpty, parent != dir { try createDirectories(parent, mode: mode) }
        if mkdir(dir, mode) != 0, errno != EEXIST {
            throw StoreError.cannotCreateDirectory(dir, String(cString: strerror(errno)))
        }
    }

    /// The ids of the migrations applied to this database, in order.
    public func appliedMigrations() async throws -> [String] {
        try await pool.read { db in try Migrations.migrator().appliedMigrations(db) }
    }

    /// `PRAGMA integrity_check` (its first line: "ok" when sound), then `PRAGMA foreign_key_check` (a poll's
    /// write checks no foreign key row by row): "ok", or the first problem found.
    public func integrityCheck() async throws -> String {
        try await pool.read { db in
            let integrity = try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer"
            guard integrity == "ok" else { return integrity }
            guard let row = try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") else { return "ok" }
            let table: String = row[0], rowid: Int64? = row[1], parent: String = row[2]
            return "foreign key: row \(rowid.map(String.init) ?? "?") of \(table) names no row of \(parent)"
        }
    }

    /// Folds the WAL back into the main file (used before measuring the file's size).
    public func checkpoint() async throws {
        try await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Runs `body` in one write transaction: all or nothing. GRDB runs it on its writer's own dispatch
    /// queue, so the caller's task is suspended, never a thread of the cooperative pool blocked. Internal:
    /// the store's own methods use it; a poll's history is written only by `apply(_:claim:)`.
    func write<T: Sendable>(_ body: @escaping @Sendable (StoreWriter) throws -> T) async throws -> T {
        try await pool.write { db in try body(StoreWriter(db: db)) }
    }

    /// Runs `body` on a reader (WAL: never blocked by the poll's writes), off the cooperative pool.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }
}

/// `?,?,?` for an `IN (...)` list of `count` values.
func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ",")
}
