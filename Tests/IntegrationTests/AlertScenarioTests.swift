import Classification
import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Investigation
import Poller
import TestWorlds
import Testing
import TestSupport

@Suite(.serialized) struct AlertScenarioTests {
    /// Parked at Sedo → a new host: one `activation` alert, critical on a c2 list, with both sides.
    @Test func parkedToNewHostIsCriticalActivation() async throws {
        let w = try World(records: World.parkedRecords("c2.example"))
        try await w.watch(["c2.example"], list: "ursnif", kind: .c2)
        try await w.poll(at: 100)
        #expect(w.sink.received.isEmpty)
        try w.set("c2.example", ["c2.example. 300 IN A 45.0.121.77", "c2.example. 300 IN NS ns1.bulletproof.example."])
        let s = try await w.poll(at: 200)
        #expect(s.counts.alerts == 1)
        let alert = try #require(w.sink.received.first)
        #expect(w.sink.received.count == 1)
        #expect(alert["type"] as? String == "activation")
        #expect(alert["severity"] as? String == "critical")
        #expect(alert["list"] as? String == "ursnif" && alert["kind"] as? String == "c2")
        #expect(alert["domain"] as? String == "c2.example")
        #expect(alert["rrtype"] as? String == "A")
        let from = try #require(alert["from"] as? [String: Any]), to = try #require(alert["to"] as? [String: Any])
        #expect(from["class"] as? String == "parked" && from["provider"] as? String == "Sedo")
        #expect(from["rdata"] as? [String] == [World.sedoA])
        #expect(to["class"] as? String == "unknown" && to["rdata"] as? [String] == ["45.0.121.77"])
        #expect((alert["details"] as? [String])?.contains { $0.hasPrefix("NS set") } == true)
        // stored too, with the same payload
        let stored = try await w.store.alerts()
        #expect(stored.count == 1 && stored[0].severityRank == 4)
        // nothing more on an unchanged poll
        try await w.poll(at: 300)
        #expect(w.sink.received.count == 1)
    }

    struct Case: Sendable, CustomStringConvertible {
        let type: String, kind: ListKind, before: [String], after: [String], severity: String
        var description: String { type }
    }

    static let cases: [Case] = [
        Case(type: "sinkholed", kind: .c2, before: ["d.example. 300 IN A 45.0.121.77"],
             after: ["d.example. 300 IN A 216.218.185.162"], severity: "low"),
        Case(type: "registered", kind: .expired, before: [],
             after: World.parkedRecords("d.example"), severity: "high"),
        Case(type: "registered", kind: .c2, before: [],
             after: ["d.example. 300 IN A 45.0.121.77"], severity: "critical"),
        Case(type: "unresolved", kind: .owned, before: ["d.example. 300 IN A 198.51.100.7"],
             after: [], severity: "high"),
        Case(type: "parked", kind: .owned, before: ["d.example. 300 IN A 198.51.100.7"],
             after: World.parkedRecords("d.example"), severity: "high"),
        Case(type: "dormant", kind: .c2, before: ["d.example. 300 IN A 45.0.121.77"],
             after: ["d.example. 300 IN A 127.0.0.1"], severity: "low"),
        Case(type: "moved", kind: .owned, before: ["d.example. 300 IN A 198.51.100.7"],
             after: ["d.example. 300 IN A 45.0.121.77"], severity: "critical"),
        Case(type: "activation", kind: .expired, before: World.parkedRecords("d.example"),
             after: ["d.example. 300 IN A 45.0.121.77"], severity: "high"),
        Case(type: "new-ip", kind: .c2, before: ["d.example. 300 IN A 45.0.121.77"],
             after: ["d.example. 300 IN A 45.0.121.99"], severity: "high"),
        Case(type: "ns-change", kind: .owned,
             before: ["d.example. 300 IN A 198.51.100.7", "d.example. 300 IN NS ns1.corp.example."],
             after: ["d.example. 300 IN A 198.51.100.7", "d.example. 300 IN NS ns1.hijacker.example."], severity: "high"),
        Case(type: "ns-change", kind: .c2,
             before: ["d.example. 300 IN A 45.0.121.77", "d.example. 300 IN NS ns1.host.example."],
             after: ["d.example. 300 IN A 45.0.121.77", "d.example. 300 IN NS ns2.other.example."], severity: "medium"),
        Case(type: "changed", kind: .c2, before: ["d.example. 300 IN A 45.0.121.77"],
             after: ["d.example. 300 IN A 198.51.100.7"], severity: "medium"),
    ]

    @Test(arguments: cases)
    func eachAlertTypeFiresInItsCase(_ c: Case) async throws {
        let w = try World(records: c.before)
        try await w.watch(["d.example"], list: "l", kind: c.kind)
        try await w.poll(at: 100)
        #expect(w.sink.received.isEmpty, "baseline is silent")
        try w.unbound.removeLocalData(["d.example"])
        try w.unbound.addLocalData(c.after)
        try await w.poll(at: 200)
        #expect(w.sink.types == [c.type])
        #expect(w.sink.received.first?["severity"] as? String == c.severity)
        try await w.poll(at: 300)
        #expect(w.sink.received.count == 1, "an unchanged poll raises nothing")
    }

    @Test func newFingerprintsAreNoTransitionButLaterChangesCompareLikeWithLike() async throws {
        let w = try World(records: ["n.example. 300 IN NS ns1.newparker.example.", "n.example. 300 IN A 45.0.121.5"])
        try await w.watch(["n.example"], list: "l", kind: .c2)
        try await w.poll(at: 100)
        let extra = try FingerprintSet(tsv: "NewParker\tns\t*.newparker.example\tparking\ttest\n", origin: "test")
        let newer = Classifier(fingerprints: try FingerprintSet.embedded().merging(extra))
        _ = try await w.poller(classifier: newer).poll(clock: { 200 })
        #expect(w.sink.received.isEmpty, "new data files are not a change on the wire")
        await #expect(try w.store.state(of: "n.example") == DomainState(class: .parked, provider: "NewParker"))
        // An address change under the new data: parked → still parked, no alert (the NS still parks it).
        try w.set("n.example", ["n.example. 300 IN NS ns1.newparker.example.", "n.example. 300 IN A 45.0.121.6"])
        _ = try await w.poller(classifier: newer).poll(clock: { 300 })
        #expect(w.sink.received.isEmpty)
        // Back to the old data: the domain leaves parking by the data alone, again without an alert.
        try await w.poll(at: 400)
        #expect(w.sink.received.isEmpty)
        await #expect(try w.store.state(of: "n.example") == DomainState(class: .unknown))
    }

    @Test func anIncompleteFirstPollIsNoBaseline() async throws {
        let w = try World(records: ["l.example. 300 IN A 45.0.121.77", "l.example. 300 IN NS ns1.host.example."])
        try await w.watch(["l.example"], list: "l", kind: .c2)
        // Only NS known: no state yet (a state from the NS alone would say nodata, and the next full poll
        // would take the domain's addresses for an activation).
        _ = try await w.poller(types: [.ns]).poll(clock: { 100 })
        await #expect(try w.store.state(of: "l.example") == nil)
        try await w.poll(at: 200)
        await #expect(try w.store.state(of: "l.example") == DomainState(class: .unknown))
        #expect(w.sink.received.isEmpty, "the first complete view is the baseline")
    }

    @Test func aFailedOriginLookupDefersTheStateInsteadOfAlerting() async throws {
        // 45.0.121.50 is parked at Sedo only by its origin AS (47846) in this world, not by an address fingerprint.
        let w = try World(records: ["s.example. 300 IN A 45.0.121.50"])
        try await w.watch(["s.example"], list: "l", kind: .c2)
        try w.unbound.removeLocalZone("cymru.com.")  // origin lookups now REFUSED: failures
        let first = try await w.poll(at: 100)
        #expect(first.counts.failures == 1, "the failed origin lookup is counted")
        await #expect(try w.store.state(of: "s.example") == nil, "not classifiable yet")
        try w.unbound.addLocalZone("cymru.com.", type: "static")
        try w.unbound.addLocalData(["50.121.0.45.origin.asn.cymru.com. 300 IN TXT \"47846 | 45.0.121.0/24 | DE | ripencc | 2015-01-01\""])
        try await w.poll(at: 200)
        await #expect(try w.store.cachedASN(["45.0.121.50"], now: 200)["45.0.121.50"]?.asn == 47846)
        await #expect(try w.store.state(of: "s.example") == DomainState(class: .parked, provider: "Sedo"))
        #expect(w.sink.received.isEmpty, "baseline, no false parked alert")
        try w.set("s.example", ["s.example. 300 IN A 45.0.121.77"])
        try await w.poll(at: 300)
        #expect(w.sink.types == ["activation"])
    }

    @Test func triageOfAC2DomainRemembersItWasLive() async throws {
        let w = try World(records: ["flip.example. 300 IN A 45.0.121.77", "calm.example. 300 IN A 45.0.121.78"])
        try await w.watch(["flip.example"], list: "ursnif", kind: .c2)
        try await w.watch(["calm.example"], list: "ours", kind: .owned)
        try await w.poll(at: 100)
        try w.set("flip.example", World.parkedRecords("flip.example"))
        try await w.poll(at: 200)
        let triage = Triage(store: w.store, classifier: w.classifier)
        let flip = try await triage.domain(try DomainName("flip.example"), asnOf: { _ in nil })
        #expect(flip.class == .known(.parked) && flip.provider == "Sedo")
        #expect(flip.verdict == .maliciousHistory, "parked now, but it was live: \(flip.reason)")
        #expect(flip.reason.contains("45.0.121.77"))
        let calm = try await triage.domain(try DomainName("calm.example"), asnOf: { _ in nil })
        #expect(calm.verdict == .unknown && calm.fanIn == 0)
    }

    @Test func moveInsideSedoIsHistoryOnly() async throws {
        let w = try World(records: World.parkedRecords("s.example"))
        try await w.watch(["s.example"], list: "l", kind: .c2)
        try await w.poll(at: 100)
        try w.set("s.example", ["s.example. 300 IN A 91.195.241.7", "s.example. 300 IN NS ns1.sedoparking.com.",
                                "s.example. 300 IN NS ns2.sedoparking.com."])
        try await w.poll(at: 200)
        #expect(w.sink.received.isEmpty)
        await #expect(try w.store.history(domain: "s.example", type: .a).count == 2)
    }

    @Test func failedSinkKeepsTheAlertQueuedUntilItRecovers() async throws {
        let sink = CaptureSink(key: "flaky", failing: 2)
        let w = try World(records: World.parkedRecords("f.example"), sink: sink)
        try await w.watch(["f.example"], list: "l", kind: .c2)
        try await w.poll(at: 100)
        try w.set("f.example", ["f.example. 300 IN A 45.0.121.77"])
        let first = try await w.poll(at: 200)
        #expect(first.counts.alerts == 1 && first.deliveryFailures == 1)
        #expect(sink.received.isEmpty)
        await #expect(try w.store.pendingCount() == 1)
        let second = try await w.poll(at: 300)
        #expect(second.deliveryFailures == 1 && sink.received.isEmpty)
        try await w.poll(at: 400)
        #expect(sink.types == ["activation"])
        try await w.poll(at: 500)
        #expect(sink.received.count == 1, "delivered exactly once")
        await #expect(try w.store.pendingCount() == 0)
    }

    @Test func triageParkingSharedByManyVersusAnAddressOnlyOneC2Used() async throws {
        let w = try World(records: World.parkedRecords("p1.example") + World.parkedRecords("p2.example")
            + World.parkedRecords("p3.example") + ["c2only.example. 300 IN A 45.0.121.77"])
        try await w.watch(["p1.example", "p2.example", "p3.example", "c2only.example"], list: "ursnif", kind: .c2)
        try await w.poll(at: 100)
        let triage = Triage(store: w.store, classifier: w.classifier)
        let asn = try await w.store.cachedASN([World.sedoA], now: 100)[World.sedoA]?.asn
        #expect(asn == 47846, "the origin ASN came from the DNS lookup during the poll")
        let parked = try await triage.address(IPAddress(World.sedoA)!, asn: asn)
        #expect(parked.class == .known(.parked) && parked.provider == "Sedo")
        #expect(parked.fanIn == 3 && parked.domains.map(\.domain) == ["p1.example", "p2.example", "p3.example"])
        #expect(parked.verdict == .likelyFalsePositive)
        #expect(parked.reason.contains("Sedo") && parked.reason.contains("AS47846"))
        let c2 = try await triage.address(IPAddress("45.0.121.77")!, asn: nil)
        #expect(c2.class == .known(.unknown) && c2.fanIn == 1)
        #expect(c2.verdict == .maliciousHistory)
        let none = try await triage.address(IPAddress("45.0.121.200")!, asn: nil)
        #expect(none.verdict == .noHistory && none.class == .known(.unknown), "nothing resolved into it, nothing classifies it: \(none.reason)")
    }
}
