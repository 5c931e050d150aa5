import Classification
import DNSWatchModel
import Detection
import Foundation
@testable import Poller
import Store
import Testing

/// The poll's rules, from answers and what the store held to a `WritePlan`: no database.
@Suite struct PollPlannerTests {
    static let classifier = Result { Classifier(fingerprints: try .embedded()) }
    static let now: Int64 = 1_700_000_000
    static let target = PollTarget(domainID: 7, name: "c2.example", memberships: [Membership(list: "watch", kind: .c2, interval: nil)])

    /// A batch of `target` whose questions (A, AAAA, NS) got `outcomes`.
    static func batch(_ outcomes: [RRType: Outcome], asnUnknown: Set<String> = []) -> Poller.Batch {
        let resolutions = RRType.pollDefault.map { t in
            Resolution(question: Question(name: target.name, type: t), outcome: outcomes[t] ?? .failure(.timeout), server: nil, attempts: 1)
        }
        return Poller.Batch(claim: ClaimedTargets(targets: [target], lease: nil), targets: [target], unasked: [], resolutions: resolutions,
                            asn: [:], asnQueries: 0, asnAnswers: 0, freshASN: [], asnUnknown: asnUnknown, resolveSeconds: 0)
    }

    static func planner(_ batch: Poller.Batch, version: String) -> PollPlanner {
        var options = PollOptions()
        options.jitter = 0
        return PollPlanner(batch: batch, types: RRType.pollDefault, pollID: 3, now: now, options: options, classifierVersion: version,
                           sinkKeys: ["stdout"])
    }

    static func head(_ id: Int64, _ status: AnswerStatus, _ rdata: [String]) -> HeadSpan {
        HeadSpan(spanID: id, status: status, rdataText: RdataCodec.encode(rdata), class: nil, provider: nil)
    }

    /// The domain as last polled: A 45.0.121.9, AAAA NODATA, NS ns1.example.net (spans 11, 12, 13).
    static let heads: [HeadKey: HeadSpan] = [
        HeadKey(domainID: 7, rrtype: .a): head(11, .noerror, ["45.0.121.9"]),
        HeadKey(domainID: 7, rrtype: .aaaa): head(12, .nodata, []),
        HeadKey(domainID: 7, rrtype: .ns): head(13, .noerror, ["ns1.example.net"]),
    ]
    static let before: [RRType: Outcome] = [
        .a: .answer(Answer(status: .noerror, rdata: ["45.0.121.9"])), .aaaa: .answer(Answer(status: .nodata)),
        .ns: .answer(Answer(status: .noerror, rdata: ["ns1.example.net"])),
    ]

    /// The stored memory of the domain after a poll of `before` (its hash and its state then).
    static func memory(_ classifier: Classifier) throws -> [Int64: PollMemory] {
        let answers = before.compactMapValues(\.answer)
        let first = try planner(batch(before), version: classifier.version)
            .plan(memory: [:], heads: [:], cachedASNs: [:], everSeen: [:], classifier: classifier)
        let state = try #require(first.states.first?.state)
        return [7: PollMemory(answerHash: PollPlanner.hash(answers), state: StoredState(state: state, classifierVersion: classifier.version))]
    }

    @Test func unchangedAnswersOnlyExtendTheHeadsAndMarkPolled() throws {
        let classifier = try Self.classifier.get()
        let plan = try Self.planner(Self.batch(Self.before), version: classifier.version)
            .plan(memory: try Self.memory(classifier), heads: Self.heads, cachedASNs: [:], everSeen: [:], classifier: classifier)
        #expect(plan.extendHeads == [ExtendHeads(domainIDs: [7], types: [.a, .aaaa, .ns])])
        #expect(plan.polled == [PolledDomain(domainID: 7, nextDue: Self.now + 3600,
                                             answerHash: PollPlanner.hash(Self.before.compactMapValues(\.answer)))])
        #expect(plan.extendSpans.isEmpty && plan.startSpans.isEmpty && plan.states.isEmpty && plan.transitions.isEmpty && plan.failures.isEmpty)
        var counts = PollCounts()
        counts.domains = 1
        counts.queries = 3
        counts.answers = 3
        #expect(plan.counts == counts)
        #expect(plan.pollID == 3 && plan.time == Self.now && plan.classifierVersion == classifier.version)
    }

    @Test func aChangedAddressStartsASpanAndAnAlertedTransition() throws {
        let classifier = try Self.classifier.get()
        var now = Self.before
        now[.a] = .answer(Answer(status: .noerror, rdata: ["45.0.122.10"]))
        let planner = Self.planner(Self.batch(now), version: classifier.version)
        let plan = try planner.plan(memory: try Self.memory(classifier), heads: Self.heads, cachedASNs: [:],
                                    everSeen: [7: ["45.0.121.9"]], classifier: classifier)
        #expect(plan.extendHeads.isEmpty)
        #expect(plan.extendSpans == [12, 13])
        #expect(plan.startSpans.map { "\($0.domainID) \($0.rrtype.rawValue) \($0.status.rawValue) \($0.rdata)" } == ["7 A NOERROR [\"45.0.122.10\"]"])
        #expect(plan.states.isEmpty)  // unknown before, unknown now
        #expect(plan.transitions.map(\.type) == ["new-ip"])
        let alert = try #require(plan.transitions.first?.alert)
        #expect("\(alert.domain) \(alert.list) \(alert.kind) \(alert.type) \(alert.sinks)" == "c2.example watch c2 new-ip [\"stdout\"]")
        let payload = try alert.payload(42)
        #expect(payload.hasPrefix("{") && payload.contains("\"id\":42,") && payload.contains("\"new_addresses\":[\"45.0.122.10\"]"))
        #expect(plan.counts.changes == 1 && plan.counts.alerts == 1)
        // Without the addresses ever seen (the set grew), there is no plan.
        #expect(throws: PollPlanner.MissingRead.self) {
            try planner.plan(memory: try Self.memory(classifier), heads: Self.heads, cachedASNs: [:], everSeen: [:], classifier: classifier)
        }
    }

    @Test func anIncompleteViewWritesSpansOnly() throws {
        let classifier = try Self.classifier.get()
        var now = Self.before
        now[.a] = .answer(Answer(status: .noerror, rdata: ["45.0.122.10"]))
        now[.ns] = .failure(.servfail)
        var heads = Self.heads
        heads[HeadKey(domainID: 7, rrtype: .ns)] = nil  // NS never answered: the view is not complete
        let plan = try Self.planner(Self.batch(now), version: classifier.version)
            .plan(memory: try Self.memory(classifier), heads: heads, cachedASNs: [:], everSeen: [:], classifier: classifier)
        #expect(plan.startSpans.map(\.rrtype) == [.a])
        #expect(plan.failures == [PlannedFailure(domainID: 7, rrtype: .ns, kind: .servfail)])
        #expect(plan.states.isEmpty && plan.transitions.isEmpty)
        #expect(plan.counts.changes == 1 && plan.counts.alerts == 0 && plan.counts.failures == 1)
        // An address of unknown origin makes it incomplete too.
        let unknown = try Self.planner(Self.batch(Self.before.merging([.a: .answer(Answer(status: .noerror, rdata: ["45.0.122.10"]))]) { $1 },
                                                  asnUnknown: ["45.0.122.10"]), version: classifier.version)
            .plan(memory: try Self.memory(classifier), heads: Self.heads, cachedASNs: [:], everSeen: [:], classifier: classifier)
        #expect(unknown.startSpans.map(\.rrtype) == [.a] && unknown.transitions.isEmpty)
    }

    @Test func aCNAMEChainThatIsGoneEndsAsNODATA() throws {
        let classifier = try Self.classifier.get()
        var heads = Self.heads
        heads[HeadKey(domainID: 7, rrtype: .cname)] = Self.head(14, .noerror, ["edge.example.net"])
        let plan = try Self.planner(Self.batch(Self.before), version: classifier.version)
            .plan(memory: [:], heads: heads, cachedASNs: [:], everSeen: [:], classifier: classifier)
        #expect(plan.startSpans.map { "\($0.rrtype.rawValue) \($0.status.rawValue) \($0.rdata)" } == ["CNAME NODATA []"])
        #expect(plan.extendSpans == [11, 12, 13])
    }

    @Test func allLookupsFailedRecordsTheFailureOnly() throws {
        let classifier = try Self.classifier.get()
        let plan = try Self.planner(Self.batch([:]), version: classifier.version)
            .plan(memory: try Self.memory(classifier), heads: Self.heads, cachedASNs: [:], everSeen: [:], classifier: classifier)
        // The last failed type is the one remembered; the domain stays due.
        #expect(plan.failures == [PlannedFailure(domainID: 7, rrtype: .ns, kind: .timeout)])
        #expect(plan.polled.isEmpty && plan.extendHeads.isEmpty && plan.extendSpans.isEmpty && plan.startSpans.isEmpty)
        #expect(plan.states.isEmpty && plan.transitions.isEmpty)
        #expect(plan.counts.failures == 3 && plan.counts.answers == 0 && plan.counts.domains == 1)
    }

    @Test func aFreshOriginTakesTheFullPathAndAnUnaskedNameIsOnlyMarkedPolled() throws {
        let classifier = try Self.classifier.get()
        var batch = Self.batch(Self.before)
        batch.freshASN = ["45.0.121.9"]
        let onion = PollTarget(domainID: 8, name: "x.onion", memberships: [Membership(list: "watch", kind: .c2, interval: 600)])
        batch.unasked = [onion]
        let plan = try Self.planner(batch, version: classifier.version)
            .plan(memory: try Self.memory(classifier), heads: Self.heads, cachedASNs: [:], everSeen: [:], classifier: classifier)
        // Same answers, but the address's origin was learnt again: its heads are compared, not extended blind.
        #expect(plan.extendHeads.isEmpty)
        #expect(plan.extendSpans == [11, 12, 13] && plan.startSpans.isEmpty)
        #expect(plan.polled.map(\.domainID) == [7, 8])
        #expect(plan.polled.last == PolledDomain(domainID: 8, nextDue: Self.now + 600, answerHash: nil))
        #expect(plan.counts.domains == 1 && plan.counts.changes == 0)
    }
}
