import DNSWatchModel
import Store
import Foundation
import GRDB
import Testing
@testable import SQLiteStore

/// SQLite as `migrate --from` reads it (`ExportSource`): the tables in copy order, and each table's rows
/// in pages, every row once, whether its key is the rowid (`domains`) or a WITHOUT ROWID primary key of
/// two columns (`memberships`). That the copy lands in PostgreSQL row for row is
/// PostgresTests.migrateCopiesEveryRowAndRefusesANonEmptyDatabase.
@Suite struct ExportTests {
    /// Seven domains, on two lists (five and four: nine memberships).
    static func store() async throws -> SQLiteStore {
        let store = try SQLiteStore(path: try temporaryDatabase())
        let names = try (1...7).map { try DomainName("d\($0).example") }
        _ = try await store.addEntries(names.prefix(5).map { ListEntry(domain: $0) }, to: ListSpec(name: "alpha"), now: 100)
        _ = try await store.addEntries(names.suffix(4).map { ListEntry(domain: $0) }, to: ListSpec(name: "beta"), now: 200)
        return store
    }

    /// Every row of `table`, read at once in primary-key order: what the pages must add up to.
    static func whole(_ store: SQLiteStore, _ table: ExportTable) async throws -> [[CellValue]] {
        try await store.read { db in
            let key = try db.primaryKey(table.name).columns.joined(separator: ", ")
            let list = table.columns.map { "\"\($0)\"" }.joined(separator: ", ")
            return try Row.fetchAll(db, sql: "SELECT \(list) FROM \(table.name) ORDER BY \(key)").map { row in
                (0..<table.columns.count).map { SQLiteStore.cell(row[$0]) }
            }
        }
    }

    @Test func tablesComeInCopyOrderWithTheirColumns() async throws {
        let store = try await Self.store()
        let tables = try await store.exportTables()
        #expect(tables.map(\.name) == SQLiteStore.tablesInCopyOrder)
        #expect(tables.first { $0.name == "memberships" }?.columns.starts(with: ["list_id", "domain_id"]) == true)
    }

    @Test(arguments: ["domains", "memberships"])
    func pagesHoldEveryRowOnceInKeyOrder(table name: String) async throws {
        let store = try await Self.store()
        let table = try #require(try await store.exportTables().first { $0.name == name })
        var pages: [[[CellValue]]] = []
        for try await page in store.exportRows(of: table, pageSize: 3) { pages.append(page) }
        let expected = try await Self.whole(store, table)
        #expect(expected.count == (name == "domains" ? 7 : 9))
        #expect(pages.map(\.count) == (name == "domains" ? [3, 3, 1] : [3, 3, 3]))
        #expect(pages.flatMap { $0 } == expected)
    }

    @Test func aTableThisDnswatchDoesNotKnowIsRefused() async throws {
        let store = try await Self.store()
        try await store.pool.write { db in try db.execute(sql: "CREATE TABLE extra (x INTEGER)") }
        await #expect {
            _ = try await store.exportTables()
        } throws: { error in
            "\(error)" == "\(store.path) has tables this dnswatch cannot copy: extra (a newer dnswatch made it?)"
        }
    }
}
