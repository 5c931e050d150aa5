import DNSWatchModel
import Foundation
import GRDB

/// Errors of the history database, each with a sentence for the user.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case newerDatabase(path: String, unknown: [String])
    case cannotCreateDirectory(String, String)
    case unknownList(String)

    public var description: String {
        switch self {
        case .newerDatabase(let path, let unknown):
            "the database \(path) was migrated by a newer dnswatch (unknown migrations: \(unknown.joined(separator: ", "))); use that version or another --db"
        case .cannotCreateDirectory(let dir, let why): "cannot create the database directory \(dir): \(why)"
        case .unknownList(let name): "no list named '\(name)'"
        }
    }
}

/// The SQLite history: WAL mode, migrated on open, readers never block the writer.
/// Every write goes through one transaction at a time (`write`), in batches, never one commit per answer.
public final class HistoryStore: Sendable {
    public let path: String
    let pool: DatabasePool

    /// `--db PATH`, else `$DNSWATCH_DB`, else `$XDG_DATA_HOME/dnswatch/dnswatch.sqlite`
    /// (`~/.local/share/dnswatch/dnswatch.sqlite`).
    public static func resolvePath(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let flag, !flag.isEmpty { return flag }
        if let env = environment["DNSWATCH_DB"], !env.isEmpty { return env }
        let base: String
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            base = xdg
        } else {
            base = (environment["HOME"] ?? NSHomeDirectory()) + "/.local/share"
        }
        return base + "/dnswatch/dnswatch.sqlite"
    }

    /// Opens (creating the file and its directory if needed) and migrates the database.
    public init(path: String, busyTimeout: TimeInterval = 30) throws {
        self.path = path
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty, !FileManager.default.fileExists(atPath: dir) {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw StoreError.cannotCreateDirectory(dir, error.localizedDescription)
            }
        }
        var config = Configuration()
        config.busyMode = .timeout(busyTimeout)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 16777216")
        }
        pool = try DatabasePool(path: path, configuration: config)
        let migrator = Migrations.migrator()
        let unknown = try pool.read { db -> [String] in
            let applied = try migrator.appliedIdentifiers(db)
            let known = Set(Migrations.all.map(\.id))
            return applied.subtracting(known).sorted()
        }
        guard unknown.isEmpty else { throw StoreError.newerDatabase(path: path, unknown: unknown) }
        try migrator.migrate(pool)
    }

    /// The ids of the migrations applied to this database, in order.
    public func appliedMigrations() throws -> [String] {
        try pool.read { db in try Migrations.migrator().appliedMigrations(db) }
    }

    /// `PRAGMA integrity_check` (the first line: "ok" when sound).
    public func integrityCheck() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "no answer" }
    }

    /// Folds the WAL back into the main file (used before measuring the file's size).
    public func checkpoint() throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Runs `body` in one write transaction: all or nothing.
    public func write<T: Sendable>(_ body: @Sendable (StoreWriter) throws -> T) throws -> T {
        try pool.write { db in try body(StoreWriter(db: db)) }
    }

    /// Async form of `write`, for callers on the concurrency runtime.
    public func write<T: Sendable>(_ body: @escaping @Sendable (StoreWriter) throws -> T) async throws -> T {
        try await pool.write { db in try body(StoreWriter(db: db)) }
    }

    func read<T>(_ body: (Database) throws -> T) throws -> T {
        try pool.read(body)
    }
}

/// Rdata sets are stored as their sorted values joined by newlines.
enum RdataCodec {
    /// `values` sorted (an `Answer`'s rdata already is) and joined.
    static func encode(_ values: [String]) -> String {
        switch values.count {
        case 0: return ""
        case 1: return values[0]
        default:
            let sorted = zip(values, values.dropFirst()).allSatisfy { $0 < $1 } ? values : values.sorted()
            return sorted.joined(separator: "\n")
        }
    }

    static func decode(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}

/// `?,?,?` for an `IN (...)` list of `count` values.
func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ",")
}
