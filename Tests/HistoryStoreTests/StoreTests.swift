import DNSWatchModel
import Foundation
import GRDB
import Testing
@testable import HistoryStore

func temporaryDatabase() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("dnswatch-test-\(UUID().uuidString)")
    return dir.appendingPathComponent("db.sqlite").path
}

@Suite struct MigrationTests {
    @Test func freshDatabaseGetsEveryMigrationInWAL() async throws {
        let store = try HistoryStore(path: temporaryDatabase())
        await #expect(try store.appliedMigrations() == Migrations.all.map(\.id))
        let mode = try await store.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
        #expect(mode == "wal")
    }

    @Test func embeddedMigrationsMatchTheFiles() async throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("migrations")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.map { String($0.dropLast(4)) } == Migrations.all.map(\.id), "every migrations/*.sql must be registered in Migrations.all")
        for (id, sql) in Migrations.all {
            #expect(try String(contentsOf: dir.appendingPathComponent(id + ".sql"), encoding: .utf8) == sql)
        }
    }

    @Test func olderDatabaseIsMigratedAndKeepsItsData() async throws {
        let path = temporaryDatabase()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let pool = try DatabasePool(path: path)
            try Migrations.migrator(upTo: "0001_core").migrate(pool)
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO domains (name, created) VALUES ('old.example', 1)")
                try db.execute(sql: "INSERT INTO spans (domain_id, rrtype, status, rdata, time_first, time_last, count) VALUES (1, 'A', 'NOERROR', '192.0.2.1', 1, 5, 3)")
            }
        }
        let store = try HistoryStore(path: path)
        await #expect(try store.appliedMigrations() == Migrations.all.map(\.id))
        let spans = try await store.history(domain: "old.example")
        #expect(spans.count == 1)
        #expect(spans.first?.count == 3)
        #expect(spans.first?.class == nil)  // derived later by reclassify
    }

    @Test func newerDatabaseIsRefused() async throws {
        let path = temporaryDatabase()
        _ = try HistoryStore(path: path)
        let pool = try DatabasePool(path: path)
        try await pool.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('9999_future')") }
        #expect(throws: StoreError.self) { try HistoryStore(path: path) }
        do {
            _ = try HistoryStore(path: path)
        } catch let e as StoreError {
            #expect(e.description.contains("9999_future"))
        }
    }
}

@Suite struct SpanTests {
    func store(with domain: String) async throws -> (HistoryStore, Int64) {
        let store = try HistoryStore(path: temporaryDatabase())
        _ = try await store.addEntries([ListEntry(domain: try DomainName(domain))], to: ListSpec(name: "t", kind: .c2), now: 100)
        let id = try await #require(try store.pollTargets(afterID: 0, limit: 10).first?.domainID)
        return (store, id)
    }

    /// What a poll does per answer: extend the head when the answer is the same, else start a span.
    func observe(_ store: HistoryStore, _ id: Int64, _ type: RRType, _ status: AnswerStatus, _ rdata: [String], at t: Int64) async throws {
        try await store.write { w in
            let head = try w.heads(domainIDs: [id])[HeadKey(domainID: id, rrtype: type)]
            if let head, head.status == status, head.rdata == rdata.sorted() {
                try w.extend(spanIDs: [head.spanID], at: t)
            } else {
                try w.startSpans([NewSpan(domainID: id, rrtype: type, status: status, rdata: rdata, class: nil, provider: nil)],
                                 at: t, fingerprintVersion: nil)
            }
        }
    }

    @Test func sameAnswerExtendsTheSpan() async throws {
        let (store, id) = try await store(with: "a.example")
        for t in 0..<21 { try await observe(store, id, .a, .noerror, ["192.0.2.2", "192.0.2.1"], at: 1000 + Int64(t)) }
        let spans = try await store.history(domain: "a.example")
        #expect(spans.count == 1)
        #expect(spans[0].count == 21)
        #expect(spans[0].timeFirst == 1000 && spans[0].timeLast == 1020)
        #expect(spans[0].rdata == ["192.0.2.1", "192.0.2.2"])
    }

    @Test func changedAnswerStartsASpanAndAReturnStartsAnother() async throws {
        let (store, id) = try await store(with: "b.example")
        try await observe(store, id, .a, .noerror, ["192.0.2.1"], at: 1)
        try await observe(store, id, .a, .noerror, ["192.0.2.9"], at: 2)
        try await observe(store, id, .a, .nxdomain, [], at: 3)
        try await observe(store, id, .a, .noerror, ["192.0.2.1"], at: 4)
        let spans = try await store.history(domain: "b.example", type: .a)
        #expect(spans.map(\.rdata) == [["192.0.2.1"], ["192.0.2.9"], [], ["192.0.2.1"]])
        #expect(spans.map(\.status) == [.noerror, .noerror, .nxdomain, .noerror])
        await #expect(try store.history(domain: "b.example", since: 3).count == 2)
        await #expect(try store.history(domain: "b.example", until: 1).count == 1)
    }

    @Test func addressLookupFindsDomainsInACIDR() async throws {
        let (store, id) = try await store(with: "c.example")
        try await observe(store, id, .a, .noerror, ["91.195.240.94", "192.0.2.1"], at: 1)
        await #expect(try store.domains(resolvingInto: CIDR("91.195.240.0/23")!).map(\.domain) == ["c.example"])
        await #expect(try store.domains(resolvingInto: CIDR("91.195.240.94")!).first?.current == true)
        await #expect(try store.domains(resolvingInto: CIDR("91.195.240.9")!).isEmpty)
    }
}

@Suite struct WatchlistStoreTests {
    @Test func importSyncAddRemove() async throws {
        let store = try HistoryStore(path: temporaryDatabase())
        let a = try DomainName("a.example"), b = try DomainName("b.example"), c = try DomainName("c.example")
        var counts = try await store.addEntries([ListEntry(domain: a), ListEntry(domain: b), ListEntry(domain: a)],
                                          to: ListSpec(name: "l1", kind: .owned, interval: 600), now: 1)
        #expect(counts.added == 2 && counts.alreadyPresent == 0)
        counts = try await store.addEntries([ListEntry(domain: a)], to: ListSpec(name: "l1"), now: 2)
        #expect(counts.added == 0 && counts.alreadyPresent == 1)
        await #expect(try store.watchedDomains(list: "l1").map(\.kind) == [.owned, .owned])

        let synced = try await store.sync([(ListSpec(name: "l1", kind: .expired, interval: 60), [ListEntry(domain: b), ListEntry(domain: c)])], now: 3)
        #expect(synced.added == 1 && synced.retired == 1)
        let rows = try await store.watchedDomains()
        #expect(rows.map(\.domain) == ["b.example", "c.example"])
        #expect(rows.allSatisfy { $0.kind == .expired && $0.interval == 60 })
        await #expect(try store.domainExists("a.example"))  // retired, not deleted

        await #expect(try store.remove([b], list: nil, now: 4) == 1)
        await #expect(try store.watchedDomains().map(\.domain) == ["c.example"])
        await #expect(throws: StoreError.self) { try await store.remove([c], list: "nope", now: 5) }
    }

    @Test func dueTargetsFollowNextDue() async throws {
        let store = try HistoryStore(path: temporaryDatabase())
        _ = try await store.addEntries(try ["a.example", "b.example"].map { ListEntry(domain: try DomainName($0)) },
                                 to: ListSpec(name: "l"), now: 1)
        let all = try await store.pollTargets(afterID: 0, limit: 10, dueAt: 100)
        #expect(all.count == 2)
        try await store.write { w in
            try w.markPolled([(all[0].domainID, 200, nil), (all[1].domainID, 150, nil)], at: 100)
        }
        await #expect(try store.pollTargets(afterID: 0, limit: 10, dueAt: 120).isEmpty)
        await #expect(try store.pollTargets(afterID: 0, limit: 10, dueAt: 160).map(\.name) == ["b.example"])
        await #expect(try store.countTargets(dueAt: 250) == 2)
        await #expect(try store.pollTargets(afterID: all[0].domainID, limit: 10).map(\.name) == ["b.example"])
    }
}
