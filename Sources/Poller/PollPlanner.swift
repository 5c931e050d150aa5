import Classification
import DNSWatchModel
import Detection
import Foundation
import Store

/// Classifications memoised for one batch: a parking provider's few name servers and addresses come
/// back thousands of times.
final class ClassificationCache {
    private let classifier: Classifier
    private var asn: [String: Int]
    /// Verdicts by value; A and AAAA share one key space (an address is an address).
    private var verdicts: [Key: Verdict] = [:]

    private struct Key: Hashable {
        var type: RRType
        var value: String
    }

    init(classifier: Classifier, asn: [String: ASNEntry]) {
        self.classifier = classifier
        self.asn = asn.compactMapValues(\.asn)
    }

    /// Adds origin ASNs read from the cache.
    func add(_ more: [String: Int]) {
        asn.merge(more) { old, _ in old }
    }

    /// The verdicts of one answer's values (none for a type that is not classified).
    func verdicts(_ type: RRType, _ rdata: [String]) -> [Verdict] {
        Classifier.classifies(type) ? rdata.map { verdict(type, $0) } : []
    }

    /// The verdict of one value of an answer of `type` (`Classifier.classify(_:value:asn:)`), once a batch.
    func verdict(_ type: RRType, _ v: String) -> Verdict {
        let key = Key(type: type == .aaaa ? .a : type, value: v)
        if let hit = verdicts[key] { return hit }
        let verdict = classifier.classify(type, value: v, asn: asn[v])
        verdicts[key] = verdict
        return verdict
    }
}

/// Decides everything one resolved batch writes — spans, per-domain status, state, transitions, alerts,
/// counts — as a `WritePlan`, from the batch's answers and what the store held before (read through
/// `PollWrites` outside any transaction). Pure: no store access. The steps, each followed by a read:
/// `sort(memory:)` (the memory of every domain read) → the heads of `Sorted.changed` →
/// `addressesToClassify` (their cached origin ASNs) → `examine` → `everSeenNeeded` (those domains'
/// addresses ever seen) → `plan`.
struct PollPlanner {
    let batch: Poller.Batch
    let types: [RRType]
    let pollID: Int64
    let now: Int64
    let options: PollOptions
    let classifierVersion: String
    let sinkKeys: [String]

    /// A domain whose answers (or classification) may have changed since it was last polled.
    struct Candidate {
        var target: PollTarget
        var answers: [RRType: Answer]
        var stored: StoredState?
    }

    /// The batch sorted by what the store remembers.
    struct Sorted {
        var counts = PollCounts()
        var failures: [PlannedFailure] = []
        /// Unchanged domains grouped by the types they answered, in the order the groups first occur.
        var unchanged: [ExtendHeads] = []
        var changed: [Candidate] = []
        var polled: [PolledDomain] = []
    }

    /// A changed domain's view against its current spans.
    struct Examined {
        var target: PollTarget
        /// This poll's answers, with a CNAME chain that is gone as NODATA.
        var answers: [RRType: Answer]
        var stored: StoredState?
        var view: DomainView
        /// A, AAAA and NS each answered now or before, and no address of unknown origin.
        var complete: Bool
        /// The view before this poll, if the domain had a state.
        var previous: DomainView?
        /// Only the store knows every address the domain had: its address set grew.
        var needsEverSeen: Bool
    }

    /// A read the plan needs was not given (a bug in the caller, never planned around).
    struct MissingRead: Error, CustomStringConvertible {
        var domainID: Int64
        var description: String { "the addresses ever seen of domain \(domainID) were not read before planning" }
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    /// Counts, failures, and the unchanged domains told apart from the rest by `memory` (of every domain of
    /// the batch).
    func sort(memory: [Int64: PollMemory]) -> Sorted {
        var s = Sorted()
        s.counts.domains = batch.targets.count
        s.counts.queries = batch.resolutions.count + batch.asnQueries
        s.counts.answers = batch.asnAnswers
        s.counts.failures = batch.asnQueries - batch.asnAnswers
        var groups: [[RRType]: Int] = [:]
        s.polled.reserveCapacity(batch.targets.count + batch.unasked.count)
        for (i, target) in batch.targets.enumerated() {
            let results = batch.resolutions[(i * types.count)..<((i + 1) * types.count)]
            let answers = collectAnswers(target, results, into: &s)
            // Every lookup failed: no span, no state change, no alert; and still due (an outage must not
            // push the domain's next poll back by a whole interval).
            guard !answers.isEmpty else { continue }
            let hash = PollPlanner.hash(answers)
            s.polled.append(PolledDomain(domainID: target.domainID, nextDue: nextDue(target), answerHash: hash))
            let remembered = memory[target.domainID]
            // Same answers as last time, same classifier, no new origin data: nothing can have changed.
            if let remembered, remembered.answerHash == hash, let stored = remembered.state,
               stored.classifierVersion == classifierVersion,
               !answers.values.contains(where: { $0.rdata.contains { batch.freshASN.contains($0) } }) {
                let types = answers.keys.sorted()
                if let g = groups[types] {
                    s.unchanged[g].domainIDs.append(target.domainID)
                } else {
                    groups[types] = s.unchanged.count
                    s.unchanged.append(ExtendHeads(domainIDs: [target.domainID], types: types))
                }
                continue
            }
            s.changed.append(Candidate(target: target, answers: answers, stored: remembered?.state))
        }
        for target in batch.unasked { s.polled.append(PolledDomain(domainID: target.domainID, nextDue: nextDue(target), answerHash: nil)) }
        return s
    }

    /// The addresses of the changed domains (answered now or current before) whose origin ASN the batch
    /// did not look up: their cached ASNs are read before classifying.
    func addressesToClassify(_ s: Sorted, heads: [HeadKey: HeadSpan]) -> [String] {
        var addresses = Set<String>()
        for c in s.changed {
            for t in [RRType.a, .aaaa] {
                addresses.formUnion(c.answers[t]?.rdata ?? [])
                addresses.formUnion(heads[HeadKey(domainID: c.target.domainID, rrtype: t)]?.rdata ?? [])
            }
        }
        return addresses.filter { batch.asn[$0] == nil }.sorted()
    }

    /// Each changed domain's view now and before; `cache` holds the batch's and the cached origin ASNs.
    func examine(_ s: Sorted, heads: [HeadKey: HeadSpan], cache: ClassificationCache) -> [Examined] {
        s.changed.map { c in
            let id = c.target.domainID
            var answers = c.answers
            // A CNAME chain that is gone: the CNAME's current span ends with NODATA.
            if answers[.cname] == nil, answers[.a] != nil || answers[.aaaa] != nil,
               let head = heads[HeadKey(domainID: id, rrtype: .cname)], head.status == .noerror {
                answers[.cname] = Answer(status: .nodata)
            }
            let view = PollPlanner.view(domainID: id, answers: answers, heads: heads, cache: cache)
            // A state needs a complete view: A, AAAA and NS each answered now or before (whatever this poll
            // asked), and no address whose origin lookup failed just now (it may be parked by its ASN). Else
            // spans only, as for a failed lookup.
            let complete = RRType.pollDefault.allSatisfy { answers[$0] != nil || heads[HeadKey(domainID: id, rrtype: $0)] != nil }
                && !view.addresses.contains { batch.asnUnknown.contains($0.value) }
            // The view before this poll, from the current spans, if it had a state (states come only from
            // complete views); none for the first complete observation (the baseline).
            let previous = c.stored == nil ? nil : PollPlanner.view(domainID: id, answers: [:], heads: heads, cache: cache)
            // Addresses the domain had before this poll: only the store knows them all when the set grew.
            let grew = complete && previous.map { !view.addressSet.isSubset(of: $0.addressSet) } == true
            return Examined(target: c.target, answers: answers, stored: c.stored, view: view, complete: complete,
                            previous: previous, needsEverSeen: grew)
        }
    }

    /// The domains whose addresses ever seen must be read before `plan`.
    static func everSeenNeeded(_ examined: [Examined]) -> [Int64] {
        examined.filter(\.needsEverSeen).map(\.target.domainID)
    }

    /// The write plan. `everSeen` holds (at least) the domains of `everSeenNeeded(examined)`.
    func plan(_ s: Sorted, _ examined: [Examined], heads: [HeadKey: HeadSpan], everSeen: [Int64: Set<String>],
              cache: ClassificationCache) throws -> WritePlan {
        var plan = WritePlan(pollID: pollID, time: now, classifierVersion: classifierVersion, extendHeads: s.unchanged,
                             failures: s.failures, polled: s.polled, counts: s.counts)
        for e in examined {
            let id = e.target.domainID
            let seen: Set<String>
            if e.needsEverSeen {
                guard let read = everSeen[id] else { throw MissingRead(domainID: id) }
                seen = read
            } else {
                seen = e.previous?.addressSet ?? []
            }
            var changedSpans = false
            for (t, a) in e.answers.sorted(by: { $0.key < $1.key }) {
                if let head = heads[HeadKey(domainID: id, rrtype: t)], head.matches(a) {
                    plan.extendSpans.append(head.spanID)
                    continue
                }
                let cls = SpanClassifier.combine(status: a.status, verdicts: cache.verdicts(t, a.rdata))
                plan.startSpans.append(NewSpan(domainID: id, rrtype: t, status: a.status, rdata: a.rdata,
                                               class: cls.class, provider: cls.provider))
                changedSpans = true
            }
            if changedSpans { plan.counts.changes += 1 }
            guard e.complete else { continue }
            if e.stored?.state != e.view.state || e.stored?.classifierVersion != classifierVersion {
                plan.states.append(PlannedState(domainID: id, state: e.view.state))
            }
            guard let previous = e.previous, previous != e.view,
                  let t = TransitionDetector.detect(previous: previous, current: e.view, everSeen: seen) else { continue }
            plan.transitions.append(try transition(t, for: e.target))
            plan.counts.alerts += 1
        }
        return plan
    }

    /// Every step at once, from reads made in full (for a caller that has them all, as tests do).
    func plan(memory: [Int64: PollMemory], heads: [HeadKey: HeadSpan], cachedASNs: [String: Int], everSeen: [Int64: Set<String>],
              classifier: Classifier) throws -> WritePlan {
        let s = sort(memory: memory)
        let cache = ClassificationCache(classifier: classifier, asn: batch.asn)
        let wanted = Set(addressesToClassify(s, heads: heads))
        cache.add(cachedASNs.filter { wanted.contains($0.key) })
        let examined = examine(s, heads: heads, cache: cache)
        return try plan(s, examined, heads: heads, everSeen: everSeen, cache: cache)
    }

    /// This poll's answers by type (CNAME from the address answers' chain); failures counted and recorded
    /// (the last of a domain's failed types is the one remembered).
    private func collectAnswers(_ target: PollTarget, _ results: ArraySlice<Resolution>, into s: inout Sorted) -> [RRType: Answer] {
        var answers: [RRType: Answer] = [:]
        var failure: PlannedFailure?
        for r in results {
            switch r.outcome {
            case .answer(let a):
                answers[r.question.type] = a
                s.counts.answers += 1
            case .failure(let kind):
                s.counts.failures += 1
                failure = PlannedFailure(domainID: target.domainID, rrtype: r.question.type, kind: kind)
            }
        }
        if let failure { s.failures.append(failure) }
        if let chain = (answers[.a] ?? answers[.aaaa])?.cnameChain, !chain.isEmpty {
            answers[.cname] = Answer(status: .noerror, rdata: chain)
        }
        return answers
    }
    /// A hash of a domain's answers (types, statuses, rdata): equal answers, equal hash (FNV-1a, 64 bits).
    static func hash(_ answers: [RRType: Answer]) -> Int64 {
        var h = FNV1a()
        func mix(_ s: String) {
            h.mix(s)
            h.mix(0x1F)  // a separator, so that ("ab", "c") and ("a", "bc") differ
        }
        for t in answers.keys.sorted() {
            guard let a = answers[t] else { continue }
            mix(t.rawValue)
            mix(a.status.rawValue)
            for v in a.rdata { mix(v) }
            mix("")
        }
        return Int64(bitPattern: h.value)
    }

    /// When the domain is next due: its shortest list interval from now, less its jitter.
    private func nextDue(_ target: PollTarget) -> Int64 {
        let interval = options.defaultIntervals.shortest(target.memberships.map { ($0.interval, $0.kind) })
        return now + Int64(interval) - Poller.jitter(for: target.name, interval: interval, share: options.jitter)
    }

    /// The domain's view now (`DomainView.derive`): this poll's answers, and the last known answer of each
    /// type that failed now. With no answers it is the view before this poll (its current spans), classified
    /// the same way, so a change of the data files is never taken for a change on the wire.
    static func view(domainID: Int64, answers: [RRType: Answer], heads: [HeadKey: HeadSpan],
                     cache: ClassificationCache) -> DomainView {
        DomainView.derive(current: { t in
            if let a = answers[t] { return (a.status, a.rdata) }
            return heads[HeadKey(domainID: domainID, rrtype: t)].map { ($0.status, $0.rdata) }
        }, verdict: cache.verdict)
    }

    /// The transition and its one alert (for the list that makes it most severe), queued for each sink.
    private func transition(_ t: Transition, for target: PollTarget) throws -> PlannedTransition {
        let fromJSON = String(decoding: try PollPlanner.encoder.encode(t.from), as: UTF8.self)
        let toJSON = String(decoding: try PollPlanner.encoder.encode(t.to), as: UTF8.self)
        let alert = target.memberships.map { ($0, Severity.of(t.type, kind: $0.kind, to: t.to.state.class)) }
            .max(by: { $0.1 < $1.1 })
            .map { m, severity in
                let now = self.now, name = target.name
                return PlannedAlert(domain: name, list: m.list, kind: m.kind, type: t.type.rawValue, severity: severity.rawValue,
                                    severityRank: severity.rank, sinks: sinkKeys) { id in
                    try AlertPayload.make(id: id, time: now, domain: name, membership: (m.list, m.kind),
                                          severity: severity, transition: t).json()
                }
            }
        return PlannedTransition(domainID: target.domainID, type: t.type.rawValue, fromJSON: fromJSON, toJSON: toJSON, alert: alert)
    }
}
