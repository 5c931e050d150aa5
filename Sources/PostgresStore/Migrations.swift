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
        ("0002_metrics_order", String(decoding: PackageResources._002_metrics_order_sql, as: UTF8.self)),
        ("0003_head_sightings", String(decoding: PackageResources._003_head_sightings_sql, as: UTF8.self)),
        ("0004_claims", String(decoding: PackageResources._004_claims_sql, as: UTF8.self)),
        ("0005_trust", String(decoding: PackageResources._005_trust_sql, as: UTF8.self)),
    ]

    /// The advisory lock every dnswatch process takes to migrate (any fixed 64-bit number; this one spells
    /// "dnswatch" in ASCII).
    static let lockKey: Int64 = 0x646E_7377_6174_6368
    /// The transaction-level lock a batch takes before its first alert id, and a poll before its
    /// `finish_seq` (migration 0002): ids in the order they commit.
    static let alertsLockKey: Int64 = lockKey + 1
    static let finishesLockKey: Int64 = lockKey + 2
    /// The transaction-level lock of making a claim (migration 0004): one claim at a time sees every live one.
    static let claimsLockKey: Int64 = lockKey + 3

    /// Numbers the finished polls without a `finish_seq` (copied ones), in id order after those numbered.
    static let numberFinishedPolls = [
        """
        UPDATE polls SET finish_seq = o.n FROM (
            SELECT id, (SELECT coalesce(max(finish_seq), 0) FROM polls) + row_number() OVER (ORDER BY id) AS n
            FROM polls WHERE finished IS NOT NULL AND finish_seq IS NULL) AS o
        WHERE polls.id = o.id
        """,
        "SELECT setval('poll_finishes', coalesce((SELECT max(finish_seq) FROM polls), 0) + 1, false)",
    ]

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
