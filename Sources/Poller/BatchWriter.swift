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
    private var addresses: [String: Verdict] = [:]
    private var nameServers: [String: Verdict] = [:]
    private var cnames: [String: Verdict] = [:]

    init(classifier: Classifier, asn: [String: ASNEntry]) {
        self.classifier = classifier
        self.asn = asn.compactMapValues(\.asn)
    }

    /// Adds origin ASNs read from the cache.
    func add(_ more: [String: Int]) {
        asn.merge(more) { old, _ in old }
    }

    func address(_ v: String) -> Verdict {
        if let hit = addresses[v] { return hit }
        let verdict = IPAddress(v).map { classifier.classify(address: $0, asn: asn[v]) }
            ?? Verdict(class: .unknown, reason: "not an address")
        addresses[v] = verdict
        return verdict
    }

    func nameServer(_ v: String) -> Verdict {
        if let hit = nameServers[v] { return hit }
        let verdict = classifier.classify(nameServer: v)
        nameServers[v] = verdict
        return verdict
    }

    /// The verdicts of one answer's values, by record type.
    func verdicts(_ type: RRType, _ rdata: [String]) -> [Verdict] {
        switch type {
        case .a, .aaaa: rdata.map(address)
        case .ns: rdata.map(nameServer)
        case .cname: rdata.map(cnameTarget)
        case .txt: []
        }
    }

    func cnameTarget(_ v: String) -> Verdict {
        if let hit = cnames[v] { return hit }
        let verdict = classifier.classify(cnameTarget: v)
        cnames[v] = verdict
        return verdict
    }
}

/// Writes one resolved batch inside one transaction: spans, per-domain status, state, transitions and
/// alerts. Lives only for the duration of `SQLiteStore.write`.
struct BatchWriter {
    let w: any BatchStoreWriter
    let batch: Poller.Batch
    let types: [RRType]
    let pollID: Int64
    let now: Int64
    let options: PollOptions
    let classifierVersion: String
    let sinkKeys: [String]
    let cache: ClassificationCache

    private let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = .sortedKeys
        return e
    }()

    func run() throws -> PollCounts {
        let memory = try w.pollMemory(domainIDs: batch.targets.map(\.domainID))
        var counts = PollCounts()
        counts.domains = batch.targets.count
        counts.queries = batch.resolutions.count + batch.asnQueries
        counts.answers = batch.asnAnswers
        counts.failures = batch.asnQueries - batch.asnAnswers
        // Unchanged domains, grouped by the record types they answered: their current spans are extended.
        var unchanged: [[RRType]: [Int64]] = [:]
        var changed: [(PollTarget, [RRType: Answer], StoredState?)] = []
        var polled: [(domainID: Int64, nextDue: Int64?, answerHash: Int64?)] = []
        polled.reserveCapacity(batch.targets.count + batch.unasked.count)
        for (i, target) in batch.targets.enumerated() {
            let results = batch.resolutions[(i * types.count)..<((i + 1) * types.count)]
            let answers = try collectAnswers(target, results, counts: &counts)
            // Every lookup failed: no span, no state change, no alert; and still due (an outage must not
            // push the domain's next poll back by a whole interval).
            guard !answers.isEmpty else { continue }
            let hash = BatchWriter.hash(answers)
            polled.append((target.domainID, nextDue(target), hash))
            let remembered = memory[target.domainID]
            // Same answers as last time, same classifier, no new origin data: nothing can have changed.
            if let remembered, remembered.answerHash == hash, let stored = remembered.state,
               stored.classifierVersion == classifierVersion,
               !answers.values.contains(where: { $0.rdata.contains { batch.freshASN.contains($0) } }) {
                unchanged[answers.keys.sorted(), default: []].append(target.domainID)
                continue
            }
            changed.append((target, answers, remembered?.state))
        }
        for (types, ids) in unchanged { try w.extendHeads(domainIDs: ids, types: types, at: now) }

        // The rest: compare with their current spans.
        let heads = try w.heads(domainIDs: changed.map(\.0.domainID))
        // Their addresses' cached origin ASNs in one read.
        var addresses = Set<String>()
        for (target, answers, _) in changed {
            for t in [RRType.a, .aaaa] {
                addresses.formUnion(answers[t]?.rdata ?? [])
                addresses.formUnion(heads[HeadKey(domainID: target.domainID, rrtype: t)]?.rdata ?? [])
            }
        }
        cache.add(try w.cachedASNs(addresses.filter { batch.asn[$0] == nil }))
        var extended: [Int64] = []
        var started: [NewSpan] = []
        for (target, answers, stored) in changed {
            var answers = answers
            // A CNAME chain that is gone: the CNAME's current span ends with NODATA.
            if answers[.cname] == nil, answers[.a] != nil || answers[.aaaa] != nil,
               let head = heads[HeadKey(domainID: target.domainID, rrtype: .cname)], head.status == .noerror {
                answers[.cname] = Answer(status: .nodata)
            }
            try update(target, answers: answers, heads: heads, stored: stored, extended: &extended, started: &started,
                       counts: &counts)
        }
        for target in batch.unasked { polled.append((target.domainID, nextDue(target), nil)) }
        try w.extend(spanIDs: extended, at: now)
        try w.startSpans(started, at: now, fingerprintVersion: classifierVersion)
        try w.markPolled(polled, at: now)
        try w.addPollCounts(pollID: pollID, counts)
        return counts
    }

    /// This poll's answers by type (CNAME from the address answers' chain); failures recorded.
    private func collectAnswers(_ target: PollTarget, _ results: ArraySlice<Resolution>, counts: inout PollCounts) throws -> [RRType: Answer] {
        var answers: [RRType: Answer] = [:]
        for r in results {
            switch r.outcome {
            case .answer(let a):
                answers[r.question.type] = a
                counts.answers += 1
            case .failure(let kind):
                counts.failures += 1
                try w.recordFailure(domainID: target.domainID, rrtype: r.question.type, kind: kind, at: now)
            }
        }
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

    /// The domain's view now: this poll's answers, and the last known answer of each type that failed now.
    /// With no answers it is the view before this poll (its current spans), classified the same way, so a
    /// change of the data files is never taken for a change on the wire.
    static func view(domainID: Int64, answers: [RRType: Answer], heads: [HeadKey: HeadSpan],
                     cache: ClassificationCache) -> DomainView {
        var statuses: [RRType: AnswerStatus] = [:]
        var addresses: [ClassifiedValue] = [], nameServers: [ClassifiedValue] = [], cnames: [ClassifiedValue] = []
        for t in [RRType.a, .aaaa, .ns, .cname] {
            let current: (status: AnswerStatus, rdata: [String])
            if let a = answers[t] {
                current = (a.status, a.status == .noerror ? a.rdata : [])
            } else if let h = heads[HeadKey(domainID: domainID, rrtype: t)] {
                current = (h.status, h.rdata)
            } else {
                continue
            }
            statuses[t] = current.status
            for v in current.rdata {
                switch t {
                case .a, .aaaa: addresses.append(ClassifiedValue(value: v, verdict: cache.address(v)))
                case .ns: nameServers.append(ClassifiedValue(value: v, verdict: cache.nameServer(v)))
                case .cname: cnames.append(ClassifiedValue(value: v, verdict: cache.cnameTarget(v)))
                case .txt: break
                }
            }
        }
        return DomainView(statuses: statuses, addresses: addresses, nameServers: nameServers, cnameTargets: cnames)
    }

    /// The full path for a domain whose answers (or classification) changed.
    private func update(_ target: PollTarget, answers: [RRType: Answer], heads: [HeadKey: HeadSpan], stored: StoredState?,
                        extended: inout [Int64], started: inout [NewSpan], counts: inout PollCounts) throws {
        let view = BatchWriter.view(domainID: target.domainID, answers: answers, heads: heads, cache: cache)
        // A state needs a complete view: A, AAAA and NS each answered now or before (whatever this poll
        // asked), and no address whose origin lookup failed just now (it may be parked by its ASN). Else
        // spans only, as for a failed lookup.
        let complete = RRType.pollDefault.allSatisfy { answers[$0] != nil || heads[HeadKey(domainID: target.domainID, rrtype: $0)] != nil }
            && !view.addresses.contains { batch.asnUnknown.contains($0.value) }
        // The view before this poll, from the current spans, if it had a state (states come only from
        // complete views); none for the first complete observation (the baseline).
        let previous = stored == nil ? nil : BatchWriter.view(domainID: target.domainID, answers: [:], heads: heads, cache: cache)
        // Addresses the domain had before this poll: only the database knows them all when the set grew.
        // (This batch's new spans are written after every domain of it is done.)
        let everSeen: Set<String>
        if complete, let previous, !view.addressSet.isSubset(of: previous.addressSet) {
            everSeen = try w.addressesEverSeen(domainID: target.domainID)
        } else {
            everSeen = previous?.addressSet ?? []
        }
        var changedSpans = false
        for (t, a) in answers.sorted(by: { $0.key < $1.key }) {
            if let head = heads[HeadKey(domainID: target.domainID, rrtype: t)], head.matches(a) {
                extended.append(head.spanID)
                continue
            }
            let cls = SpanClassifier.combine(status: a.status, verdicts: cache.verdicts(t, a.rdata))
            started.append(NewSpan(domainID: target.domainID, rrtype: t, status: a.status, rdata: a.rdata,
                                   class: cls.class, provider: cls.provider))
            changedSpans = true
        }
        if changedSpans { counts.changes += 1 }
        guard complete else { return }
        if stored?.state != view.state || stored?.classifierVersion != classifierVersion {
            try w.saveState(domainID: target.domainID, view.state, at: now, classifierVersion: classifierVersion)
        }
        guard let previous, previous != view,
              let t = TransitionDetector.detect(previous: previous, current: view, everSeen: everSeen) else { return }
        try raise(t, for: target)
        counts.alerts += 1
    }

    /// Stores the transition and its one alert (for the list that makes it most severe), queued for each sink.
    private func raise(_ t: Transition, for target: PollTarget) throws {
        let fromJSON = String(decoding: try encoder.encode(t.from), as: UTF8.self)
        let toJSON = String(decoding: try encoder.encode(t.to), as: UTF8.self)
        let tid = try w.insertTransition(domainID: target.domainID, pollID: pollID, at: now, type: t.type.rawValue,
                                         fromJSON: fromJSON, toJSON: toJSON)
        guard let (m, severity) = target.memberships.map({ ($0, Severity.of(t.type, kind: $0.kind, to: t.to.state.class)) })
            .max(by: { $0.1 < $1.1 }) else { return }
        _ = try w.insertAlert(transitionID: tid, at: now, domain: target.name, list: m.list, kind: m.kind,
                              type: t.type.rawValue, severity: severity.rawValue, severityRank: severity.rank,
                              sinks: sinkKeys) { id in
            try AlertPayload.make(id: id, time: now, domain: target.name, membership: (m.list, m.kind),
                                  severity: severity, transition: t).json()
        }
    }
}
