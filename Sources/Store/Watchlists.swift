public import DNSWatchModel

/// What the `watch` commands need of the store, on either backend: adding domains to a list, making the
/// stored lists equal to a set of files, retiring domains, and listing the active memberships. SQLite
/// (`SQLiteStore`, Watchlists.swift) and PostgreSQL (`PostgresStore`) give the same counts and rows.
public protocol WatchlistStore: Sendable {
    /// Adds entries to a list (creating it), reactivating retired memberships.
    /// Kind, interval and description are updated where the spec gives them.
    func addEntries(_ entries: [ListEntry], to spec: ListSpec, now: Int64) async throws -> ImportCounts
    /// Makes the stored lists equal to `lists`: new domains added, removed ones retired (history kept),
    /// kind / interval / description updated; lists absent from `lists` are retired as a whole.
    func sync(_ lists: [(ListSpec, [ListEntry])], now: Int64) async throws -> ImportCounts
    /// Retires domains from one list (`StoreError.unknownList` when there is none of that name), or from
    /// every list. Returns how many memberships ended.
    func remove(_ domains: [DomainName], list: String?, now: Int64) async throws -> Int
    /// Active memberships, ordered by list then domain (by their bytes).
    func watchedDomains(list: String?) async throws -> [WatchedDomain]
}

/// A list as declared by a watchlist file or the command line.
public struct ListSpec: Sendable, Equatable {
    public var name: String
    public var kind: ListKind?
    public var interval: Int?
    public var description: String?
    public init(name: String, kind: ListKind? = nil, interval: Int? = nil, description: String? = nil) {
        self.name = name
        self.kind = kind
        self.interval = interval
        self.description = description
    }
}

/// A domain to put on a list.
public struct ListEntry: Sendable, Equatable {
    public var domain: DomainName
    public var note: String?
    public init(domain: DomainName, note: String? = nil) {
        self.domain = domain
        self.note = note
    }
}

/// What an import or add changed.
public struct ImportCounts: Sendable, Equatable {
    public var added = 0
    public var alreadyPresent = 0
    public var retired = 0
    public init() {}
}

/// One active membership, as `watch list` shows it.
public struct WatchedDomain: Sendable, Equatable {
    public var domain: String
    public var list: String
    public var kind: ListKind
    public var interval: Int?
    public var added: Int64
    public var note: String?
    /// When the domain left the list; nil while it is watched.
    public var retired: Int64? = nil

    public init(domain: String, list: String, kind: ListKind, interval: Int?, added: Int64, note: String?, retired: Int64? = nil) {
        self.domain = domain
        self.list = list
        self.kind = kind
        self.interval = interval
        self.added = added
        self.note = note
        self.retired = retired
    }

}

/// A list's header as stored: its kind, poll interval and description.
public struct ListHeader: Sendable, Equatable {
    public var kind: ListKind
    public var interval: Int?
    public var description: String?
    public init(kind: ListKind, interval: Int?, description: String?) {
        self.kind = kind
        self.interval = interval
        self.description = description
    }
}

extension ListSpec {
    /// The header a list has once this spec is applied to it; the rule both backends write:
    /// a new list (`stored` nil) and a synced one (`replacing`: the file is the truth) take exactly what the
    /// spec says, a kind it does not name being `ListKind.default`; an add or import to an existing list
    /// changes only what the spec gives.
    public func header(over stored: ListHeader?, replacing: Bool) -> ListHeader {
        guard let stored, !replacing else {
            return ListHeader(kind: kind ?? .default, interval: interval, description: description)
        }
        return ListHeader(kind: kind ?? stored.kind, interval: interval ?? stored.interval, description: description ?? stored.description)
    }
}

extension ListEntry {
    /// The entries to store: each domain once, as its first entry gives it (its note), in their order.
    public static func distinct(_ entries: [ListEntry]) -> [ListEntry] {
        var seen = Set<String>()
        return entries.filter { seen.insert($0.domain.value).inserted }
    }
}

extension WatchedDomain {
    /// Memberships by domain, each domain's ordered by list name (by its bytes): what
    /// `InvestigationReading.memberships(of:)` returns, from the rows either backend reads.
    public static func byDomain(_ rows: [WatchedDomain]) -> [String: [WatchedDomain]] {
        Dictionary(grouping: rows, by: \.domain).mapValues { $0.sorted { Array($0.list.utf8).lexicographicallyPrecedes($1.list.utf8) } }
    }
}

/// Poll targets from the rows a claim reads, one per (domain, active list), ordered by domain id and then
/// list name (bytes): one target per domain with its memberships in row order; each list's membership is
/// decoded once (a few lists for thousands of domains). Both backends group through it.
public struct PollTargetRows {
    public private(set) var targets: [PollTarget] = []
    private var lists: [Int64: Membership] = [:]

    public init(capacity: Int = 0) {
        targets.reserveCapacity(capacity)
    }

    /// Adds one row: domain `domainID` (`name`) on list `listID`, whose membership `membership` decodes
    /// (called for the first row of each list only).
    public mutating func add(domainID: Int64, name: () -> String, listID: Int64, membership: () throws -> Membership) rethrows {
        let m: Membership
        if let known = lists[listID] {
            m = known
        } else {
            m = try membership()
            lists[listID] = m
        }
        if targets.last?.domainID == domainID {
            targets[targets.count - 1].memberships.append(m)
        } else {
            targets.append(PollTarget(domainID: domainID, name: name(), memberships: [m]))
        }
    }
}
