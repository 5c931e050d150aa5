public import DNSWatchModel

/// What the read commands `history` and `alerts` need of the store, on either backend: the same calls
/// on SQLite (`SQLiteStore`) and on PostgreSQL (`PostgresStore`), with the same rows in the same order.
public protocol HistoryReading: Sendable {
    /// The spans of a domain, oldest first (by `time_first`, then id), overlapping [since, until]: polled
    /// and imported ones (each with its `source`), or with `source` only those of one.
    func history(domain: String, type: RRType?, since: Int64?, until: Int64?, source: SourceFilter?) async throws -> [SpanRecord]
    /// Whether the domain is known at all (watched now or before).
    func domainExists(_ name: String) async throws -> Bool
    /// Alerts raised at or after `since` at or above a severity rank, by id (oldest first).
    func alerts(since: Int64?, minRank: Int) async throws -> [StoredAlert]
}
