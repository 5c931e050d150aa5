public import DNSWatchModel

/// What `import cof` needs of the store, on either backend: reads before a batch's write, and the write.
/// The merge rule is not here nor in a backend: it is `ImportPlan.merging` (pure), which `importBatch`
/// applies to what `importedSpans` read; a backend holds the SQL of the reads and of `applyImport` only.
public protocol ImportStore: Sendable {
    /// The id of the source named `name`, created (at `time`) if new.
    func importSource(named name: String, at time: Int64) async throws -> Int64
    /// The spans of source `sourceID` already stored for these keys (at most one per key: the schema's
    /// unique index on (domain, type, rdata, source)); a key without one is absent.
    func importedSpans(matching keys: [ImportKey], sourceID: Int64) async throws -> [StoredImportSpan]
    /// Cached origin ASNs of these addresses, expired or not (classification uses what was known); an
    /// address cached without an ASN is absent. (The same requirement as `PollWrites.cachedASNs`: one
    /// implementation per backend serves both.)
    func cachedASNs(_ addresses: [String]) async throws -> [String: Int]
    /// Writes `plan` in one transaction: the names of its new spans not stored yet (as names only: no list,
    /// never polled; ids in the plan's order), its new spans (ids in the plan's order) with their values in
    /// the inverse index (`ValueKey.keys`; imported spans never become heads), and its widened spans.
    ///
    /// The plan was made from a read outside this transaction, so the write widens in SQL (a stored time is
    /// replaced only by an earlier first or a later last sighting, a count only by a larger one) and a new
    /// span that another import of the same source stored since is widened instead of inserted. Two imports
    /// of one source at once (possible on PostgreSQL, and on SQLite, where an import takes no poll lock)
    /// thus leave the history a serial merge of both would, in either order; only their `MergeCounts`
    /// describe what each read.
    func applyImport(_ plan: ImportPlan) async throws
}

extension ImportStore {
    /// Merges `records` as spans of `source` (created if new): the spans stored for the batch's keys and the
    /// cached origin ASNs of its addresses are read, `ImportPlan.merging` decides, `applyImport` writes in one
    /// transaction. `classify` is given those ASNs and returns how to classify a record that becomes a span.
    public func importBatch(_ records: [ImportedRecord], source: String, at time: Int64, fingerprintVersion: String?,
                            classify: ([String: Int]) -> (ImportedRecord) -> DomainState) async throws -> MergeCounts {
        guard !records.isEmpty else { return MergeCounts() }
        // The two reads at once (neither waits for the other).
        async let asns = cachedASNs(ImportedRecord.addresses(of: records))
        let sourceID = try await importSource(named: source, at: time)
        let stored = try await importedSpans(matching: Array(Set(records.map(ImportKey.init))), sourceID: sourceID)
        let classifier = classify(try await asns)
        let plan = ImportPlan.merging(records, into: stored, sourceID: sourceID, at: time, fingerprintVersion: fingerprintVersion,
                                      classify: classifier)
        try await applyImport(plan)
        return plan.counts
    }
}

extension ImportedRecord {
    /// The addresses of a batch's A and AAAA records, each once: whose cached origin ASNs classify it.
    public static func addresses(of records: [ImportedRecord]) -> [String] {
        Array(Set(records.filter { $0.rrtype == .a || $0.rrtype == .aaaa }.flatMap(\.rdata)))
    }
}

/// One record of another sensor's passive DNS (`import cof`), normalised, to store as a span of its source.
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

    public init(domain: String, rrtype: RRType, rdata: [String], timeFirst: Int64, timeLast: Int64, count: Int) {
        self.domain = domain
        self.rrtype = rrtype
        self.rdata = rdata
        self.timeFirst = timeFirst
        self.timeLast = timeLast
        self.count = count
    }
}

/// What identifies an imported span within its source: (name, type, rdata set as stored).
public struct ImportKey: Sendable, Hashable {
    public var domain: String
    public var rrtype: RRType
    /// The rdata set as `RdataCodec` stores it (sorted values).
    public var rdata: String

    public init(domain: String, rrtype: RRType, rdata: String) {
        self.domain = domain
        self.rrtype = rrtype
        self.rdata = rdata
    }

    public init(_ record: ImportedRecord) {
        self.init(domain: record.domain, rrtype: record.rrtype, rdata: RdataCodec.encode(record.rdata))
    }
}

/// A span of a source already stored, as an import batch reads it before its write.
public struct StoredImportSpan: Sendable, Equatable {
    public var id: Int64
    public var key: ImportKey
    public var timeFirst: Int64
    public var timeLast: Int64
    public var count: Int

    public init(id: Int64, key: ImportKey, timeFirst: Int64, timeLast: Int64, count: Int) {
        self.id = id
        self.key = key
        self.timeFirst = timeFirst
        self.timeLast = timeLast
        self.count = count
    }
}

/// One import batch's write, decided before it (`ImportPlan.merging`); `ImportStore.applyImport` writes it.
public struct ImportPlan: Sendable, Equatable {
    /// A stored span's new times and count.
    public struct Widening: Sendable, Equatable {
        public var id: Int64
        public var timeFirst: Int64
        public var timeLast: Int64
        public var count: Int
        public init(id: Int64, timeFirst: Int64, timeLast: Int64, count: Int) {
            self.id = id
            self.timeFirst = timeFirst
            self.timeLast = timeLast
            self.count = count
        }
    }

    /// A span to create: NOERROR, of the plan's source, with its class.
    public struct NewSpan: Sendable, Equatable {
        public var key: ImportKey
        /// The values (`key.rdata` decoded), for the inverse index.
        public var values: [String]
        public var timeFirst: Int64
        public var timeLast: Int64
        public var count: Int
        public var state: DomainState
        public init(key: ImportKey, values: [String], timeFirst: Int64, timeLast: Int64, count: Int, state: DomainState) {
            self.key = key
            self.values = values
            self.timeFirst = timeFirst
            self.timeLast = timeLast
            self.count = count
            self.state = state
        }
    }

    public var sourceID: Int64
    /// When the import runs: the `created` of names stored for the first time.
    public var time: Int64
    /// Stored with each new span (the classifier that classified it).
    public var fingerprintVersion: String?
    /// Spans to create, in the order of the records that first named them.
    public var create: [NewSpan]
    /// Stored spans whose times or count the batch changed, in the order of the records that first did.
    public var widen: [Widening]
    public var counts: MergeCounts

    public init(sourceID: Int64, time: Int64, fingerprintVersion: String?, create: [NewSpan], widen: [Widening], counts: MergeCounts) {
        self.sourceID = sourceID
        self.time = time
        self.fingerprintVersion = fingerprintVersion
        self.create = create
        self.widen = widen
        self.counts = counts
    }

    /// The import merge rule, the one place it is written. One span per (name, type, rdata set, source):
    /// a record whose span is stored (`stored`) or was made by an earlier record of the batch merges into
    /// it, keeping the earliest first sighting, the latest last one and the largest count (exports of one
    /// source are cumulative, so counts are never added); a record that changes nothing writes nothing.
    /// Any other record becomes a new span, classified by `classify` (a merged one keeps its span's class;
    /// `reclassify` re-derives both).
    public static func merging(_ records: [ImportedRecord], into stored: [StoredImportSpan], sourceID: Int64, at time: Int64,
                               fingerprintVersion: String?, classify: (ImportedRecord) -> DomainState) -> ImportPlan {
        /// Where a key's span is in the plan so far.
        enum Slot {
            case stored(StoredImportSpan, widened: Int?)
            case new(Int)
        }
        var slots: [ImportKey: Slot] = [:]
        slots.reserveCapacity(stored.count + records.count)
        for span in stored { slots[span.key] = .stored(span, widened: nil) }
        var plan = ImportPlan(sourceID: sourceID, time: time, fingerprintVersion: fingerprintVersion, create: [], widen: [], counts: MergeCounts())
        for r in records {
            let key = ImportKey(r)
            switch slots[key] {
            case nil:
                plan.counts.imported += 1
                slots[key] = .new(plan.create.count)
                plan.create.append(NewSpan(key: key, values: r.rdata, timeFirst: r.timeFirst, timeLast: r.timeLast, count: r.count,
                                           state: classify(r)))
            case .new(let i)?:
                plan.counts.merged += 1
                let s = plan.create[i]
                let merged = (min(s.timeFirst, r.timeFirst), max(s.timeLast, r.timeLast), max(s.count, r.count))
                guard merged != (s.timeFirst, s.timeLast, s.count) else { continue }
                plan.counts.changed += 1
                (plan.create[i].timeFirst, plan.create[i].timeLast, plan.create[i].count) = merged
            case .stored(let span, let widened)?:
                plan.counts.merged += 1
                let now = widened.map { plan.widen[$0] } ?? Widening(id: span.id, timeFirst: span.timeFirst, timeLast: span.timeLast, count: span.count)
                let merged = (min(now.timeFirst, r.timeFirst), max(now.timeLast, r.timeLast), max(now.count, r.count))
                guard merged != (now.timeFirst, now.timeLast, now.count) else { continue }
                plan.counts.changed += 1
                let w = Widening(id: span.id, timeFirst: merged.0, timeLast: merged.1, count: merged.2)
                if let i = widened {
                    plan.widen[i] = w
                } else {
                    slots[key] = .stored(span, widened: plan.widen.count)
                    plan.widen.append(w)
                }
            }
        }
        return plan
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

    public init(imported: Int, merged: Int, changed: Int) {
        self.imported = imported
        self.merged = merged
        self.changed = changed
    }

    public static func += (l: inout MergeCounts, r: MergeCounts) {
        l.imported += r.imported
        l.merged += r.merged
        l.changed += r.changed
    }
}
