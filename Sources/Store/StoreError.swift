/// Errors of the history database, each with a sentence for the user.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    case newerDatabase(path: String, unknown: [String])
    case cannotCreateDirectory(String, String)
    case cannotCreate(String, String)
    case unknownList(String)
    /// `--db ''` or `DNSWATCH_DB=''`: empty never silently means the default.
    case emptyPath(source: String)
    /// The file is an SQLite database of another program (it has tables, but not dnswatch's).
    case foreignDatabase(String)
    /// The file is not an SQLite database at all, or not a regular file.
    case notADatabase(String, String)
    /// A dnswatch database this process may not read, and why.
    case cannotRead(String, String)
    /// A reader found a database an older dnswatch wrote: a writing command migrates it.
    case needsMigration(String)

    public var description: String {
        switch self {
        case .newerDatabase(let path, let unknown):
            "the database \(path) was migrated by a newer dnswatch (unknown migrations: \(unknown.joined(separator: ", "))); use that version or another --db"
        case .cannotCreateDirectory(let dir, let why): "cannot create the database directory \(dir): \(why)"
        case .cannotCreate(let path, let why): "cannot create the database \(path): \(why)"
        case .unknownList(let name): "no list named '\(name)'"
        case .emptyPath(let source): "\(source) is empty: name a database file, or leave it unset for the default"
        case .foreignDatabase(let path):
            "\(path) is another program's SQLite database (it has tables but no dnswatch migrations); nothing was changed: use another --db"
        case .notADatabase(let path, let why): "\(path) is not a dnswatch database: \(why)"
        case .cannotRead(let path, let why): "cannot read the database \(path): \(why)"
        case .needsMigration(let path):
            "the database \(path) was written by an older dnswatch and needs migrating: run a command that writes to it once (poll, watch add, reclassify)"
        }
    }
}
