import Store
public import GRDB

/// The schema migrations, embedded from `migrations/*.sql` at build time (`.embedInCode`), so the
/// binary migrates a database wherever it is copied. The migration id is the file name without `.sql`.
/// A test checks this list against the files in `migrations/`: a new file must be added here.
public enum Migrations {
    public static let all: [(id: String, sql: String)] = [
        ("0001_core", String(decoding: PackageResources._001_core_sql, as: UTF8.self)),
        ("0002_detection", String(decoding: PackageResources._002_detection_sql, as: UTF8.self)),
        ("0003_schedule", String(decoding: PackageResources._003_schedule_sql, as: UTF8.self)),
        ("0004_answer_hash", String(decoding: PackageResources._004_answer_hash_sql, as: UTF8.self)),
        ("0005_inverse_index", String(decoding: PackageResources._005_inverse_index_sql, as: UTF8.self)),
        ("0006_sources", String(decoding: PackageResources._006_sources_sql, as: UTF8.self)),
        ("0007_pollers", String(decoding: PackageResources._007_pollers_sql, as: UTF8.self)),
        ("0008_head_sightings", String(decoding: PackageResources._008_head_sightings_sql, as: UTF8.self)),
        ("0009_trust", String(decoding: PackageResources._009_trust_sql, as: UTF8.self)),
    ]

    /// Steps that SQL alone cannot do, run right after a file's SQL in the same transaction: they fill what
    /// the file created with the rules of `ValueKey`, so the keys of old rows are made as new ones are.
    static let after: [String: @Sendable (Database) throws -> Void] = [
        "0005_inverse_index": { db in try ValueKey.backfill(db) },
    ]

    /// A migrator that applies each file once, in order, each in its own transaction.
    public static func migrator(upTo last: String? = nil) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (id, sql) in all {
            let step = after[id]
            migrator.registerMigration(id) { db in
                try db.execute(sql: sql)
                try step?(db)
            }
            if id == last { break }
        }
        return migrator
    }
}
