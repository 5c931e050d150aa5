import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL schema migrations, embedded from `migrations/postgresql/*.sql` (`.embedInCode`), kept
/// beside SQLite's own. Each file is applied once, in order, in one transaction with its record in
/// `dnswatch_migrations`; every process takes the same advisory lock first, so several pollers starting
/// together migrate once and the others wait for it. A statement in a file ends with `;` at the end of
/// a line (the files are executed statement by statement: the extended protocol takes one at a time).
enum PostgresMigrations {
    static let all: [(id: String, sql: String)] = [
        ("0001_schema", String(decoding: PackageResources._001_schema_sql, as: UTF8.self)),
    ]

    /// The advisory lock every dnswatch process takes to migrate (any fixed 64-bit number; this one spells
    /// "dnswatch" in ASCII).
    static let lockKey: Int64 = 0x646E_7377_6174_6368

    /// The statements of a file: split at `;` ending a line, comment lines dropped.
    static func statements(_ sql: String) -> [String] {
        var out: [String] = [], current: [Substring] = []
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("--") || trimmed.isEmpty { continue }
            current.append(line)
            if trimmed.hasSuffix(";") {
                out.append(current.joined(separator: "\n"))
                current = []
            }
        }
        if !current.isEmpty { out.append(current.joined(separator: "\n")) }
        return out
    }
}

extension PostgresStore {
    /// Applies the migrations not yet applied, under the advisory lock.
    public func migrate() async throws {
        try await transaction("migrating") { connection in
            let logger = self.logger
            try await connection.query("SELECT pg_advisory_xact_lock(\(PostgresMigrations.lockKey))", logger: logger)
            try await connection.query("""
                CREATE TABLE IF NOT EXISTS dnswatch_migrations (id TEXT PRIMARY KEY, applied TIMESTAMPTZ NOT NULL DEFAULT now())
                """, logger: logger)
            var applied = Set<String>()
            for try await id in try await connection.query("SELECT id FROM dnswatch_migrations", logger: logger).decode(String.self) {
                applied.insert(id)
            }
            for (id, sql) in PostgresMigrations.all where !applied.contains(id) {
                for statement in PostgresMigrations.statements(sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO dnswatch_migrations (id) VALUES (\(id))", logger: logger)
                logger.info("migrated", metadata: ["migration": "\(id)"])
            }
        }
    }
}
