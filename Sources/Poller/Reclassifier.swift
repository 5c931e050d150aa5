public import Classification
import DNSWatchModel
import Detection
import Foundation
public import Store

/// Re-derives stored classes from the raw answers after the fingerprint data changed:
/// every span's class and every domain's state view. History (the answers) is not touched, and no
/// alert is raised: a changed fingerprint is not a change on the wire.
///
/// Each batch is read first (outside any transaction), decided by a pure step (`spanClasses`, `states`)
/// into a `ReclassifyPlan`, and applied by the store in one transaction.
public struct Reclassifier: Sendable {
    let store: any ReclassifyStore
    /// On SQLite, the poll lock: a reclassification must not interleave with a poll's batches (nil on
    /// PostgreSQL, where pollers go on: the store writes a state only where no poll wrote one since it was read).
    let lock: (any Sendable)?
    let classifier: Classifier

    public init(store: any ReclassifyStore, holding lock: (any Sendable)?, classifier: Classifier) {
        self.store = store
        self.lock = lock
        self.classifier = classifier
    }

    /// Returns (spans re-derived, current spans whose class changed, domain states changed).
    public func run(batch: Int = 5000) async throws -> (spans: Int, changedSpans: Int, changedStates: Int) {
        var after: Int64 = 0
        var total = 0, changed = 0
        while true {
            let spans = try await store.reclassifySpans(afterID: after, limit: batch)
            guard let last = spans.last else { break }
            async let heads = store.heads(domainIDs: Array(Set(spans.map(\.domainID))))
            async let asn = store.cachedASNs(spans.filter { $0.rrtype == .a || $0.rrtype == .aaaa }.flatMap(\.rdata))
            let derived = Self.spanClasses(spans, heads: try await heads, asn: try await asn, classifier: classifier)
            _ = try await store.applyReclassify(ReclassifyPlan(classifierVersion: classifier.version, at: 0, spanClasses: derived.updates))
            total += spans.count
            changed += derived.changedCurrent
            after = last.id
        }
        let states = try await reclassifyStates(batch: batch)
        return (total, changed, states)
    }

    /// Re-derives every domain's state from its current spans.
    private func reclassifyStates(batch: Int) async throws -> Int {
        let now = Int64(Date().timeIntervalSince1970)
        var after: Int64 = 0
        var changed = 0
        while true {
            let stored = try await store.reclassifyStates(afterID: after, limit: batch)
            guard let last = stored.last else { break }
            let heads = try await store.heads(domainIDs: stored.map(\.domainID))
            let asn = try await store.cachedASNs(heads.values.filter { $0.status == .noerror }.flatMap(\.rdata))
            let updates = Self.states(stored, heads: heads, asn: asn, classifier: classifier)
            if !updates.isEmpty {
                let written = try await store.applyReclassify(
                    ReclassifyPlan(classifierVersion: classifier.version, at: now, states: updates))
                changed += updates.filter { written.contains($0.domainID) && $0.stored.state != $0.state }.count
            }
            after = last.domainID
        }
        return changed
    }

    /// The pure step of a batch of spans: each span's class derived again from its raw answer (and the cached
    /// origin ASNs of its addresses), and how many of them are current spans (`heads`) whose class or
    /// provider changed.
    public static func spanClasses(_ spans: [RawSpan], heads: [HeadKey: HeadSpan], asn: [String: Int],
                                   classifier: Classifier) -> (updates: [SpanClassUpdate], changedCurrent: Int) {
        // The current spans among them, by id: a changed class there is a changed current class.
        let current = Dictionary(heads.values.map { ($0.spanID, $0) }, uniquingKeysWith: { a, _ in a })
        let cache = ClassificationCache(classifier: classifier, asn: [:])
        cache.add(asn)
        var changed = 0
        let updates = spans.map { s in
            let cls = SpanClassifier.combine(status: s.status, verdicts: cache.verdicts(s.rrtype, s.rdata))
            if let old = current[s.id], old.class != cls.class || old.provider != cls.provider { changed += 1 }
            return SpanClassUpdate(spanID: s.id, class: cls.class, provider: cls.provider)
        }
        return (updates, changed)
    }

    /// The pure step of a batch of domain states: each domain's state derived again from its current spans
    /// (the view a poll derives before its answers, `PollPlanner.view`), where it or the classifier version
    /// differs from the stored one.
    public static func states(_ stored: [DomainStateRow], heads: [HeadKey: HeadSpan], asn: [String: Int],
                              classifier: Classifier) -> [StateUpdate] {
        let cache = ClassificationCache(classifier: classifier, asn: [:])
        cache.add(asn)
        return stored.compactMap { row in
            let view = PollPlanner.view(domainID: row.domainID, answers: [:], heads: heads, cache: cache)
            guard row.stored.state != view.state || row.stored.classifierVersion != classifier.version else { return nil }
            return StateUpdate(domainID: row.domainID, stored: row.stored, state: view.state)
        }
    }
}
