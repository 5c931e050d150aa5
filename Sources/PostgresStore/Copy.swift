public import SQLiteStore
public import Store
import PostgresNIO

extension PostgresStore {
    /// Rows copied per table by `copy(from:)`.
    public struct CopyReport: Sendable {
        public var rows: [(table: String, rows: Int)]
    }

    /// Copies every table of a SQLite database into this one, which must hold no data yet (`dnswatch
    /// migrate --from`): all in one transaction, so a failure leaves it empty. Row ids are kept (every
    /// reference stays valid) and the id sequences continue after them.
    public func copy(from source: SQLiteStore) async throws -> CopyReport {
        let tables = try await source.tableNames()
        let unknown = Set(tables).subtracting(SQLiteStore.tablesInCopyOrder).sorted()
        guard unknown.isEmpty else {
            throw Failure("\(source.path) has tables this dnswatch cannot copy: \(unknown.joined(separator: ", ")) (a newer dnswatch made it?)")
        }
        let order = SQLiteStore.tablesInCopyOrder.filter(tables.contains)
        var sourceColumns: [String: [String]] = [:]
        for table in order { sourceColumns[table] = try await source.columnNames(of: table) }
        let targetTypes = try await columnTypes()
        var plan: [(table: String, columns: [String], types: [String])] = []
        for table in order {
            let columns = sourceColumns[table] ?? []
            var types: [String] = []
            for column in columns {
                guard let type = targetTypes[table]?[column] else {
                    throw Failure("\(url): no column \(table).\(column) to copy \(source.path) into")
                }
                types.append(type)
            }
            plan.append((table, columns, types))
        }
        let steps = plan
        return try await blockingTransaction("copying \(source.path)") { c in
            for (table, _, _) in steps {
                let rows = try c.query(PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table))"))
                if try rows.first?.decode(Bool.self) == true {
                    throw Failure("\(self.url) is not empty (table \(table) has rows): migrate copies into an empty database only")
                }
            }
            var report = CopyReport(rows: [])
            for (table, columns, types) in steps {
                var copied = 0
                let head = "INSERT INTO \(table) (\(columns.map { "\"\($0)\"" }.joined(separator: ", ")))"
                try source.exportBlocking(table: table, columns: columns) { page in
                    let rows = try page.map { row in
                        try zip(row, zip(columns, types)).map { value, column in try Self.bind(value, type: column.1, at: "\(table).\(column.0)") }
                    }
                    try c.insertRows(head, columns: columns.count, rows)
                    copied += page.count
                }
                report.rows.append((table, copied))
            }
            // Copied finished polls in id order for /metrics, as a migration numbers those of a database it finds.
            for statement in PostgresMigrations.numberFinishedPolls { try c.query(PostgresQuery(unsafeSQL: statement)) }
            // Identity columns continue after the copied ids.
            for table in steps.map(\.table) where (targetTypes[table]?["id"]) != nil {
                try c.query(PostgresQuery(unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('\(table)', 'id'), coalesce((SELECT max(id) FROM \(table)), 0) + 1, false)
                    """))
            }
            // Statistics of the tables that got rows, as after any bulk load: until autovacuum gets to them (a
            // minute or more) the planner would take them for nearly empty, and a claim would sort all domains
            // instead of walking them in id order. An empty table is left unanalyzed: statistics saying "no
            // rows" would make the planner's choice for a large first `watch import` a hundred times slower.
            for (table, rows) in report.rows where rows > 0 {
                try c.query(PostgresQuery(unsafeSQL: "ANALYZE \(table)"))
            }
            return report
        }
    }

    /// The columns of this database's tables and their types (`bigint`, `text`, `bytea`, ...).
    private func columnTypes() async throws -> [String: [String: String]] {
        try await connection("reading the schema") { connection in
            var out: [String: [String: String]] = [:]
            let rows = try await connection.query("""
                SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()
                """, logger: self.logger)
            for try await (table, column, type) in rows.decode((String, String, String).self) { out[table, default: [:]][column] = type }
            return out
        }
    }

    /// A SQLite value as the PostgreSQL column of `type` takes it; a value of another kind is an error.
    static func bind(_ value: CellValue, type: String, at column: String) throws -> Bind {
        switch (value, type) {
        case (.null, "bytea"): return .bytes(nil)
        case (.null, "bigint"), (.null, "integer"): return .int(nil)
        case (.null, _): return .text(nil)
        case (.integer(let n), "bigint"), (.integer(let n), "integer"): return .int(n)
        case (.text(let s), "text"): return .text(s)
        case (.blob(let b), "bytea"): return .bytes(b)
        default: throw Failure("\(column): the SQLite value \(value) does not fit a PostgreSQL \(type) column")
        }
    }
}
