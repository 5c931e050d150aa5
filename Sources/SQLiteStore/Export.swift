public import Store
import GRDB

extension SQLiteStore {
    /// Every table of the schema, parents before the tables that refer to them: what `migrate` copies.
    /// A test checks it against the tables the migrations create, so a new table cannot be left behind.
    public static let tablesInCopyOrder = [
        "lists", "domains", "memberships", "sources", "polls", "spans", "heads", "domain_status", "span_values",
        "domain_state", "transitions", "alerts", "deliveries", "asn_cache",
    ]

    /// The tables of this database (GRDB's own excepted).
    public func tableNames() async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: """
                SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'grdb_%' ORDER BY name
                """)
        }
    }

    /// The columns of `table`, in order.
    public func columnNames(of table: String) async throws -> [String] {
        try await read { db in try db.columns(in: table).map(\.name) }
    }

    /// Reads every row of `table` (these `columns`) in one read transaction, handing them to `page` a few
    /// thousand at a time. Blocking: for a caller on a thread of its own, never the cooperative pool.
    public func exportBlocking(table: String, columns: [String], pageSize: Int = 5000, _ page: ([[CellValue]]) throws -> Void) throws {
        guard Self.tablesInCopyOrder.contains(table) else { throw StoreError.notADatabase(path, "no table \(table) to export") }
        let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        try pool.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT \(list) FROM \(table)")
            var buffer: [[CellValue]] = []
            buffer.reserveCapacity(pageSize)
            while let row = try rows.next() {
                buffer.append((0..<columns.count).map { i in
                    switch row[i] as DatabaseValue {
                    case let v where v.isNull: return .null
                    case let v:
                        switch v.storage {
                        case .int64(let n): return .integer(n)
                        case .double(let d): return .real(d)
                        case .string(let s): return .text(s)
                        case .blob(let b): return .blob([UInt8](b))
                        case .null: return .null
                        }
                    }
                })
                if buffer.count == pageSize {
                    try page(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            if !buffer.isEmpty { try page(buffer) }
        }
    }
}
