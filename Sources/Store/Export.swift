/// One stored value, as another backend copies it (`dnswatch migrate`).
public enum CellValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A table as a copy reads it: its name and its columns, in order.
public struct ExportTable: Sendable, Equatable {
    public var name: String
    public var columns: [String]

    public init(name: String, columns: [String]) {
        self.name = name
        self.columns = columns
    }
}

/// Rows of one table, a page at a time (one read each), read as the consumer asks: memory stays bounded
/// on a table of any size. `fetch` is given where the last page ended (nil: at the start) and returns a
/// page and where the next starts (nil: that was the last); the position is the backend's (a key's values).
public struct ExportPages: AsyncSequence, Sendable {
    public typealias Element = [[CellValue]]
    public typealias Fetch = @Sendable ([CellValue]?) async throws -> (page: [[CellValue]], next: [CellValue]?)
    let fetch: Fetch

    public init(fetch: @escaping Fetch) {
        self.fetch = fetch
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let fetch: Fetch
        var position: [CellValue]?
        var done = false

        public mutating func next() async throws -> [[CellValue]]? {
            while !done {
                let (page, next) = try await fetch(position)
                position = next
                done = next == nil
                if !page.isEmpty { return page }
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(fetch: fetch) }
}

/// A database that can be copied into another backend (`dnswatch migrate --from`): its tables, parents
/// before the tables that refer to them, and their rows. Each backend copies from it by its own SQL.
public protocol ExportSource: Sendable {
    /// Names the source in errors (a path).
    var exportName: String { get }
    /// Every table of the source in copy order (parents first), with its columns; a table this dnswatch
    /// does not know (a newer one made the source?) is an error.
    func exportTables() async throws -> [ExportTable]
    /// The rows of `table` (its `columns`, in that order), `pageSize` at a time.
    func exportRows(of table: ExportTable, pageSize: Int) -> ExportPages
}

/// Rows copied per table, in copy order.
public struct CopyReport: Sendable {
    public var rows: [(table: String, rows: Int)]

    public init(rows: [(table: String, rows: Int)] = []) {
        self.rows = rows
    }
}
