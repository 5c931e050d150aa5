public import DNSWatchModel

/// What `reclassify` writes with, inside one transaction: a batch's reads and state writes
/// (`BatchStoreWriter`), and the spans' raw answers and derived classes. SQLite (`StoreWriter`) and
/// PostgreSQL (`PostgresStore`) both give it; the rule of what is re-derived is Poller's `Reclassifier`.
public protocol ReclassifyWriter: BatchStoreWriter {
    /// Spans (polled and imported) with an id above `afterID`, by id, at most `limit`.
    func rawSpans(afterID: Int64, limit: Int) throws -> [RawSpan]
    /// Sets a span's derived class.
    func setSpanClass(spanID: Int64, class cls: DomainClass, provider: String?, fingerprintVersion: String) throws
    /// Domains with a stored state and an id above `afterID`, by id, at most `limit`.
    func stateDomainIDs(afterID: Int64, limit: Int) throws -> [Int64]
}

/// A store `reclassify` can run on: one transaction a batch. On SQLite the caller holds the poll lock (no
/// poll interleaves); on PostgreSQL pollers go on, each batch writing what its own classifier derives.
public protocol ReclassifyStore: Sendable {
    func reclassifyBatch<T: Sendable>(_ body: @escaping @Sendable (any ReclassifyWriter) throws -> T) async throws -> T
}
