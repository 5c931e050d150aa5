public import DNSWatchModel

/// What the `watch` commands need of the store, on either backend: adding domains to a list, making the
/// stored lists equal to a set of files, retiring domains, and listing the active memberships. SQLite
/// (`HistoryStore`, Watchlists.swift) and PostgreSQL (`PostgresStore`) give the same counts and rows.
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

extension HistoryStore: WatchlistStore {}
