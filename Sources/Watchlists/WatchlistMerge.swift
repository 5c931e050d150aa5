public import DNSWatchModel

/// Several parsed files that make up one list, with names deduplicated across them.
public struct MergedWatchlist: Sendable {
    /// The list name.
    public var name: String
    /// The files' paths, in the order given.
    public var paths: [String]
    /// Field by field, the value of the first file that sets it.
    public var header: WatchlistHeader
    /// Distinct names; the first occurrence over the files in order is kept
    /// (its `line` refers to the file it came from).
    public var entries: [WatchlistEntry]
    /// Names that were already entries, within a file or across files.
    public var duplicates: Int
    /// Skipped lines of all files, by reason.
    public var skipped: [SkipReason: Int]
    /// Invalid lines of all files, file by file.
    public var invalid: [InvalidLine]
    /// Header values of later files that differ from the one in use, as `FILE: kind owned differs from c2 (FIRST)`.
    public var conflicts: [String]

    /// The entries' names, in order.
    public var domains: [DomainName] { entries.map(\.domain) }
    /// All skipped lines.
    public var skippedTotal: Int { skipped.values.reduce(0, +) }
}

extension WatchlistParser {
    /// Merges files of one list: duplicates within or across files are kept once.
    /// - Parameter name: the list name; by default the first file's.
    public static func merge(_ files: [ParsedWatchlist], name: String? = nil) -> MergedWatchlist {
        var merged = MergedWatchlist(
            name: name ?? files.first?.name ?? "", paths: files.map(\.path), header: WatchlistHeader(),
            entries: [], duplicates: 0, skipped: [:], invalid: [], conflicts: [])
        var seen = Set<DomainName>()
        var setBy: [String: String] = [:]  // header field → path of the file that set it

        for file in files {
            merged.duplicates += file.duplicates
            merged.skipped.merge(file.skipped, uniquingKeysWith: +)
            merged.invalid += file.invalid
            for entry in file.entries {
                if seen.insert(entry.domain).inserted {
                    merged.entries.append(entry)
                } else {
                    merged.duplicates += 1
                }
            }
            var conflicts = merged.conflicts
            pick("kind", &merged.header.kind, file.header.kind, show: \.rawValue, path: file.path, setBy: &setBy,
                 conflicts: &conflicts)
            pick("interval", &merged.header.interval, file.header.interval, show: DurationParser.format,
                 path: file.path, setBy: &setBy, conflicts: &conflicts)
            pick("description", &merged.header.description, file.header.description, show: { $0 },
                 path: file.path, setBy: &setBy, conflicts: &conflicts)
            merged.conflicts = conflicts
        }
        return merged
    }

    /// Keeps the first value set for a header field; a different later value is a conflict.
    private static func pick<T: Equatable>(
        _ field: String, _ current: inout T?, _ value: T?, show: (T) -> String, path: String,
        setBy: inout [String: String], conflicts: inout [String]
    ) {
        guard let value else { return }
        guard let existing = current else {
            current = value
            setBy[field] = path
            return
        }
        if existing != value {
            conflicts.append(VisibleText.escape(
                "\(path): \(field) \(show(value)) differs from \(show(existing)) (\(setBy[field] ?? "?"))"))
        }
    }
}
