public import Classification
public import DNSWatchModel
public import Detection
import Foundation
public import Store

/// `dnswatch explain DOMAIN` (and the web page's domain view): a domain's state and why. Each current value
/// classified again with the classifier given (as `classify` does), with the fingerprint or warning list that
/// matched; its lists; its last transitions and alerts, newest first; its flap-damping penalty decayed to now
/// and whether its alerts are held back; its last unconfirmed observation; its polling times.
public struct Explainer: Sendable {
    public let store: any ServeReading
    public let classifier: Classifier
    /// Origin ASNs of addresses (the cache).
    public let asns: @Sendable ([IPAddress]) async throws -> [String: Int]
    /// The config's damping figures per kind of list (`[damping]`, `[damping.KIND]`).
    public let damping: [ListKind: FlapDamping]

    /// How many transitions and alerts a report shows (the latest).
    public static let latest = 10

    public init(store: any ServeReading, classifier: Classifier, asns: @escaping @Sendable ([IPAddress]) async throws -> [String: Int],
                damping: [ListKind: FlapDamping]) {
        self.store = store
        self.classifier = classifier
        self.asns = asns
        self.damping = damping
    }

    /// The report on `domain` (normalised) at `now`; nil when dnswatch does not know the domain (never
    /// watched, no imported record). Stored values this version does not know (a class, a transition or
    /// alert type, a severity, a view or observation it cannot read) throw ``ExplainError``.
    public func explain(_ domain: String, now: Int64) async throws -> Explanation? {
        guard let reads = try await store.explainReads(domain: domain, transitions: Self.latest) else { return nil }
        let lists = (try await store.memberships(of: [domain])[domain] ?? []).filter { $0.retired == nil }
        let alerts = try await store.alerts(AlertFilter(domain: domain, limit: Self.latest)).map { a in
            let known = try KnownAlert(id: a.id, type: a.type, severity: a.severity, rank: a.severityRank)
            return ExplainedAlert(id: a.id, time: a.time, type: known.type, severity: known.severity, message: a.message)
        }
        let transitions = try reads.transitions.map { t in
            guard let type = AlertType(rawValue: t.type) else {
                throw ExplainError("transition \(t.id) has a type this dnswatch does not know ('\(t.type)'): the database was written by another version")
            }
            return ExplainedTransition(id: t.id, time: t.time, type: type, from: try Self.view(t.fromViewJSON, of: t.id).state,
                                       to: try Self.view(t.toViewJSON, of: t.id).state)
        }
        let answers = try await classified(reads.current.filter { DomainView.types.contains($0.rrtype) && $0.source == nil })
        let kinds = lists.map(\.kind)
        let figures = FlapDamping.of(kinds: kinds, in: damping)
        let memory = reads.alerting
        let penalty = memory.map { figures.decayed($0.penalty, from: $0.penaltyTime, to: now) } ?? 0
        let unconfirmed = try memory?.unconfirmedJSON.map { json in
            do {
                return try JSONDecoder().decode(UnconfirmedObservation.self, from: Data(json.utf8))
            } catch {
                throw ExplainError("the last unconfirmed observation of \(domain) cannot be read by this dnswatch (\(error)): the database was written by another version")
            }
        }
        return Explanation(
            domain: domain, state: reads.state, answers: answers, lists: lists, transitions: transitions, alerts: alerts,
            damping: DampingNow(kind: FlapDamping.kind(of: kinds), figures: figures, penalty: penalty.rounded(),
                                suppressedSince: memory?.suppressedSince),
            unconfirmed: unconfirmed, disagreementPolls: memory?.disagreementPolls ?? 0, status: reads.status)
    }

    /// The current answers, each value classified now (addresses with their cached origin ASN).
    private func classified(_ spans: [SpanRecord]) async throws -> [ExplainedAnswer] {
        let ips = spans.filter { ($0.rrtype == .a || $0.rrtype == .aaaa) && $0.status == .noerror }.flatMap(\.rdata).compactMap(IPAddress.init)
        let asn = ips.isEmpty ? [:] : try await asns(ips)
        return spans.map { span in
            let values: [ExplainedValue] = span.status != .noerror ? [] : span.rdata.map { value in
                let n = (span.rrtype == .a || span.rrtype == .aaaa) ? asn[value] : nil
                return ExplainedValue(value: value, verdict: classifier.classify(span.rrtype, value: value, asn: n), asn: n)
            }
            return ExplainedAnswer(rrtype: span.rrtype, status: span.status, timeFirst: span.timeFirst, timeLast: span.timeLast, values: values)
        }
    }

    private static func view(_ json: String, of transition: Int64) throws -> DomainView {
        do {
            return try JSONDecoder().decode(DomainView.self, from: Data(json.utf8))
        } catch {
            throw ExplainError("transition \(transition) holds a view this dnswatch cannot read (\(error)): the database was written by another version")
        }
    }
}

/// A stored value this version does not know, met while explaining a domain.
public struct ExplainError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What ``Explainer/explain(_:now:)`` finds.
public struct Explanation: Sendable, Equatable {
    public var domain: String
    /// nil: no state yet (never polled with an answer).
    public var state: ExplainedState?
    /// The current polled answers of A, AAAA, NS and CNAME, by record type.
    public var answers: [ExplainedAnswer]
    /// Active memberships.
    public var lists: [WatchedDomain]
    /// The latest transitions, newest first.
    public var transitions: [ExplainedTransition]
    /// The latest alerts, newest first.
    public var alerts: [ExplainedAlert]
    public var damping: DampingNow
    public var unconfirmed: UnconfirmedObservation?
    /// Polls in a row whose change the resolvers did not confirm.
    public var disagreementPolls: Int
    public var status: PollingStatus
}

public struct ExplainedAnswer: Sendable, Equatable {
    public var rrtype: RRType
    public var status: AnswerStatus
    public var timeFirst: Int64
    public var timeLast: Int64
    public var values: [ExplainedValue]
}

public struct ExplainedValue: Sendable, Equatable {
    public var value: String
    public var verdict: Verdict
    public var asn: Int?
}

public struct ExplainedTransition: Sendable, Equatable {
    public var id: Int64
    public var time: Int64
    public var type: AlertType
    public var from: DomainState
    public var to: DomainState
}

public struct ExplainedAlert: Sendable, Equatable {
    public var id: Int64
    public var time: Int64
    public var type: AlertType
    public var severity: Severity
    public var message: String
}

/// A domain's flap damping now: the figures of its kind, its penalty decayed to now, and since when its alerts
/// are held back (nil: they are not).
public struct DampingNow: Sendable, Equatable {
    /// The kind whose figures apply.
    public var kind: ListKind
    public var figures: FlapDamping
    /// Rounded to a whole number, as stored.
    public var penalty: Double
    public var suppressedSince: Int64?
    public var suppressed: Bool { suppressedSince != nil }
}

// MARK: - JSON

/// `explain --json`: one object, the field names documented in docs/triage.md ("Explaining a domain").
public struct ExplainOutput: Encodable, Sendable, Equatable {
    public struct State: Encodable, Sendable, Equatable {
        public let `class`: String
        @NullEncoded public var provider: String?
        public let since: Int64
    }
    public struct Evidence: Encodable, Sendable, Equatable {
        public let kind: String, match: String, source: String
    }
    public struct Value: Encodable, Sendable, Equatable {
        public let value: String, `class`: String
        @NullEncoded public var provider: String?
        @NullEncoded public var subtype: String?
        @NullEncoded public var asn: Int?
        public let reason: String
        @NullEncoded public var evidence: Evidence?
        public let warninglists: [WarningListHit]
    }
    public struct Answer: Encodable, Sendable, Equatable {
        public let rrtype: String, status: String, time_first: Int64, time_last: Int64
        public let values: [Value]
    }
    public struct List: Encodable, Sendable, Equatable {
        public let list: String, kind: String
    }
    public struct Side: Encodable, Sendable, Equatable {
        public let `class`: String
        @NullEncoded public var provider: String?
    }
    public struct Transition: Encodable, Sendable, Equatable {
        public let id: Int64, time: Int64, type: String, from: Side, to: Side
    }
    public struct Alert: Encodable, Sendable, Equatable {
        public let id: Int64, time: Int64, type: String, severity: String, message: String
    }
    public struct Damping: Encodable, Sendable, Equatable {
        public let kind: String, penalty: Double, suppressed: Bool
        @NullEncoded public var suppressed_since: Int64?
        public let penalty_per_change: Double, suppress_limit: Double, reuse_limit: Double, half_life: Int64, max_suppress: Int64
    }
    public struct Unconfirmed: Encodable, Sendable, Equatable {
        public let time: Int64, from: Side, summary: String
        public let observations: [ResolverObservation]
    }
    public struct Failure: Encodable, Sendable, Equatable {
        public let time: Int64
        @NullEncoded public var rrtype: String?
        @NullEncoded public var kind: String?
    }

    public let domain: String
    @NullEncoded public var state: State?
    public let answers: [Answer]
    public let lists: [List]
    public let transitions: [Transition]
    public let alerts: [Alert]
    public let damping: Damping
    @NullEncoded public var unconfirmed: Unconfirmed?
    public let disagreement_polls: Int
    @NullEncoded public var last_polled: Int64?
    @NullEncoded public var next_due: Int64?
    @NullEncoded public var last_failure: Failure?

    public init(_ e: Explanation) {
        domain = e.domain
        state = e.state.map { State(class: $0.state.class.rawValue, provider: $0.state.provider, since: $0.since) }
        answers = e.answers.map { a in
            Answer(rrtype: a.rrtype.rawValue, status: a.status.rawValue, time_first: a.timeFirst, time_last: a.timeLast, values: a.values.map { v in
                Value(value: v.value, class: v.verdict.class.rawValue, provider: v.verdict.provider ?? v.verdict.weakProvider,
                      subtype: v.verdict.subtype, asn: v.asn, reason: v.verdict.reason,
                      evidence: v.verdict.evidence.map { Evidence(kind: $0.kind.rawValue, match: $0.match, source: $0.source) },
                      warninglists: v.verdict.warninglists ?? [])
            })
        }
        lists = e.lists.map { List(list: $0.list, kind: $0.kind.rawValue) }
        transitions = e.transitions.map {
            Transition(id: $0.id, time: $0.time, type: $0.type.rawValue, from: Side($0.from), to: Side($0.to))
        }
        alerts = e.alerts.map { Alert(id: $0.id, time: $0.time, type: $0.type.rawValue, severity: $0.severity.rawValue, message: $0.message) }
        let f = e.damping.figures
        damping = Damping(kind: e.damping.kind.rawValue, penalty: e.damping.penalty, suppressed: e.damping.suppressed,
                          suppressed_since: e.damping.suppressedSince, penalty_per_change: f.penalty, suppress_limit: f.suppress,
                          reuse_limit: f.reuse, half_life: f.halfLife, max_suppress: f.maxSuppress)
        unconfirmed = e.unconfirmed.map { Unconfirmed(time: $0.time, from: Side($0.from), summary: $0.summary, observations: $0.observations) }
        disagreement_polls = e.disagreementPolls
        last_polled = e.status.lastPolled
        next_due = e.status.nextDue
        last_failure = e.status.lastFailure.map { Failure(time: $0, rrtype: e.status.lastFailureType, kind: e.status.lastFailureKind) }
    }
}

extension ExplainOutput.Side {
    init(_ s: DomainState) {
        self.init(class: s.class.rawValue, provider: s.provider)
    }
}
