public import DNSWatchModel

/// What `import cof` needs of the store, on either backend: one batch of one source's records merged in
/// one write transaction (`HistoryStore.mergeImported`'s rule: a record already stored as a span of the
/// source widens its times and raises its count to the larger one, a new one becomes a span, classified
/// by `classify`). Called from the import's own thread, never from the cooperative pool: it blocks.
public protocol ImportStore: Sendable {
    /// Merges `records` as spans of `source` (created if new). `classify` is given the cached origin ASNs of
    /// the batch's addresses, read in the same transaction, and returns how to classify a new span.
    func importBatchBlocking(_ records: [ImportedRecord], source: String, at time: Int64, fingerprintVersion: String?,
                             classify: @escaping @Sendable (_ asns: [String: Int]) -> (ImportedRecord) -> DomainState) throws -> MergeCounts
}

extension ImportedRecord {
    /// The addresses of a batch's A and AAAA records, each once: whose cached origin ASNs classify it.
    public static func addresses(of records: [ImportedRecord]) -> [String] {
        Array(Set(records.filter { $0.rrtype == .a || $0.rrtype == .aaaa }.flatMap(\.rdata)))
    }
}

extension HistoryStore: ImportStore {
    public func importBatchBlocking(_ records: [ImportedRecord], source: String, at time: Int64, fingerprintVersion: String?,
                                    classify: @escaping @Sendable ([String: Int]) -> (ImportedRecord) -> DomainState) throws -> MergeCounts {
        try writeBlocking { w in
            let sourceID = try w.source(named: source, at: time)
            let classifier = classify(try w.cachedASNs(ImportedRecord.addresses(of: records)))
            return try w.mergeImported(records, sourceID: sourceID, at: time, fingerprintVersion: fingerprintVersion, classify: classifier)
        }
    }
}
