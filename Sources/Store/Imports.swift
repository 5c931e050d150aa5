public import DNSWatchModel

/// What `import cof` needs of the store, on either backend: one batch of one source's records merged in
/// one write transaction (`SQLiteStore.mergeImported`'s rule: a record already stored as a span of the
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

/// One record of another sensor's passive DNS (`import cof`), normalised and classified, to store as a
/// span of its source.
public struct ImportedRecord: Sendable, Equatable {
    /// The normalised name (no trailing dot).
    public var domain: String
    /// A, AAAA, NS or CNAME.
    public var rrtype: RRType
    /// The values, normalised (addresses as dnswatch writes them, names without the trailing dot).
    public var rdata: [String]
    public var timeFirst: Int64
    public var timeLast: Int64
    public var count: Int
    /// The class to store when no `classify` is given to `mergeImported`.
    public var `class`: DomainClass?
    public var provider: String?

    public init(domain: String, rrtype: RRType, rdata: [String], timeFirst: Int64, timeLast: Int64, count: Int,
                class cls: DomainClass? = nil, provider: String? = nil) {
        self.domain = domain
        self.rrtype = rrtype
        self.rdata = rdata
        self.timeFirst = timeFirst
        self.timeLast = timeLast
        self.count = count
        self.class = cls
        self.provider = provider
    }
}

/// What merging a batch of imported records did.
public struct MergeCounts: Sendable, Equatable {
    /// Records that became a new span of their source.
    public var imported = 0
    /// Records that merged into a span of their source already stored (earlier, or earlier in this import).
    public var merged = 0
    /// Of the merged: those that widened the span's times or raised its count.
    public var changed = 0
    public init() {}

    public static func += (l: inout MergeCounts, r: MergeCounts) {
        l.imported += r.imported
        l.merged += r.merged
        l.changed += r.changed
    }
}
