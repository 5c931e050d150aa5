public import Store
import Foundation
import GRDB

/// `dnswatch migrate --from`: this database as a source another backend copies.
extension SQLiteStore: ExportSource {
    /// Every table of the schema, parents before the tables that refer to them: what `migrate` copies.
    /// A test checks it against the tables the migrations create, so a new table cannot be left behind.
    public static let tablesInCopyOrder = [
        "lists", "domains", "memberships", "sources", "polls", "spans", "heads", "domain_status", "span_values",
        "domain_state", "domain_alerting", "transitions", "alerts", "deliveries", "asn_cache",
    ]

    public var exportName: String { path }

    /// The tables of this database in `tablesInCopyOrder`, with their columns; a table this dnswatch does
    /// not know (GRDB's own excepted) is refused.
    public func exportTables() async throws -> [ExportTable] {
        let path = self.path
        return try await read { db in
            let names = try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name
                """)
            let unknown = Set(names).subtracting(Self.tablesInCopyOrder).sorted()
            guard unknown.isEmpty else {
                throw UncopiedTables(description: "\(path) has tables this dnswatch cannot copy: \(unknown.joined(separator: ", ")) (a newer dnswatch made it?)")
            }
            return try Self.tablesInCopyOrder.filter(names.contains).map { table in
                ExportTable(name: table, columns: try db.columns(in: table).map(\.name))
            }
        }
    }

    /// The rows of `table`, a page per read (GRDB's async read: off the cooperative pool), in the order of
    /// its primary key (the rowid, or the key of a WITHOUT ROWID table); each page starts after the last
    /// key of the one before, so that a page costs its rows whatever the table's size. The pages are
    /// separate reads: copy a database no poll is writing to.
    public func exportRows(of table: ExportTable, pageSize: Int) -> ExportPages {
        let path = self.path
        let pool = self.pool
        return ExportPages { after in
            try await pool.read { db in
                guard Self.tablesInCopyOrder.contains(table.name) else {
                    throw StoreError.notADatabase(path, "no table \(table.name) to export")
                }
                let key = try db.primaryKey(table.name).columns
                let quoted = (table.columns + key).map { "\"\($0)\"" }.joined(separator: ", ")
                let keyList = key.map { "\"\($0)\"" }.joined(separator: ", ")
                var sql = "SELECT \(quoted) FROM \(table.name)"
                var arguments = StatementArguments()
                if let after {
                    sql += " WHERE (\(keyList)) > (\(Array(repeating: "?", count: key.count).joined(separator: ", ")))"
                    arguments = StatementArguments(after.map(Self.databaseValue))
                }
                sql += " ORDER BY \(keyList) LIMIT \(pageSize)"
                var page: [[CellValue]] = []
                var last: [CellValue]?
                let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
                while let row = try rows.next() {
                    let cells = (0..<(table.columns.count + key.count)).map { Self.cell(row[$0]) }
                    page.append(Array(cells[..<table.columns.count]))
                    last = Array(cells[table.columns.count...])
                }
                return (page, page.count < pageSize ? nil : last)
            }
        }
    }

    static func cell(_ value: DatabaseValue) -> CellValue {
        switch value.storage {
        case .null: .null
        case .int64(let n): .integer(n)
        case .double(let d): .real(d)
        case .string(let s): .text(s)
        case .blob(let b): .blob([UInt8](b))
        }
    }

    static func databaseValue(_ cell: CellValue) -> DatabaseValue {
        switch cell {
        case .null: .null
        case .integer(let n): n.databaseValue
        case .real(let d): d.databaseValue
        case .text(let s): s.databaseValue
        case .blob(let b): Data(b).databaseValue
        }
    }
}

/// A source with tables `migrate` does not know: copying the rest would lose them.
struct UncopiedTables: Error, CustomStringConvertible {
    let description: String
}
