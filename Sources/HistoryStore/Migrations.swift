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
    ]

    /// A migrator that applies each file once, in order, each in its own transaction.
    public static func migrator(upTo last: String? = nil) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (id, sql) in all {
            migrator.registerMigration(id) { db in try db.execute(sql: sql) }
            if id == last { break }
        }
        return migrator
    }
}
