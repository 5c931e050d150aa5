import DNSWatchModel
import Store
import Foundation
import GRDB
import Testing
import TestSupport
@testable import SQLiteStore

// SQLite only: the database file, its migrations and its journal. What the store does for its callers
// (watchlists, spans written by a poll, lookups, triage reads, alerts) is tested on both backends in
// StoreContractTests.

/// A path for a new database file, in a fresh temporary directory.
func temporaryDatabase() throws -> String {
    try TemporaryDirectory("dnswatch-store").path("db.sqlite")
}

/// A poll's write checks no foreign key row by row (SQLiteStore's `apply`); `integrityCheck`, which the
/// contract suite runs after every SQLite test, finds a row whose parent is missing.
@Suite struct IntegrityCheckTests {
    @Test func aRowWithoutItsParentIsFound() async throws {
        let path = try temporaryDatabase()
        let store = try SQLiteStore(path: path)
        await #expect(try store.integrityCheck() == "ok")
        var config = Configuration()
        config.foreignKeysEnabled = false  // as a write without the check would leave it
        try await DatabaseQueue(path: path, configuration: config).write { db in
            try db.execute(sql: "INSERT INTO domain_status (domain_id, last_polled) VALUES (999, 0)")
        }
        await #expect(try store.integrityCheck() == "foreign key: row 999 of domain_status names no row of domains")
    }
}

@Suite struct MigrationTests {
    @Test func freshDatabaseGetsEveryMigrationInWAL() async throws {
        let store = try SQLiteStore(path: try temporaryDatabase())
        await #expect(try store.appliedMigrations() == Migrations.all.map(\.id))
        let mode = try await store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func embeddedMigrationsMatchTheFiles() async throws {
        let dir = DNSWatchBinary.packageRoot.appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(!files.isEmpty, "no migrations/*.sql in \(dir.path)")
        #expect(files.map { String($0.dropLast(4)) } == Migrations.all.map(\.id), "every migrations/*.sql must be registered in Migrations.all")
        for (id, sql) in Migrations.all {
            #expect(try String(contentsOf: dir.appendingPathComponent(id + ".sql"), encoding: .utf8) == sql)
        }
    }

    @Test func olderDatabaseIsMigratedAndKeepsItsData() async throws {
        let path = try temporaryDatabase()
        do {
            let pool = try DatabasePool(path: path)
            try Migrations.migrator(upTo: "0001_core").migrate(pool)
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO domains (name, created) VALUES ('old.example', 1)")
                try db.execute(sql: "INSERT INTO spans (domain_id, rrtype, status, rdata, time_first, time_last, count) VALUES (1, 'A', 'NOERROR', '192.0.2.1', 1, 5, 3)")
            }
        }
        let store = try SQLiteStore(path: path)
        await #expect(try store.appliedMigrations() == Migrations.all.map(\.id))
        let spans = try await store.history(domain: "old.example")
        #expect(spans.count == 1)
        #expect(spans.first?.rdata == ["192.0.2.1"])
        #expect(spans.first?.count == 3)
        #expect(spans.first?.timeFirst == 1 && spans.first?.timeLast == 5)
        #expect(spans.first?.class == nil)  // derived later by reclassify
    }

    @Test func newerDatabaseIsRefused() async throws {
        let path = try temporaryDatabase()
        _ = try SQLiteStore(path: path)
        let pool = try DatabasePool(path: path)
        try await pool.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999_future')") }
        let error = #expect(throws: StoreError.self) { try SQLiteStore(path: path) }
        #expect(error?.description.contains("9999_future") == true, "the refusal names the unknown migration: \(String(describing: error))")
    }
}
