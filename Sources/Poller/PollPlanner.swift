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

    /// Whether the origin ASN of `address` is known here.
    func knowsASN(of address: String) -> Bool { asn[address] != nil }

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
        /// The resolver that gave each answer.
        var servers: [RRType: String]
        var stored: StoredState?
        var alerting: AlertingMemory?
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
        var servers: [RRType: String]
        var stored: StoredState?
        var alerting: AlertingMemory?
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
            let (answers, servers) = collectAnswers(target, results, into: &s)
            // Every lookup failed: no span, no state change, no alert; and still due (an outage must not
            // push the domain's next poll back by a whole interval).
            guard !answers.isEmpty else { continue }
            let hash = PollPlanner.hash(answers)
            s.polled.append(PolledDomain(domainID: target.domainID, nextDue: nextDue(target), answerHash: hash))
            let remembered = memory[target.domainID]
            // Same answers as last time, same classifier, no new origin data: nothing can have changed. (A
            // domain whose alerts are held back, or whose last change resolvers disagreed on, is examined
            // all the same: its damping or its disagreement may end.)
            if let remembered, remembered.answerHash == hash, let stored = remembered.state,
               stored.classifierVersion == classifierVersion, !(remembered.alerting?.needsExamination ?? false),
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
            s.changed.append(Candidate(target: target, answers: answers, servers: servers, stored: remembered?.state,
                                       alerting: remembered?.alerting))
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
            let answers = PollPlanner.withGoneChain(c.answers, domainID: id, heads: heads)
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
            return Examined(target: c.target, answers: answers, servers: c.servers, stored: c.stored, alerting: c.alerting, view: view,
                            complete: complete, previous: previous, needsEverSeen: grew)
        }
    }

    /// `answers`, with a CNAME chain that is gone (the domain's CNAME head holds one, the address answers
    /// none) as NODATA: the CNAME's current span ends.
    static func withGoneChain(_ answers: [RRType: Answer], domainID: Int64, heads: [HeadKey: HeadSpan]) -> [RRType: Answer] {
        var answers = answers
        if answers[.cname] == nil, answers[.a] != nil || answers[.aaaa] != nil,
           let head = heads[HeadKey(domainID: domainID, rrtype: .cname)], head.status == .noerror {
            answers[.cname] = Answer(status: .nodata)
        }
        return answers
    }

    /// The addresses a domain had before this poll, for telling new ones (`everSeen` holds those read).
    private func seen(_ e: Examined, everSeen: [Int64: Set<String>]) throws -> Set<String> {
        guard e.needsEverSeen else { return e.previous?.addressSet ?? [] }
        guard let read = everSeen[e.target.domainID] else { throw MissingRead(domainID: e.target.domainID) }
        return read
    }

    /// The domains whose addresses ever seen must be read before `plan`.
    static func everSeenNeeded(_ examined: [Examined]) -> [Int64] {
        examined.filter(\.needsEverSeen).map(\.target.domainID)
    }

    /// The transition each examined domain would make, before confirmation.
    func transitions(_ examined: [Examined], everSeen: [Int64: Set<String>]) throws -> [Int64: Transition] {
        var out: [Int64: Transition] = [:]
        for e in examined where e.complete {
            guard let previous = e.previous, previous != e.view,
                  let t = TransitionDetector.detect(previous: previous, current: e.view, everSeen: try seen(e, everSeen: everSeen))
            else { continue }
            out[e.target.domainID] = t
        }
        return out
    }

    /// The domains to look at again: those whose answers make a transition, and those whose resolvers
    /// disagreed when last polled (whether they still do).
    static func toConfirm(_ examined: [Examined], transitions: [Int64: Transition]) -> [Int64] {
        examined.filter { transitions[$0.target.domainID] != nil || ($0.alerting?.disagreementPolls ?? 0) > 0 }.map(\.target.domainID)
    }

    /// Whether one look at the domain (`look`, the view one resolver's answers make) sees the change `t`:
    /// the same state (class and provider) and NS set, and for a new address, an address the domain never
    /// had. Exact addresses are not compared: round-robin and CDN answers differ between resolvers.
    static func confirms(_ look: DomainView, _ t: Transition, seen: Set<String>) -> Bool {
        look.state == t.to.state && look.nameServerSet == t.to.nameServerSet
            && (t.type != .newIP || !look.addressSet.subtracting(seen).isEmpty)
    }

    /// The write plan. `everSeen` holds (at least) the domains of `everSeenNeeded(examined)`; `transitions`
    /// those of `transitions(_:everSeen:)`; `confirmations` the looks again at each domain of `toConfirm` (a
    /// missing one is a bug of the caller).
    func plan(_ s: Sorted, _ examined: [Examined], heads: [HeadKey: HeadSpan], everSeen: [Int64: Set<String>],
              cache: ClassificationCache, transitions: [Int64: Transition], confirmations: [Int64: Confirmation]) throws -> WritePlan {
        var plan = WritePlan(pollID: pollID, time: now, classifierVersion: classifierVersion, extendHeads: s.unchanged,
                             failures: s.failures, polled: s.polled, counts: s.counts)
        let polledIndex = Dictionary(plan.polled.enumerated().map { ($1.domainID, $0) }, uniquingKeysWith: { first, _ in first })
        for e in examined {
            let id = e.target.domainID
            let seen = try self.seen(e, everSeen: everSeen)
            let detected = transitions[id]
            // A change is alerted only once resolvers agree on it (docs/detection.md, "Confirmation").
            if detected != nil || (e.alerting?.disagreementPolls ?? 0) > 0 {
                guard let c = confirmations[id] else { throw MissingConfirmation(domainID: id) }
                let looks = c.looks.map { look in
                    (look, PollPlanner.view(domainID: id, answers: PollPlanner.withGoneChain(look.answers, domainID: id, heads: heads),
                                            heads: heads, cache: cache))
                }
                if let t = detected {
                    let supporting = looks.filter { PollPlanner.confirms($0.1, t, seen: seen) }
                    // Two resolvers that answered the second look (one, when only one did), each on its own.
                    if !looks.isEmpty && supporting.count >= min(2, looks.count) {
                        try confirmed(e, t, resolvers: PollPlanner.resolvers([e.servers] + supporting.map(\.0.servers)), seen: seen,
                                      heads: heads, cache: cache, into: &plan)
                        continue
                    }
                    try unconfirmed(e, t, looks: looks, seen: seen, heads: heads, into: &plan, polledAt: polledIndex[id])
                    continue
                }
                let agree = looks.allSatisfy { $0.1.state == e.view.state && $0.1.nameServerSet == e.view.nameServerSet }
                if !agree {
                    try unconfirmed(e, nil, looks: looks, seen: seen, heads: heads, into: &plan, polledAt: polledIndex[id])
                    continue
                }
            }
            startOrExtendSpans(e, heads: heads, cache: cache, into: &plan)
            guard e.complete else { continue }
            saveState(e, into: &plan)
            // No change now: a damping that has decayed ends; a disagreement is over.
            if var memory = e.alerting, memory.needsExamination {
                if memory.suppressedSince != nil {
                    let (decision, next) = damping(e.target).step(memory.dampingState, now: now, transition: false)
                    memory.dampingState = next
                    if decision == .endSuppression {
                        if let t = try catchUp(e, memory: memory, seen: seen) {
                            plan.transitions.append(try transition(t, for: e.target, resolvers: PollPlanner.resolvers([e.servers])))
                            plan.counts.alerts += 1
                        }
                        memory.alertedViewJSON = nil
                    }
                }
                memory.resolversAgree()
                plan.alerting.append(PlannedAlerting(domainID: id, memory: memory))
            }
        }
        return plan
    }

    /// The spans of a domain's answers: a head seen again is extended, any other answer starts a span
    /// (named with the resolver that gave it).
    private func startOrExtendSpans(_ e: Examined, heads: [HeadKey: HeadSpan], cache: ClassificationCache, into plan: inout WritePlan) {
        let id = e.target.domainID
        var changedSpans = false
        for (t, a) in e.answers.sorted(by: { $0.key < $1.key }) {
            if let head = heads[HeadKey(domainID: id, rrtype: t)], head.matches(a) {
                plan.extendSpans.append(head.spanID)
                continue
            }
            let cls = SpanClassifier.combine(status: a.status, verdicts: cache.verdicts(t, a.rdata))
            plan.startSpans.append(NewSpan(domainID: id, rrtype: t, status: a.status, rdata: a.rdata,
                                           class: cls.class, provider: cls.provider, resolver: e.servers[t]))
            changedSpans = true
        }
        if changedSpans { plan.counts.changes += 1 }
    }

    /// The domain's state, saved when it (or the classifier) changed.
    private func saveState(_ e: Examined, into plan: inout WritePlan) {
        if e.stored?.state != e.view.state || e.stored?.classifierVersion != classifierVersion {
            plan.states.append(PlannedState(domainID: e.target.domainID, state: e.view.state))
        }
    }

    /// A confirmed change: its spans and state, and its alert as flap damping decides.
    private func confirmed(_ e: Examined, _ t: Transition, resolvers: [String], seen: Set<String>, heads: [HeadKey: HeadSpan],
                           cache: ClassificationCache, into plan: inout WritePlan) throws {
        let id = e.target.domainID
        startOrExtendSpans(e, heads: heads, cache: cache, into: &plan)
        saveState(e, into: &plan)
        var memory = e.alerting ?? AlertingMemory(penaltyTime: now)
        let (decision, next) = damping(e.target).step(memory.dampingState, now: now, transition: true)
        memory.dampingState = next
        memory.resolversAgree()
        var planned = try transition(t, for: e.target, resolvers: resolvers)
        switch decision {
        case .alert:
            break
        case .startSuppressing:
            memory.alertedViewJSON = planned.fromJSON
            planned.alert = try alert(of: t, for: e.target, resolvers: resolvers, as: .flapping,
                                      note: "alerts held back: \(PollPlanner.figure(next.figure)) ≥ \(PollPlanner.figure(damping(e.target).suppress)) (flap damping)")
        case .suppressed:
            planned.alert = nil
        case .endSuppression:
            planned.alert = try catchUp(e, memory: memory, seen: seen).map { try alert(of: $0, for: e.target, resolvers: resolvers) } ?? nil
            memory.alertedViewJSON = nil
        }
        plan.transitions.append(planned)
        if planned.alert != nil { plan.counts.alerts += 1 }
        plan.alerting.append(PlannedAlerting(domainID: id, memory: memory))
    }

    /// A change the resolvers do not agree on (`t`; nil: no change in the poll's answers, but the looks
    /// again still disagree): no span of it, no state, no alert; the heads that the poll or a look saw again
    /// are extended, and the observation is kept in the domain's alerting memory. After `disagreementPolls`
    /// polls in a row, one `disagreement` alert naming what each resolver said.
    private func unconfirmed(_ e: Examined, _ t: Transition?, looks: [(Look, DomainView)], seen: Set<String>,
                             heads: [HeadKey: HeadSpan], into plan: inout WritePlan, polledAt: Int?) throws {
        let id = e.target.domainID
        for (type, a) in e.answers.sorted(by: { $0.key < $1.key }) {
            guard let head = heads[HeadKey(domainID: id, rrtype: type)] else { continue }
            if head.matches(a) || looks.contains(where: { $0.0.answers[type].map(head.matches) == true }) {
                plan.extendSpans.append(head.spanID)
            }
        }
        // Looked at again next poll, whatever it answers.
        if let polledAt { plan.polled[polledAt].answerHash = nil }
        var memory = e.alerting ?? AlertingMemory(penaltyTime: now)
        memory.disagreementPolls += 1
        let observation = UnconfirmedObservation(
            time: now, from: e.previous?.state ?? e.view.state,
            observations: [ResolverObservation(view: e.view, resolvers: PollPlanner.resolvers([e.servers]), role: .first)]
                + looks.map { ResolverObservation(view: $0.1, resolvers: PollPlanner.resolvers([$0.0.servers]), role: .again) })
        memory.unconfirmedJSON = String(decoding: try PollPlanner.encoder.encode(observation), as: UTF8.self)
        // The change the alert names: the poll's, or the first look that differs from the domain's state.
        let change = t ?? e.previous.flatMap { previous in
            looks.lazy.compactMap { TransitionDetector.detect(previous: previous, current: $0.1, everSeen: seen) }.first
        }
        if memory.disagreementPolls >= PollPlanner.disagreementPolls && !memory.disagreementAlerted, let change {
            memory.disagreementAlerted = true
            let resolvers = PollPlanner.resolvers([e.servers] + looks.map(\.0.servers))
            var planned = try transition(change, for: e.target, resolvers: resolvers)
            planned.type = AlertType.disagreement.rawValue
            planned.alert = try alert(of: change, for: e.target, resolvers: resolvers, as: .disagreement,
                                      note: "resolvers disagree for \(memory.disagreementPolls) polls: " + observation.summary,
                                      observations: observation.observations)
            plan.transitions.append(planned)
            plan.counts.alerts += 1
        }
        plan.alerting.append(PlannedAlerting(domainID: id, memory: memory))
    }

    /// The transition from the view last alerted (before damping held alerts back) to the view now; nil
    /// when the domain is back where it was alerted.
    private func catchUp(_ e: Examined, memory: AlertingMemory, seen: Set<String>) throws -> Transition? {
        guard let json = memory.alertedViewJSON else { return nil }
        let alerted = try JSONDecoder().decode(DomainView.self, from: Data(json.utf8))
        return TransitionDetector.detect(previous: alerted, current: e.view, everSeen: seen)
    }

    /// Polls in a row of a change the resolvers disagree on before a `disagreement` alert (the contract's 3).
    static let disagreementPolls = 3

    /// A domain's flap damping: that of its first kind of list in the order c2, owned, expired.
    func damping(_ target: PollTarget) -> FlapDamping {
        FlapDamping.of(kinds: target.memberships.map(\.kind), in: options.damping)
    }

    /// The resolvers behind answers, sorted, once each.
    static func resolvers(_ servers: [[RRType: String]]) -> [String] {
        Array(Set(servers.flatMap(\.values))).sorted()
    }

    static func figure(_ x: Double) -> String { String(Int(x.rounded())) }

    /// Every step at once, from reads made in full (for a caller that has them all, as tests do).
    func plan(memory: [Int64: PollMemory], heads: [HeadKey: HeadSpan], cachedASNs: [String: Int], everSeen: [Int64: Set<String>],
              classifier: Classifier, confirmations: [Int64: Confirmation]? = nil) throws -> WritePlan {
        let s = sort(memory: memory)
        let cache = ClassificationCache(classifier: classifier, asn: batch.asn)
        let wanted = Set(addressesToClassify(s, heads: heads))
        cache.add(cachedASNs.filter { wanted.contains($0.key) })
        let examined = examine(s, heads: heads, cache: cache)
        let transitions = try self.transitions(examined, everSeen: everSeen)
        // Without confirmations given, each domain's second look is its first (every change confirmed).
        let own = Dictionary(uniqueKeysWithValues: examined.map {
            ($0.target.domainID, Confirmation(looks: [Look(answers: $0.answers, servers: $0.servers)]))
        })
        return try plan(s, examined, heads: heads, everSeen: everSeen, cache: cache, transitions: transitions,
                        confirmations: confirmations ?? own)
    }

    /// This poll's answers by type (CNAME from the address answers' chain); failures counted and recorded
    /// (the last of a domain's failed types is the one remembered).
    private func collectAnswers(_ target: PollTarget, _ results: ArraySlice<Resolution>,
                                into s: inout Sorted) -> ([RRType: Answer], [RRType: String]) {
        var answers: [RRType: Answer] = [:], servers: [RRType: String] = [:]
        var failure: PlannedFailure?
        for r in results {
            switch r.outcome {
            case .answer(let a):
                answers[r.question.type] = a
                servers[r.question.type] = r.server
                s.counts.answers += 1
            case .failure(let kind):
                s.counts.failures += 1
                failure = PlannedFailure(domainID: target.domainID, rrtype: r.question.type, kind: kind)
            }
        }
        if let failure { s.failures.append(failure) }
        (answers, servers) = PollPlanner.withChain(answers, servers)
        return (answers, servers)
    }

    /// The CNAME chain of the address answers as a CNAME answer, from the resolver that gave it.
    static func withChain(_ answers: [RRType: Answer], _ servers: [RRType: String]) -> ([RRType: Answer], [RRType: String]) {
        var answers = answers, servers = servers
        let from: RRType = answers[.a] != nil ? .a : .aaaa
        if let chain = answers[from]?.cnameChain, !chain.isEmpty {
            answers[.cname] = Answer(status: .noerror, rdata: chain)
            servers[.cname] = servers[from]
        }
        return (answers, servers)
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
    private func transition(_ t: Transition, for target: PollTarget, resolvers: [String]) throws -> PlannedTransition {
        let fromJSON = String(decoding: try PollPlanner.encoder.encode(t.from), as: UTF8.self)
        let toJSON = String(decoding: try PollPlanner.encoder.encode(t.to), as: UTF8.self)
        return PlannedTransition(domainID: target.domainID, type: t.type.rawValue, fromJSON: fromJSON, toJSON: toJSON,
                                 alert: try alert(of: t, for: target, resolvers: resolvers))
    }

    /// The one alert of transition `t` (of type `type`, the transition's own unless said): for the list that
    /// makes the transition most severe; none for a domain on no list.
    private func alert(of t: Transition, for target: PollTarget, resolvers: [String], as type: AlertType? = nil, note: String? = nil,
                       observations: [ResolverObservation]? = nil) throws -> PlannedAlert? {
        guard let m = target.memberships.max(by: {
            Severity.of(t.type, kind: $0.kind, to: t.to.state.class) < Severity.of(t.type, kind: $1.kind, to: t.to.state.class)
        }) else { return nil }
        let type = type ?? t.type
        let severity = Severity.of(type, kind: m.kind, to: t.to.state.class)
        let now = self.now, name = target.name
        return PlannedAlert(domain: name, list: m.list, kind: m.kind, type: type.rawValue, severity: severity.rawValue,
                            severityRank: severity.rank, sinks: sinkKeys) { id in
            try AlertPayload.make(id: id, time: now, domain: name, membership: (m.list, m.kind), severity: severity, transition: t,
                                  type: type, note: note, resolvers: resolvers, observations: observations).json()
        }
    }
}

/// The looks again at a domain whose answers make a transition (or whose resolvers disagreed): one per
/// resolver asked, each with all of the domain's answers from that resolver.
struct Confirmation: Sendable {
    var looks: [Look]
}

/// One resolver's answers to a domain's questions (a type that failed is absent).
struct Look: Sendable {
    var answers: [RRType: Answer]
    var servers: [RRType: String]
}

/// A transition was planned without its confirmation (a bug in the caller, never planned around).
struct MissingConfirmation: Error, CustomStringConvertible {
    var domainID: Int64
    var description: String { "the change of domain \(domainID) was planned without asking again" }
}

extension AlertingMemory {
    /// A domain to examine in every poll, changed or not: its alerts are held back (damping may end), or
    /// resolvers disagreed on its last change.
    var needsExamination: Bool { suppressedSince != nil || disagreementPolls > 0 }

    /// Resolvers agree on the domain again (or confirmed its change): no disagreement to remember.
    mutating func resolversAgree() {
        disagreementPolls = 0
        disagreementAlerted = false
        unconfirmedJSON = nil
    }

    var dampingState: FlapDamping.State {
        get { FlapDamping.State(figure: penalty, time: penaltyTime, suppressedSince: suppressedSince) }
        set {
            penalty = newValue.figure
            penaltyTime = newValue.time
            suppressedSince = newValue.suppressedSince
        }
    }
}
