public import DNSWatchModel
public import Store

extension StoreWriter: ReclassifyWriter {}

extension SQLiteStore: ReclassifyStore {
    public func reclassifyBatch<T: Sendable>(_ body: @escaping @Sendable (any ReclassifyWriter) throws -> T) async throws -> T {
        try await write { w in try body(w) }
    }
}

