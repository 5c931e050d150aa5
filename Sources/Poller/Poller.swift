import Alerting
import Classification
import DNSWatchModel
import Detection
import Foundation
import HistoryStore
import Logging

/// How a poll runs.
public struct PollOptions: Sendable {
    /// Record types asked per domain (CNAME is recorded from the chains of A/AAAA answers).
    public var types: [RRType] = RRType.pollDefault
    /// Only domains that are due (`poll --due`), else all.
    public var dueOnly = false
    /// Origin-ASN lookups (Team Cymru over DNS) for addresses not in the cache.
    public var asnLookups = true
    public var asnTTL: Int64 = 7 * 86400
    public var asnNegativeTTL: Int64 = 86400
    /// Domains per batch: resolved together, written in one transaction; bounds memory.
    public var batchSize = 5000
    /// Interval per list kind when a list sets none (seconds).
    public var defaultIntervals: [ListKind: Int] = [.c2: 3600, .owned: 3600, .expired: 3600]
    /// Share of the interval by which a domain's next due time is spread (so a big list does not fall due at once).
    public var jitter = 0.1
    public init() {}
}

/// What a poll did: the one-line summary.
public struct PollSummary: Sendable, Equatable {
    public var pollID: Int64
    public var counts: PollCounts
    public var seconds: Double
    /// Every query of the poll failed to get any answer (exit 69).
    public var resolverUnavailable: Bool { counts.queries > 0 && counts.answers == 0 }
    public var deliveryFailures: Int

    public var line: String {
        let c = counts
        return "domains=\(c.domains) queries=\(c.queries) answers=\(c.answers) failures=\(c.failures) changes=\(c.changes) alerts=\(c.alerts) seconds=\(String(format: "%.2f", seconds))"
    }
}

/// Progress of a running poll, for a live line on a terminal.
public struct PollProgress: Sendable {
    public var done: Int
    public var total: Int
    public var queries: Int
    public var elapsed: Double
}

/// One poll end to end: due domains → resolver → history spans + classification → detection → alerts.
/// Data flows one way; the Poller owns no state between polls beyond what is in the store.
public struct Poller: Sendable {
    public let store: HistoryStore
    public let engine: any QueryEngine
    public let classifier: Classifier
    public let sinks: [any AlertSink]
    public let options: PollOptions
    public let logger: Logger
    public let progress: (@Sendable (PollProgress) -> Void)?

    public init(store: HistoryStore, engine: any QueryEngine, classifier: Classifier, sinks: [any AlertSink] = [],
                options: PollOptions = PollOptions(), logger: Logger, progress: (@Sendable (PollProgress) -> Void)? = nil) {
        self.store = store
        self.engine = engine
        self.classifier = classifier
        self.sinks = sinks
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Runs one poll. The caller holds the `PollLock`.
    public func poll(clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) async throws -> PollSummary {
        let started = Date()
        let now = clock()
        let dueAt = options.dueOnly ? now : nil
        let total = try store.countTargets(dueAt: dueAt)
        let pollID = try store.beginPoll(at: now, resolvers: engine.resolverDescription)
        var counts = PollCounts()
        var afterID: Int64 = 0
        // Batches are pipelined: batch k+1 is resolved while batch k is written. Batch k+1 starts only once
        // batch k is resolved: two resolutions at once would double the queries in flight and the --qps rate
        // (the resolver's limits hold per resolution).
        var pending: Task<Batch, any Error>? = nil
        var targets = try store.pollTargets(afterID: afterID, limit: options.batchSize, dueAt: dueAt)
        while !targets.isEmpty || pending != nil {
            var resolved: Batch? = nil
            if let pending {
                resolved = try await withTaskCancellationHandler {
                    try await pending.value
                } onCancel: {
                    pending.cancel()
                }
            }
            var next: Task<Batch, any Error>? = nil
            if !targets.isEmpty {
                afterID = targets[targets.count - 1].domainID
                let batchTargets = targets.filter { !Poller.neverQueried($0.name) }
                let engine = self.engine, store = self.store, options = self.options
                next = Task { try await Poller.resolveBatch(batchTargets, engine: engine, store: store, options: options, now: now) }
                targets = try store.pollTargets(afterID: afterID, limit: options.batchSize, dueAt: dueAt)
            }
            if let batch = resolved {
                do {
                    counts += try await write(batch, pollID: pollID, now: clock())
                } catch {
                    next?.cancel()
                    throw error
                }
                progress?(PollProgress(done: counts.domains, total: total, queries: counts.queries,
                                       elapsed: Date().timeIntervalSince(started)))
            }
            pending = next
        }
        try store.finishPoll(pollID, at: clock())
        let failures = try await deliverOutbox(now: clock())
        return PollSummary(pollID: pollID, counts: counts, seconds: Date().timeIntervalSince(started), deliveryFailures: failures)
    }

    // MARK: Resolution

    struct Batch: Sendable {
        var targets: [PollTarget]
        var resolutions: [Resolution]   // targets.count × types.count, in order
        var asn: [String: ASNEntry]
        var asnQueries: Int
    }

    static func resolveBatch(_ targets: [PollTarget], engine: any QueryEngine, store: HistoryStore,
                             options: PollOptions, now: Int64) async throws -> Batch {
        var questions: [Question] = []
        questions.reserveCapacity(targets.count * options.types.count)
        for t in targets {
            for type in options.types { questions.append(Question(name: t.name, type: type)) }
        }
        let resolutions = try await engine.answers(for: questions)
        var addresses = Set<String>()
        for r in resolutions where r.question.type == .a || r.question.type == .aaaa {
            if let a = r.outcome.answer, a.status == .noerror { addresses.formUnion(a.rdata) }
        }
        var asn = try store.cachedASN(Array(addresses), now: now)
        var asnQueries = 0
        if options.asnLookups {
            let missing = addresses.filter { asn[$0] == nil }.compactMap(IPAddress.init).sorted()
            if !missing.isEmpty {
                let answers = try await engine.answers(for: missing.map { Question(name: OriginASN.queryName(for: $0), type: .txt) })
                asnQueries = answers.count
                var fresh: [ASNEntry] = [], negative: [ASNEntry] = []
                for (ip, r) in zip(missing, answers) {
                    switch r.outcome {
                    case .answer(let a):
                        if let rec = a.rdata.lazy.compactMap(OriginASN.parse(txt:)).first {
                            fresh.append(ASNEntry(address: ip.description, asn: rec.asn, prefix: rec.prefix,
                                                  country: rec.country, registry: rec.registry))
                        } else {
                            negative.append(ASNEntry(address: ip.description, asn: nil))
                        }
                    case .failure:
                        continue  // not cached: asked again next time
                    }
                }
                for e in fresh + negative { asn[e.address] = e }
                let found = fresh, none = negative
                try await store.write { w in
                    try w.saveASN(found, at: now, ttl: options.asnTTL)
                    try w.saveASN(none, at: now, ttl: options.asnNegativeTTL)
                }
            }
        }
        return Batch(targets: targets, resolutions: resolutions, asn: asn, asnQueries: asnQueries)
    }

    // MARK: Writing a batch

    func write(_ batch: Batch, pollID: Int64, now: Int64) async throws -> PollCounts {
        let types = options.types
        let classifier = self.classifier
        let options = self.options
        let sinkKeys = sinks.map(\.key)
        return try await store.write { w in
            let ids = batch.targets.map(\.domainID)
            let heads = try w.heads(domainIDs: ids)
            let views = try w.stateViews(domainIDs: ids)
            var counts = PollCounts()
            counts.domains = batch.targets.count
            counts.queries = batch.resolutions.count + batch.asnQueries
            let decoder = JSONDecoder(), encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            for (i, target) in batch.targets.enumerated() {
                let results = batch.resolutions[(i * types.count)..<((i + 1) * types.count)]
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
                // CNAME: recorded from the chain an address answer carried.
                if let addressAnswer = answers[.a] ?? answers[.aaaa] {
                    if !addressAnswer.cnameChain.isEmpty {
                        answers[.cname] = Answer(status: .noerror, rdata: addressAnswer.cnameChain)
                    } else if let head = heads[HeadKey(domainID: target.domainID, rrtype: .cname)], head.status == .noerror {
                        answers[.cname] = Answer(status: .nodata)
                    }
                }
                // The view: this poll's answers, and the last known answer of any type that failed now.
                func current(_ t: RRType) -> (status: AnswerStatus, rdata: [String])? {
                    if let a = answers[t] { return (a.status, a.status == .noerror ? a.rdata : []) }
                    if let h = heads[HeadKey(domainID: target.domainID, rrtype: t)] { return (h.status, h.rdata) }
                    return nil
                }
                let asnOf = { (a: String) in batch.asn[a]?.asn }
                var statuses: [RRType: AnswerStatus] = [:]
                var addresses: [ClassifiedValue] = [], nameServers: [ClassifiedValue] = [], cnames: [ClassifiedValue] = []
                for t in [RRType.a, .aaaa, .ns, .cname] {
                    guard let c = current(t) else { continue }
                    statuses[t] = c.status
                    for v in c.rdata {
                        switch t {
                        case .a, .aaaa:
                            let verdict = IPAddress(v).map { classifier.classify(address: $0, asn: asnOf(v)) }
                                ?? Verdict(class: .unknown, reason: "not an address")
                            addresses.append(ClassifiedValue(value: v, verdict: verdict))
                        case .ns: nameServers.append(ClassifiedValue(value: v, verdict: classifier.classify(nameServer: v)))
                        case .cname: cnames.append(ClassifiedValue(value: v, verdict: classifier.classify(cnameTarget: v)))
                        case .txt: break
                        }
                    }
                }
                // Spans: extend the head when the answer is the same, else start a new one.
                let anyAnswer = !answers.isEmpty
                var changedSpans = false
                var everSeen: Set<String>? = nil
                let previous = views[target.domainID].flatMap { try? decoder.decode(DomainView.self, from: Data($0.utf8)) }
                let view = DomainView(statuses: statuses, addresses: addresses, nameServers: nameServers, cnameTargets: cnames)
                if let previous, previous.addressSet != view.addressSet {
                    everSeen = try w.addressesEverSeen(domainID: target.domainID)
                }
                for (t, a) in answers.sorted(by: { $0.key < $1.key }) {
                    let key = HeadKey(domainID: target.domainID, rrtype: t)
                    if let head = heads[key], head.status == a.status, head.rdata == a.rdata {
                        try w.extend(spanID: head.spanID, at: now)
                    } else {
                        let verdicts: [Verdict]
                        switch t {
                        case .a, .aaaa: verdicts = addresses.filter { a.rdata.contains($0.value) }.map(\.verdict)
                        case .ns: verdicts = nameServers.map(\.verdict)
                        case .cname: verdicts = cnames.map(\.verdict)
                        case .txt: verdicts = []
                        }
                        let cls = SpanClassifier.combine(status: a.status, verdicts: verdicts)
                        try w.startSpan(domainID: target.domainID, rrtype: t, status: a.status, rdata: a.rdata, at: now,
                                        class: cls.class, provider: cls.provider, fingerprintVersion: classifier.fingerprints.version)
                        changedSpans = true
                    }
                }
                if changedSpans { counts.changes += 1 }
                let interval = target.memberships.compactMap { $0.interval ?? options.defaultIntervals[$0.kind] }.min() ?? 3600
                try w.markPolled(domainID: target.domainID, at: now,
                                 nextDue: now + Int64(interval) - Poller.jitter(for: target.name, interval: interval, share: options.jitter))
                guard anyAnswer else { continue }  // every lookup failed: no state change, no alert
                // State and transitions.
                if previous != view {
                    let json = String(decoding: try encoder.encode(view), as: UTF8.self)
                    try w.saveState(domainID: target.domainID, class: view.state.class, provider: view.state.provider,
                                    viewJSON: json, at: now, changed: previous?.state != view.state,
                                    fingerprintVersion: classifier.fingerprints.version)
                    if let t = TransitionDetector.detect(previous: previous, current: view, everSeen: everSeen ?? []) {
                        let fromJSON = String(decoding: try encoder.encode(t.from), as: UTF8.self)
                        let tid = try w.insertTransition(domainID: target.domainID, pollID: pollID, at: now,
                                                         type: t.type.rawValue, fromJSON: fromJSON, toJSON: json)
                        let ranked = target.memberships.map { m in
                            (m, Severity.of(t.type, kind: m.kind, to: view.state.class))
                        }.max { $0.1 < $1.1 }
                        if let (m, severity) = ranked {
                            _ = try w.insertAlert(transitionID: tid, at: now, domain: target.name, list: m.list, kind: m.kind,
                                                  type: t.type.rawValue, severity: severity.rawValue, severityRank: severity.rank,
                                                  sinks: sinkKeys) { id in
                                try AlertPayload.make(id: id, time: now, domain: target.name, membership: (m.list, m.kind),
                                                      severity: severity, transition: t).json()
                            }
                            counts.alerts += 1
                        }
                    }
                }
            }
            try w.addPollCounts(pollID: pollID, counts)
            return counts
        }
    }

    /// Special-use names that must not go to DNS at all (RFC 7686: `.onion`).
    static func neverQueried(_ name: String) -> Bool {
        name == "onion" || name.hasSuffix(".onion")
    }

    /// A stable per-domain offset in [0, share × interval): spreads due times without randomness.
    static func jitter(for name: String, interval: Int, share: Double) -> Int64 {
        let span = Int64(Double(interval) * share)
        guard span > 0 else { return 0 }
        var h: UInt64 = 1469598103934665603
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        return Int64(h % UInt64(span))
    }

    // MARK: Alert delivery

    /// Delivers every queued alert to the configured sinks, in order per sink. A failed delivery stays
    /// queued (and holds back that sink's later alerts until the next poll); each outcome is recorded as
    /// soon as it is known, so nothing is sent twice. Returns how many deliveries failed this time.
    public func deliverOutbox(now: Int64) async throws -> Int {
        let queued = try store.pendingDeliveries(sinks: sinks.map(\.key))
        guard !queued.isEmpty else { return 0 }
        let store = self.store
        let results = try await AlertDispatcher(sinks: sinks, logger: logger).deliver(
            queued.map { (deliveryID: $0.alertID, sinkKey: $0.sink, json: Array($0.payload.utf8)) }
        ) { result in
            if case .notAttempted = result.outcome { return }
            do {
                try store.recordDelivery(alertID: result.deliveryID, sink: result.sinkKey, at: now, error: result.errorMessage)
            } catch {
                // The outbox row stays pending: at worst the alert is delivered again, never lost.
            }
        }
        let failed = results.filter { if case .failed = $0.outcome { return true } else { return false } }
        for r in failed {
            logger.warning("alert delivery failed; it stays queued", metadata: ["sink": "\(r.sinkKey)", "error": "\(r.errorMessage ?? "")"])
        }
        return failed.count
    }
}
