public import DNSWatchModel

/// Properties of a whole watchlist file, set by header comments such as `# kind: c2`.
/// A field is nil when the file does not set it (the caller applies the defaults).
public struct WatchlistHeader: Sendable, Equatable {
    /// `# kind: c2 | owned | expired`.
    public var kind: ListKind?
    /// `# interval: 1h`, in seconds (parsed with `DurationParser`).
    public var interval: Int?
    /// `# description: free text`.
    public var description: String?

    public init(kind: ListKind? = nil, interval: Int? = nil, description: String? = nil) {
        self.kind = kind
        self.interval = interval
        self.description = description
    }
}

/// One watched domain read from a file.
public struct WatchlistEntry: Sendable, Equatable {
    /// The normalised name.
    public var domain: DomainName
    /// The inline comment of its line (`example.net  # note`), without the `#`; nil when absent.
    public var note: String?
    /// The 1-based line number where the name first occurred.
    public var line: Int

    public init(domain: DomainName, note: String? = nil, line: Int) {
        self.domain = domain
        self.note = note
        self.line = line
    }
}

/// Why a line that holds an indicator of another type was skipped (counted, not an error).
public enum SkipReason: String, Sendable, CaseIterable {
    /// A bare IPv4 address.
    case ipv4
    /// A bare IPv6 address.
    case ipv6
    /// An address block, `192.0.2.0/24`.
    case cidr
    /// A URL path without a host, `/x/y/`.
    case urlPath = "url-path"
    /// A URL or `host:port` whose host is an address: `http://192.0.2.1/x`, `192.0.2.1:80`, `[2001:db8::1]:443`.
    case addressHost = "address-host"
}

/// A line that is neither a domain nor a skippable indicator.
public struct InvalidLine: Sendable, Equatable, CustomStringConvertible {
    /// The file path as given to the parser.
    public var path: String
    /// 1-based line number.
    public var line: Int
    /// The line as it was in the file.
    public var text: String
    /// A short phrase, e.g. `empty label`.
    public var reason: String

    public init(path: String, line: Int, text: String, reason: String) {
        self.path = path
        self.line = line
        self.text = text
        self.reason = reason
    }

    /// `FILE:LINE: reason`, with control characters of the path and the reason made visible (`\x1b`).
    public var description: String { "\(VisibleText.escape(path)):\(line): \(VisibleText.escape(reason))" }
}

/// The result of parsing one watchlist file.
public struct ParsedWatchlist: Sendable {
    /// The list name: the file name without directory and extension.
    public var name: String
    /// The path as given.
    public var path: String
    public var header: WatchlistHeader
    /// Distinct names in file order; the first occurrence of a name is kept.
    public var entries: [WatchlistEntry]
    /// Lines whose name was already an entry.
    public var duplicates: Int
    /// Skipped indicator lines, by reason (reasons that did not occur are absent).
    public var skipped: [SkipReason: Int]
    /// Lines that are errors, in file order (header errors included).
    public var invalid: [InvalidLine]

    public init(
        name: String, path: String, header: WatchlistHeader = WatchlistHeader(), entries: [WatchlistEntry] = [],
        duplicates: Int = 0, skipped: [SkipReason: Int] = [:], invalid: [InvalidLine] = []
    ) {
        self.name = name
        self.path = path
        self.header = header
        self.entries = entries
        self.duplicates = duplicates
        self.skipped = skipped
        self.invalid = invalid
    }

    /// The entries' names, in file order.
    public var domains: [DomainName] { entries.map(\.domain) }
    /// All skipped lines.
    public var skippedTotal: Int { skipped.values.reduce(0, +) }
}

/// A watchlist file that could not be read: `PATH: cannot read: reason` (`RegularFile.read`).
public typealias WatchlistReadError = RegularFileError
