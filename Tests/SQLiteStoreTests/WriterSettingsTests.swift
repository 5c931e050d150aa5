import Foundation
import GRDB
import Testing
@testable import SQLiteStore

/// Issue 24, item 4: a poll's writer connection keeps a batch's pages cached (32 MB, not SQLite's 2 MB
/// default) and its temporary b-trees in memory; the read-only connections keep SQLite's defaults.
@Suite struct WriterSettingsTests {
    @Test func theWriterHasALargePageCacheAndMemoryTempStoreAndTheReadersDoNot() async throws {
        let store = try SQLiteStore(path: try temporaryDatabase())
        let writer = try await store.pool.write { db in
            (try Int.fetchOne(db, sql: "PRAGMA cache_size"), try Int.fetchOne(db, sql: "PRAGMA temp_store"))
        }
        #expect(writer.0 == -32768 && writer.1 == 2, "cache_size, temp_store on the writer: \(writer)")
        let reader = try await store.read { db in
            (try Int.fetchOne(db, sql: "PRAGMA cache_size"), try Int.fetchOne(db, sql: "PRAGMA temp_store"))
        }
        #expect(reader.0 == -2000 && reader.1 == 0, "cache_size, temp_store on a reader: \(reader)")
    }
}
