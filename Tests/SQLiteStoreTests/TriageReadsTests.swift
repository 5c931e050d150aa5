import DNSWatchModel
import Foundation
import GRDB
import Testing
@testable import SQLiteStore

/// SQLite only: the query plans of `triageReads`. What it reads is tested on both backends in
/// StoreContractTests.TriageContractTests.
@Suite struct TriageReadsTests {
    @Test func everyQueryOfTheBatchUsesAnIndex() async throws {
        let store = try SQLiteStore(path: try temporaryDatabase())
        let plans = try await store.read { db -> [String] in
            var out: [String] = []
            for (sql, n) in [(SQLiteStore.sightingsSQL(at: false), 2), (SQLiteStore.sightingsSQL(at: true), 4),
                             (SQLiteStore.historySQL(3, at: true), 4), (SQLiteStore.statesSQL(3), 3)] {
                let args = StatementArguments(Array(repeating: DatabaseValue.null, count: n))
                out += try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: args).map { $0["detail"] as String }
            }
            return out
        }
        #expect(!plans.isEmpty)
        #expect(plans.allSatisfy { !$0.hasPrefix("SCAN") }, "a full scan: \(plans)")
    }
}
