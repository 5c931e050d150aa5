public import Alerting
public import Classification
public import DNSWatchModel
public import Detection
public import Foundation
public import Store
public import Logging

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
    /// Domains per batch: resolved together, written in one transaction.
    public var batchSize = 5000
    /// Batches in flight at once in the poll's resolver stream (bounds memory, and what a kill -9 loses).
    public var openBatches = 3
    /// Interval per list kind when a list sets none (seconds).
    public var defaultIntervals = PollInterval.Defaults()
    /// Share of the interval by which a domain's next due time is spread (so a big list does not fall due at once).
    public var jitter = 0.1
    /// This poller's name, recorded with its poll runs (`--poller`, default the host name).
    public var poller = PollOptions.hostName
    /// How long a claim on due domains lasts where several pollers share the store (`--lease`, seconds).
    public var lease: Int64 = 600
    /// Flap damping per kind of list (a kind not given: `FlapDamping.defaults`).
    public var damping: [ListKind: FlapDamping] = [:]
    /// With one resolver, how long to wait before asking again to confirm a change (seconds).
    public var confirmPause: Double = 1
    public init() {}

    /// The machine's host name, the default poller name.
    public static var hostName: String { ProcessInfo.processInfo.hostName }
}

/// What a poll did: the one-line summary.
public struct PollSummary: Sendable, Equatable {
    public var pollID: Int64
    public var counts: PollCounts
    public var seconds: Double
    /// Every query of the poll failed to get any answer (exit 69).
    public var resolverUnavailable: Bool { counts.queries > 0 && counts.answers == 0 }
    public var deliveryFailures: Int
    /// The resolvers asked (`HOST:PORT`).
    public var resolvers: [String] = []

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
    /// The store polled into: SQLite under its poll lock, or PostgreSQL shared through leases.
    public let store: any PollStore
    /// What keeps the store's poll lock held for as long as the Poller lives (SQLite), if any.
    let holder: (any Sendable)?
    public let engine: any QueryEngine
    public let classifier: Classifier
    public let sinks: [any AlertSink]
    public let options: PollOptions
    public let logger: Logger
    public let progress: (@Sendable (PollProgress) -> Void)?

    /// A poll of any store; `holding` is kept alive with the Poller (SQLite's poll lock, which the composition
    /// root takes).
    public init(store: any PollStore, holding: (any Sendable)? = nil, engine: any QueryEngine, classifier: Classifier,
                sinks: [any AlertSink] = [], options: PollOptions = PollOptions(), logger: Logger,
                progress: (@Sendable (PollProgress) -> Void)? = nil) {
        self.store = store
        self.holder = holding
        self.engine = engine
        self.classifier = classifier
        self.sinks = sinks
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Runs one poll.
    public func poll(clock: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) async throws -> PollSummary {
        let started = Date()
        let now = clock()
        let dueAt = options.dueOnly ? now : nil
        if options.dueOnly { try await store.clampDueTimes(defaults: options.defaultIntervals) }
        var afterID: Int64 = 0
        let total = try await store.countTargets(dueAt: dueAt)
        var plan = Poller.batchPlan(total: total, batchSize: options.batchSize)[...]
        let options = self.options
        func nextTargets() async throws -> ClaimedTargets {
            let size = plan.popFirst() ?? options.batchSize  // domains added meanwhile: more full batches
            let claim = try await store.claimTargets(afterID: afterID, limit: size, dueAt: dueAt, poller: options.poller,
                                                     lease: options.lease)
            if let last = claim.targets.last { afterID = last.domainID }
            return claim
        }
        var upcoming = try await nextTargets()
        guard !upcoming.targets.isEmpty else {
            // Nothing due: no poll run to record, but queued alerts still get their retry.
            let failures = try await deliverOutbox(now: clock())
            return PollSummary(pollID: 0, counts: PollCounts(), seconds: Date().timeIntervalSince(started), deliveryFailures: failures,
                               resolvers: engine.resolverNames)
        }
        let pollID = try await store.beginPoll(at: now, resolvers: engine.resolverDescription, poller: options.poller)
        let logger = self.logger
        // One resolver stream for the whole poll: up to `openBatches` batches are in flight together, and each
        // is written as soon as all of its domains are complete (in the order they complete) while the others
        // are still being resolved. A slow question holds back only its own batch's commit.
        let counts = try await engine.streaming(logger: logger) { engine in
            try await withThrowingTaskGroup(of: Batch.self) { group in
                var counts = PollCounts()
                var open = 0
                let store = self.store
                func launch(_ claim: ClaimedTargets) {
                    group.addTask { try await Poller.resolveBatch(claim, engine: engine, store: store, options: options, now: now) }
                    open += 1
                }
                while open < max(1, options.openBatches), !upcoming.targets.isEmpty {
                    launch(upcoming)
                    upcoming = try await nextTargets()
                }
                // Batches are written as they complete, up to `store.concurrentBatchWrites` at once (one on
                // SQLite, its single writer; several on PostgreSQL, whose transactions on distinct domains
                // run side by side).
                return try await withThrowingTaskGroup(of: PollCounts.self) { writes in
                    var writing = 0
                    func finishOne() async throws {
                        guard let written = try await writes.next() else { return }
                        writing -= 1
                        counts += written
                        progress?(PollProgress(done: counts.domains, total: total, queries: counts.queries,
                                               elapsed: Date().timeIntervalSince(started)))
                    }
                    while let batch = try await group.next() {
                        open -= 1
                        // Keep the stream fed before writing.
                        if !upcoming.targets.isEmpty {
                            launch(upcoming)
                            upcoming = try await nextTargets()
                        }
                        if writing >= max(1, store.concurrentBatchWrites) { try await finishOne() }
                        let writtenAt = clock()
                        writes.addTask { try await self.writeLogged(batch, pollID: pollID, now: writtenAt, started: started) }
                        writing += 1
                    }
                    while writing > 0 { try await finishOne() }
                    return counts
                }
            }
        }
        try await store.finishPoll(pollID, at: clock())
        let failures = try await deliverOutbox(now: clock())
        return PollSummary(pollID: pollID, counts: counts, seconds: Date().timeIntervalSince(started), deliveryFailures: failures,
                           resolvers: engine.resolverNames)
    }

    // MARK: Resolution

    struct Batch: Sendable {
        /// The claim the batch's domains were handed out under (its commit must still hold it).
        var claim: ClaimedTargets
        /// The domains asked about.
        var targets: [PollTarget]
        /// Special-use names never sent to DNS; only marked polled.
        var unasked: [PollTarget]
        var resolutions: [Resolution]   // targets.count × types.count, in order
        var asn: [String: ASNEntry]
        var asnQueries: Int
        var asnAnswers: Int
        /// Addresses whose origin ASN was (re)learnt in this batch: their classification may have changed.
        var freshASN: Set<String>
        /// Addresses whose origin lookup failed in this batch (and that are not cached): not classifiable yet.
        var asnUnknown: Set<String>
        var resolveSeconds: Double
    }

    static func resolveBatch(_ claim: ClaimedTargets, engine: any QueryEngine, store: any PollStore,
                             options: PollOptions, now: Int64) async throws -> Batch {
        let started = Date()
        let batchTargets = claim.targets
        let targets = batchTargets.filter { !Poller.neverQueried($0.name) }
        let unasked = batchTargets.filter { Poller.neverQueried($0.name) }
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
        // Without lookups the cache is read when writing, only for the domains whose answers changed.
        var origins = OriginLookup.Result()
        if options.asnLookups {
            origins = try await originLookup(store: store, engine: engine, options: options).lookUp(Array(addresses), now: now)
        }
        return Batch(claim: claim, targets: targets, unasked: unasked, resolutions: resolutions, asn: origins.entries,
                     asnQueries: origins.queries, asnAnswers: origins.answers, freshASN: origins.fresh,
                     asnUnknown: origins.failed, resolveSeconds: Date().timeIntervalSince(started))
    }

    /// The origin-ASN lookup of a poll: through `engine`, cached in `store` for the poll's TTLs.
    static func originLookup(store: any PollStore, engine: any QueryEngine, options: PollOptions) -> OriginLookup {
        var lookup = OriginLookup(store: store, engine: engine)
        lookup.ttl = options.asnTTL
        lookup.negativeTTL = options.asnNegativeTTL
        return lookup
    }

    // MARK: Writing a batch

    /// Writes a batch and logs it; a batch whose lease was lost is dropped (no counts): another poller
    /// holds those domains now and records them.
    func writeLogged(_ batch: Batch, pollID: Int64, now: Int64, started: Date) async throws -> PollCounts {
        let writeStart = Date()
        do {
            let counts = try await write(batch, pollID: pollID, now: now)
            logger.debug("batch written", metadata: [
                "domains": "\(batch.targets.count)", "resolve_s": "\(batch.resolveSeconds)",
                "write_s": "\(Date().timeIntervalSince(writeStart))", "elapsed_s": "\(Date().timeIntervalSince(started))",
            ])
            return counts
        } catch let lost as LeaseLost {
            logger.warning("batch discarded", metadata: ["reason": "\(lost)"])
            return PollCounts()
        }
    }

    /// Reads what the batch's plan needs (outside any transaction: the batch's domains are this poller's),
    /// plans, and has the store apply the plan in one transaction.
    func write(_ batch: Batch, pollID: Int64, now: Int64) async throws -> PollCounts {
        let planner = PollPlanner(batch: batch, types: options.types, pollID: pollID, now: now, options: options,
                                  classifierVersion: classifier.version, sinkKeys: sinks.map(\.key))
        let sorted = planner.sort(memory: try await store.pollMemory(domainIDs: batch.targets.map(\.domainID)))
        let heads = try await store.heads(domainIDs: sorted.changed.map(\.target.domainID))
        let cache = ClassificationCache(classifier: classifier, asn: batch.asn)
        cache.add(try await store.cachedASNs(planner.addressesToClassify(sorted, heads: heads)))
        let examined = planner.examine(sorted, heads: heads, cache: cache)
        let everSeen = try await store.addressesEverSeen(domainIDs: PollPlanner.everSeenNeeded(examined))
        let changes = try planner.transitions(examined, everSeen: everSeen)
        let confirmations = try await confirm(PollPlanner.toConfirm(examined, transitions: changes), of: examined, cache: cache, now: now)
        let plan = try planner.plan(sorted, examined, heads: heads, everSeen: everSeen, cache: cache, transitions: changes,
                                    confirmations: confirmations)
        try await store.apply(plan, claim: batch.claim)
        return plan.counts
    }

    /// The looks again at the domains `ids` (docs/detection.md, "Confirmation"): all of their questions asked
    /// of each resolver on its own, at once, or with one resolver, of it again after `confirmPause`. The
    /// origin ASNs of addresses only the looks again gave are looked up (or read from the cache) into
    /// `cache` before the planner classifies them.
    func confirm(_ ids: [Int64], of examined: [PollPlanner.Examined], cache: ClassificationCache,
                 now: Int64) async throws -> [Int64: Confirmation] {
        guard !ids.isEmpty else { return [:] }
        let byID = Dictionary(examined.map { ($0.target.domainID, $0) }, uniquingKeysWith: { first, _ in first })
        var questions: [Question] = [], owners: [Int64] = []
        for id in ids {
            guard let e = byID[id] else { continue }
            for type in options.types {
                questions.append(Question(name: e.target.name, type: type))
                owners.append(id)
            }
        }
        let perResolver = try await engine.lookAgain(questions, pause: options.confirmPause)
        var out: [Int64: Confirmation] = Dictionary(uniqueKeysWithValues: ids.map { ($0, Confirmation(looks: [])) })
        var addresses = Set<String>()
        for resolutions in perResolver {
            var answers: [Int64: [RRType: Answer]] = [:], servers: [Int64: [RRType: String]] = [:]
            for (r, id) in zip(resolutions, owners) {
                guard let a = r.outcome.answer else { continue }
                answers[id, default: [:]][r.question.type] = a
                servers[id, default: [:]][r.question.type] = r.server
                if r.question.type == .a || r.question.type == .aaaa, a.status == .noerror { addresses.formUnion(a.rdata) }
            }
            // A resolver that answered none of a domain's questions gives no look at it.
            for (id, a) in answers {
                let (withChain, chainServers) = PollPlanner.withChain(a, servers[id] ?? [:])
                out[id]?.looks.append(Look(answers: withChain, servers: chainServers))
            }
        }
        let unknown = addresses.filter { !cache.knowsASN(of: $0) }.sorted()
        if !unknown.isEmpty {
            if options.asnLookups {
                let lookup = Poller.originLookup(store: store, engine: engine, options: options)
                cache.add(try await lookup.lookUp(unknown, now: now).entries.compactMapValues(\.asn))
            } else {
                cache.add(try await store.cachedASNs(unknown))
            }
        }
        return out
    }

    /// The sizes of a poll's batches: small first ones, so that resolving starts at once and the pipeline
    /// fills sooner; full ones; and a small last one, since its write is the only part nothing overlaps.
    public static func batchPlan(total: Int, batchSize: Int) -> [Int] {
        let tail = min(1000, max(1, batchSize / 4))
        var ramp = [tail, 2 * tail][...]
        var sizes: [Int] = []
        var remaining = total
        while remaining > 0 {
            let full = min(ramp.popFirst() ?? batchSize, batchSize)
            let size = remaining <= tail ? remaining : min(full, remaining - tail)
            sizes.append(size)
            remaining -= size
        }
        return sizes
    }

    /// Special-use names that must not go to DNS at all (RFC 7686: `.onion`).
    static func neverQueried(_ name: String) -> Bool {
        name == "onion" || name.hasSuffix(".onion")
    }

    /// A stable per-domain offset in [0, share × interval): spreads due times without randomness.
    static func jitter(for name: String, interval: Int, share: Double) -> Int64 {
        let span = Int64(Double(interval) * share)
        guard span > 0 else { return 0 }
        var h = FNV1a()
        h.mix(name)
        return Int64(h.value % UInt64(span))
    }

    // MARK: Alert delivery

    /// Delivers every queued alert to the configured sinks, in order per sink. A failed delivery stays
    /// queued (and holds back that sink's later alerts until the next poll); each outcome is recorded as
    /// soon as it is known, so nothing is sent twice. Returns how many deliveries failed this time.
    public func deliverOutbox(now: Int64) async throws -> Int {
        let queued = try await store.pendingDeliveries(sinks: sinks.map(\.key), poller: options.poller)
        guard !queued.isEmpty else { return 0 }
        let store = self.store, logger = self.logger
        // The outbox row's alert id is the dispatcher's delivery id: with the sink key it makes the
        // payload's "delivery_id", the same on every attempt.
        let results = try await AlertDispatcher(sinks: sinks, logger: logger).deliver(
            queued.map { (deliveryID: $0.alertID, sinkKey: $0.sink, json: Array($0.payload.utf8)) }
        ) { result in
            if case .notAttempted = result.outcome { return }
            do {
                try await store.recordDelivery(alertID: result.deliveryID, sink: result.sinkKey, at: now, error: result.errorMessage)
            } catch {
                // The outbox row stays pending: at worst the alert is delivered again (same delivery_id), never lost.
                logger.warning("could not record an alert delivery; it will be sent again",
                               metadata: ["sink": "\(result.sinkKey)", "alert": "\(result.deliveryID)", "error": "\(error)"])
            }
        }
        // The dispatcher has logged each failure; the alert stays queued for the next poll.
        return results.filter { if case .failed = $0.outcome { return true } else { return false } }.count
    }
}
