public import Store
import PostgresNIO

extension PostgresStore {
    /// Rows read from the source per page, and written per multi-row statement.
    static let copyPageSize = 5000

    /// Copies every table of `source` (a SQLite database, for `dnswatch migrate --from`) into this one,
    /// which must hold no data yet: all in one transaction, so a failure leaves it empty. Row ids are kept
    /// (every reference stays valid) and the id sequences continue after them. The source's pages are read
    /// as the transaction writes them: the copy holds one page at a time.
    public func copy(from source: any ExportSource) async throws -> CopyReport {
        let tables = try await source.exportTables()
        let targetTypes = try await columnTypes()
        var plan: [(table: ExportTable, types: [String])] = []
        for table in tables {
            var types: [String] = []
            for column in table.columns {
                guard let type = targetTypes[table.name]?[column] else {
                    throw Failure("\(url): no column \(table.name).\(column) to copy \(source.exportName) into")
                }
                types.append(type)
            }
            plan.append((table, types))
        }
        let steps = plan
        let logger = self.logger
        return try await transaction("copying \(source.exportName)") { connection in
            for (table, _) in steps {
                let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT EXISTS (SELECT 1 FROM \(table.name))"), logger: logger)
                for try await exists in rows.decode(Bool.self) where exists {
                    throw Failure("\(self.url) is not empty (table \(table.name) has rows): migrate copies into an empty database only")
                }
            }
            var report = CopyReport()
            for (table, types) in steps {
                var copied = 0
                let columns = table.columns
                let head = "INSERT INTO \(table.name) (\(columns.map { "\"\($0)\"" }.joined(separator: ", ")))"
                for try await page in source.exportRows(of: table, pageSize: Self.copyPageSize) {
                    let rows = try page.map { row in
                        try zip(row, zip(columns, types)).map { value, column in
                            try Self.bind(value, type: column.1, at: "\(table.name).\(column.0)")
                        }
                    }
                    for statement in try UnnestRows.statements(head, "", columns: columns.count, rows) {
                        try await connection.query(statement, logger: logger)
                    }
                    copied += page.count
                }
                report.rows.append((table.name, copied))
            }
            // Copied finished polls in id order for /metrics, as a migration numbers those of a database it finds.
            for statement in PostgresMigrations.numberFinishedPolls {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            // Identity columns continue after the copied ids.
            for (table, _) in steps where (targetTypes[table.name]?["id"]) != nil {
                try await connection.query(PostgresQuery(unsafeSQL: """
                    SELECT setval(pg_get_serial_sequence('\(table.name)', 'id'), coalesce((SELECT max(id) FROM \(table.name)), 0) + 1, false)
                    """), logger: logger)
            }
            // Statistics of the tables that got rows, as after any bulk load: until autovacuum gets to them (a
            // minute or more) the planner would take them for nearly empty, and a claim would sort all domains
            // instead of walking them in id order. An empty table is left unanalyzed: statistics saying "no
            // rows" would make the planner's choice for a large first `watch import` a hundred times slower.
            for (table, rows) in report.rows where rows > 0 {
                try await connection.query(PostgresQuery(unsafeSQL: "ANALYZE \(table)"), logger: logger)
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

    /// A copied value as the PostgreSQL column of `type` takes it; a value of another kind is an error.
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
