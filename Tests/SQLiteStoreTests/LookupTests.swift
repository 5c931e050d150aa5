import DNSWatchModel
import Store
import Foundation
import GRDB
import Testing
@testable import SQLiteStore

/// SQLite only: the inverse index's migration (0005) on an older database, and the lookups' query plans.
/// The lookups themselves are tested on both backends in StoreContractTests.LookupContractTests.
@Suite struct LookupTests {
    @Test func theMigrationIndexesAnOlderDatabasesHistory() async throws {
        let path = try temporaryDatabase()
        do {
            let pool = try DatabasePool(path: path)
            try Migrations.migrator(upTo: "0004_answer_hash").migrate(pool)
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO domains (name, created) VALUES ('old.example', 1), ('www.old.example', 1)")
                try db.execute(sql: """
                    INSERT INTO spans (domain_id, rrtype, status, rdata, time_first, time_last, count) VALUES
                      (1, 'A', 'NOERROR', '192.0.2.1' || char(10) || '198.51.100.7', 1, 5, 3),
                      (1, 'AAAA', 'NOERROR', '2001:db8::1', 1, 5, 3),
                      (1, 'NS', 'NOERROR', 'ns1.sedoparking.com' || char(10) || 'ns2.sedoparking.com', 1, 5, 3),
                      (2, 'A', 'NXDOMAIN', '', 1, 5, 3),
                      (2, 'CNAME', 'NOERROR', 'old.example', 6, 9, 2)
                    """)
                try db.execute(sql: "INSERT INTO heads (domain_id, rrtype, span_id) VALUES (1, 'A', 1)")
            }
        }
        let store = try SQLiteStore(path: path)
        await #expect(try store.addressSpans(in: CIDR("198.51.100.0/24")!).collect().map(\.span.domain) == ["old.example"])
        await #expect(try store.addressSpans(in: CIDR("2001:db8::/32")!).collect().map(\.value) == ["2001:db8::1"])
        await #expect(try store.domains(withNameServer: "ns2.sedoparking.com").map(\.domain) == ["old.example"])
        await #expect(try store.nameSpans(holding: .exact("old.example")).collect().map(\.span.domain) == ["www.old.example"])
        await #expect(try store.rrsetSpans(.subdomains(of: "old.example")).collect().map(\.rrtype) == [.cname])
        let count = try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM span_values") }
        #expect(count == 6)  // 2 + 1 + 2 + 0 (NXDOMAIN) + 1
        let current = try await store.addressSpans(in: CIDR("192.0.2.1")!).collect()
        #expect(current.map(\.current) == [true])
    }

    @Test func everyQueryOfTheLookupsUsesAnIndex() async throws {
        let store = try SQLiteStore(path: try temporaryDatabase())
        let plans = try await store.read { db -> [String] in
            var out: [String] = []
            for sql in [
                "SELECT * FROM span_values v JOIN spans_seen s ON s.id = v.span_id JOIN domains d ON d.id = s.domain_id WHERE v.key >= x'04' AND v.key <= x'05' ORDER BY v.key, v.domain_id, v.span_id",
                "SELECT * FROM span_values v WHERE v.key = x'04' AND (v.domain_id, v.span_id) > (1, 1) ORDER BY v.key, v.domain_id, v.span_id",
                "SELECT 1 FROM heads h WHERE h.span_id = 1",
                "SELECT id FROM domains WHERE rname >= 'example.' AND rname < 'example/'",
            ] {
                out += try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
            }
            return out
        }
        #expect(plans.contains { $0.contains("(domain_id,span_id)>(?,?)") }, "a page resumes by seeking: \(plans)")
        #expect(!plans.isEmpty)
        #expect(plans.allSatisfy { !$0.hasPrefix("SCAN") }, "a full scan: \(plans)")
    }
}
