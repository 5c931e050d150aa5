import Classification
import DNSWatchModel
import Detection
import Foundation
@testable import Poller
import Store
import Testing

/// Confirmation and flap damping in the planner (docs/detection.md): no database, `PollPlannerTests`' domain.
@Suite struct TrustPlannerTests {
    typealias P = PollPlannerTests
    static let sedoA: Outcome = .answer(Answer(status: .noerror, rdata: ["91.195.240.94"]))
    static let sedoNS: Outcome = .answer(Answer(status: .noerror, rdata: ["ns1.sedoparking.com", "ns2.sedoparking.com"]))

    /// The domain's answers now: parked at Sedo (it was on 45.0.121.9 with ns1.example.net).
    static var parked: [RRType: Outcome] { P.before.merging([.a: sedoA, .ns: sedoNS]) { $1 } }

    static func look(_ outcomes: [RRType: Outcome], server: String) -> Look {
        Look(answers: outcomes.compactMapValues(\.answer), servers: outcomes.mapValues { _ in server })
    }

    @Test func aChangeOneResolverSeesAndAnotherDoesNotIsKeptAsideUnalerted() throws {
        let classifier = try P.classifier.get()
        let confirmation = Confirmation(looks: [Self.look(Self.parked, server: "a:53"), Self.look(P.before, server: "b:53")])
        let plan = try P.planner(P.batch(Self.parked), version: classifier.version)
            .plan(memory: try P.memory(classifier), heads: P.heads, cachedASNs: [:], everSeen: [7: ["45.0.121.9"]], classifier: classifier,
                  confirmations: [7: confirmation])
        #expect(plan.transitions.isEmpty && plan.states.isEmpty && plan.startSpans.isEmpty && plan.counts.alerts == 0)
        #expect(plan.extendSpans == [11, 12, 13], "the heads the other resolver saw again")
        #expect(plan.polled.first?.answerHash == nil, "looked at again next poll")
        let memory = try #require(plan.alerting.first?.memory)
        #expect(memory.disagreementPolls == 1 && !memory.disagreementAlerted)
        let kept = try JSONDecoder().decode(UnconfirmedObservation.self, from: Data(try #require(memory.unconfirmedJSON).utf8))
        #expect(kept.observations.map(\.state.class) == [.parked, .parked, .unknown])
        #expect(kept.observations.map(\.resolvers) == [[], ["a:53"], ["b:53"]])
    }

    @Test func theThirdPollOfADisagreementAlertsItOnce() throws {
        let classifier = try P.classifier.get()
        var memory = try P.memory(classifier)
        memory[7]?.alerting = AlertingMemory(disagreementPolls: 2)
        let confirmation = Confirmation(looks: [Self.look(Self.parked, server: "a:53"), Self.look(P.before, server: "b:53")])
        let planner = P.planner(P.batch(Self.parked), version: classifier.version)
        let plan = try planner.plan(memory: memory, heads: P.heads, cachedASNs: [:], everSeen: [7: ["45.0.121.9"]], classifier: classifier,
                                    confirmations: [7: confirmation])
        #expect(plan.transitions.map(\.type) == ["disagreement"])
        let alert = try #require(plan.transitions.first?.alert)
        #expect(alert.type == "disagreement" && alert.severity == "medium")
        #expect(try alert.payload(1).contains("\"resolvers\":[\"a:53\",\"b:53\"]"))
        #expect(plan.alerting.first?.memory.disagreementAlerted == true)
        memory[7]?.alerting = AlertingMemory(disagreementPolls: 3, disagreementAlerted: true)
        let again = try planner.plan(memory: memory, heads: P.heads, cachedASNs: [:], everSeen: [7: ["45.0.121.9"]], classifier: classifier,
                                     confirmations: [7: confirmation])
        #expect(again.transitions.isEmpty && again.alerting.first?.memory.disagreementPolls == 4)
    }

    @Test func twoResolversSeeingTheChangeConfirmItAndTheAlertNamesThem() throws {
        let classifier = try P.classifier.get()
        // The other resolver gives another Sedo address: the state is compared, not the addresses.
        let other = Self.parked.merging([.a: .answer(Answer(status: .noerror, rdata: ["91.195.240.95"]))]) { $1 }
        let confirmation = Confirmation(looks: [Self.look(Self.parked, server: "a:53"), Self.look(other, server: "b:53")])
        let plan = try P.planner(P.batch(Self.parked), version: classifier.version)
            .plan(memory: try P.memory(classifier), heads: P.heads, cachedASNs: [:], everSeen: [7: ["45.0.121.9"]], classifier: classifier,
                  confirmations: [7: confirmation])
        #expect(plan.transitions.map(\.type) == ["parked"] && plan.states.map(\.state.class) == [.parked])
        #expect(try plan.transitions.first?.alert?.payload(1).contains("\"resolvers\":[\"a:53\",\"b:53\"]") == true)
        #expect(plan.alerting.first?.memory.penalty == 1000, "a confirmed change adds to the damping penalty")
    }

    @Test func whenSuppressionEndsTheStateReachedIsAlertedIfItDiffersFromTheLastAlerted() throws {
        let classifier = try P.classifier.get()
        // Held back since long ago, the last alerted view being the one before (45.0.121.9): the penalty has
        // decayed below the reuse limit, and the domain is now parked (its memory's answer hash is stale).
        var memory = try P.memory(classifier)
        let before = PollPlanner.view(domainID: 7, answers: P.before.compactMapValues(\.answer), heads: [:],
                                      cache: ClassificationCache(classifier: classifier, asn: [:]))
        let json = String(decoding: try JSONEncoder().encode(before), as: UTF8.self)
        memory[7]?.alerting = AlertingMemory(penalty: 3000, penaltyTime: P.now - 24 * 3600, suppressedSince: P.now - 24 * 3600,
                                             alertedViewJSON: json)
        var parkedHeads = P.heads
        parkedHeads[HeadKey(domainID: 7, rrtype: .a)] = P.head(21, .noerror, ["91.195.240.94"])
        parkedHeads[HeadKey(domainID: 7, rrtype: .ns)] = P.head(23, .noerror, ["ns1.sedoparking.com", "ns2.sedoparking.com"])
        memory[7]?.answerHash = PollPlanner.hash(Self.parked.compactMapValues(\.answer))
        let plan = try P.planner(P.batch(Self.parked), version: classifier.version)
            .plan(memory: memory, heads: parkedHeads, cachedASNs: [:], everSeen: [7: ["45.0.121.9", "91.195.240.94"]], classifier: classifier)
        #expect(plan.transitions.map(\.type) == ["parked"], "the catch-up alert: 45.0.121.9 then, parked now")
        #expect(plan.counts.alerts == 1)
        let after = try #require(plan.alerting.first?.memory)
        #expect(after.suppressedSince == nil && after.alertedViewJSON == nil)
        // Back where it was alerted: suppression ends quietly.
        memory[7]?.alerting?.alertedViewJSON = String(decoding: try JSONEncoder().encode(
            PollPlanner.view(domainID: 7, answers: Self.parked.compactMapValues(\.answer), heads: [:],
                             cache: ClassificationCache(classifier: classifier, asn: [:]))), as: UTF8.self)
        let quiet = try P.planner(P.batch(Self.parked), version: classifier.version)
            .plan(memory: memory, heads: parkedHeads, cachedASNs: [:], everSeen: [7: ["45.0.121.9", "91.195.240.94"]], classifier: classifier)
        #expect(quiet.transitions.isEmpty && quiet.alerting.first?.memory.suppressedSince == nil)
    }
}
