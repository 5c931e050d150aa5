import Foundation
import Testing
import TestSupport

/// What DNSWatchApp decides for the CLI, checked where it differs from what each command used to decide
/// on its own: `classify` opens either backend (its origin-ASN cache), and `pollers` on a database not
/// created yet says so in the same words as the other readers, on both backends, creating nothing.
@Suite(.serialized) struct CompositionRootTests {
    @Test func classifyPrintsTheSameOnBothBackends() async throws {
        let w = try await BackendWorld(.postgresql, names: ["a.r.example"])
        let url = try #require(w.url, "a PostgreSQL world has a URL")
        let args = ["classify", "192.0.2.1", "ns1.sedoparking.com", "--json"]
        let sqlite = try await w.bulk.dnswatch(args + ["--db", w.bulk.dbPath])
        let postgres = try await w.bulk.dnswatch(args + ["--db", url])
        #expect(sqlite.code == 0 && sqlite.err.isEmpty && sqlite.out.split(separator: "\n").count == 2, "\(sqlite.err)")
        #expect(postgres.code == 0 && postgres.err.isEmpty, "\(postgres.err)")
        #expect(postgres.out == sqlite.out)
    }

    @Test func pollersOnADatabaseNotCreatedYetNotesItOnBothBackends() async throws {
        let w = try await BackendWorld(.sqlite, names: [])
        let missing = w.bulk.workdir.appendingPathComponent("none/db.sqlite").path
        let file = try await w.bulk.dnswatch(["pollers", "--db", missing])
        #expect(file.code == 0 && file.out.isEmpty, "\(file.out)")
        #expect(file.err == """
            dnswatch: no database at \(missing) yet (a writing command such as 'watch import' or 'poll' creates it)
            dnswatch: no poller has polled this database yet

            """, "\(file.err)")
        #expect(!FileManager.default.fileExists(atPath: missing))

        let url = try TestPostgres.freshDatabase()
        let database = try await w.bulk.dnswatch(["pollers", "--db", url])
        #expect(database.code == 0 && database.out.isEmpty, "\(database.out)")
        #expect(database.err == """
            dnswatch: no dnswatch tables in \(url) yet (a writing command such as 'poll' or 'migrate' creates them)
            dnswatch: no poller has polled this database yet

            """, "\(database.err)")
        #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0)
    }
}
