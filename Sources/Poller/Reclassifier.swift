public import Classification
import DNSWatchModel
import Detection
import Foundation
public import Store

/// Re-derives stored classes from the raw answers after the fingerprint data changed:
/// every span's class and every domain's state view. History (the answers) is not touched, and no
/// alert is raised: a changed fingerprint is not a change on the wire.
public struct Reclassifier: Sendable {
    let store: any ReclassifyStore
    /// On SQLite, the poll lock: a reclassification must not interleave with a poll's batches (nil on
    /// PostgreSQL, where pollers share one config and so one classifier).
    let lock: (any Sendable)?
    let classifier: Classifier

    public init(store: any ReclassifyStore, holding lock: (any Sendable)?, classifier: Classifier) {
        self.store = store
        self.lock = lock
        self.classifier = classifier
    }

    /// Returns (spans re-derived, spans whose class changed, domain states changed).
    public func run(batch: Int = 5000) async throws -> (spans: Int, changedSpans: Int, changedStates: Int) {
        let classifier = self.classifier
        var after: Int64 = 0
        var total = 0, changed = 0
        while true {
            let start = after
            let (n, c, last) = try await store.reclassifyBatch { w -> (Int, Int, Int64?) in
                let spans = try w.rawSpans(afterID: start, limit: batch)
                var changed = 0
                // The current spans among them, by id: a changed class there is a changed current class.
                let current = Dictionary(try w.heads(domainIDs: Array(Set(spans.map(\.domainID)))).values.map { ($0.spanID, $0) },
                                         uniquingKeysWith: { a, _ in a })
                let cache = ClassificationCache(classifier: classifier, asn: [:])
                cache.add(try w.cachedASNs(spans.filter { $0.rrtype == .a || $0.rrtype == .aaaa }.flatMap(\.rdata)))
                for s in spans {
                    let cls = SpanClassifier.combine(status: s.status, verdicts: cache.verdicts(s.rrtype, s.rdata))
                    if let old = current[s.id], old.class != cls.class || old.provider != cls.provider { changed += 1 }
                    try w.setSpanClass(spanID: s.id, class: cls.class, provider: cls.provider, fingerprintVersion: classifier.version)
                }
                return (spans.count, changed, spans.last?.id)
            }
            total += n
            changed += c
            guard let last else { break }
            after = last
        }
        let states = try await reclassifyStates(batch: batch)
        return (total, changed, states)
    }

    /// Re-derives every domain's state from its current spans.
    private func reclassifyStates(batch: Int) async throws -> Int {
        let classifier = self.classifier
        let now = Int64(Date().timeIntervalSince1970)
        var after: Int64 = 0
        var changed = 0
        while true {
            let start = after
            let (n, last) = try await store.reclassifyBatch { w -> (Int, Int64?) in
                let ids = try w.stateDomainIDs(afterID: start, limit: batch)
                let heads = try w.heads(domainIDs: ids)
                let stored = try w.pollMemory(domainIDs: ids).compactMapValues(\.state)
                let cache = ClassificationCache(classifier: classifier, asn: [:])
                cache.add(try w.cachedASNs(heads.values.filter { $0.status == .noerror }.flatMap(\.rdata)))
                var n = 0
                for id in ids {
                    let view = BatchWriter.view(domainID: id, answers: [:], heads: heads, cache: cache)
                    guard stored[id]?.state != view.state || stored[id]?.classifierVersion != classifier.version else { continue }
                    if stored[id]?.state != view.state { n += 1 }
                    try w.saveState(domainID: id, view.state, at: now, classifierVersion: classifier.version)
                }
                return (n, ids.last)
            }
            changed += n
            guard let last else { break }
            after = last
        }
        return changed
    }
}
