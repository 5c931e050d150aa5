import Classification
import DNSWatchModel
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport
import TestWorlds

/// `reclassify`: after the classification data changed, every span's class and every domain's state are
/// derived again from the stored answers; the answers stay, and no alert is raised.
@Suite struct ReclassifyContractTests {
    @Test(arguments: Backend.allCases)
    func newDataChangesClassesAndStatesButRaisesNoAlert(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["mine.example", "other.example"])
            let dns = ScriptedDNS()
            dns.set("mine.example", .a, ["45.0.121.9"])
            dns.set("other.example", .a, ["45.0.122.9"])
            try await poll(store, dns, at: 100)
            await #expect(try store.state(of: "mine.example") == DomainState(class: .unknown))
            let before = try await store.spans("mine.example")

            // The user declares 45.0.121.0/24 their own.
            let owned = Classifier(fingerprints: try .embedded(), owned: OwnedInfrastructure(cidrs: [CIDR("45.0.121.0/24")!]))
            let result = try await Reclassifier(store: store, holding: nil, classifier: owned).run()
            #expect(result.spans == 6, "A, AAAA and NS of two domains")
            #expect(result.changedSpans == 1 && result.changedStates == 1, "\(result)")
            let after = try await store.spans("mine.example")
            #expect(after.map(\.class) == [.owned, .nodata, .nodata])
            #expect(after.map(\.rdata) == before.map(\.rdata) && after.map(\.count) == before.map(\.count), "the answers stay")
            await #expect(try store.state(of: "mine.example") == DomainState(class: .owned))
            await #expect(try store.state(of: "other.example") == DomainState(class: .unknown))
            await #expect(try store.alerts(since: nil, minRank: 0).isEmpty, "a change of data is no change on the wire")
        }
    }
}

/// The store writes a re-derived state only while the stored one is still the one read: on PostgreSQL a
/// poll may write a state between `reclassify`'s read and its write, and the poll's (from fresher answers) stays.
@Suite struct ReclassifyApplyContractTests {
    @Test(arguments: Backend.allCases)
    func aStateIsWrittenOnlyOverTheOneRead(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["mine.example"])
            let dns = ScriptedDNS()
            dns.set("mine.example", .a, ["45.0.121.9"])
            try await poll(store, dns, at: 100)
            let rows = try await store.reclassifyStates(afterID: 0, limit: 10)
            let row = try #require(rows.count == 1 ? rows.first : nil, "\(rows)")
            #expect(row.stored.state == DomainState(class: .unknown))

            var other = row.stored
            other.classifierVersion = "written by a poll since"
            let stale = StateUpdate(domainID: row.domainID, stored: other, state: DomainState(class: .owned))
            let none = try await store.applyReclassify(ReclassifyPlan(classifierVersion: "v2", at: 200, states: [stale]))
            #expect(none.isEmpty)
            await #expect(try store.state(of: "mine.example") == DomainState(class: .unknown))

            let fresh = StateUpdate(domainID: row.domainID, stored: row.stored, state: DomainState(class: .owned))
            let written = try await store.applyReclassify(ReclassifyPlan(classifierVersion: "v2", at: 200, states: [fresh]))
            #expect(written == [row.domainID])
            await #expect(try store.state(of: "mine.example") == DomainState(class: .owned))
            let after = try await store.reclassifyStates(afterID: 0, limit: 10)
            #expect(after == [DomainStateRow(domainID: row.domainID, stored: StoredState(state: DomainState(class: .owned), classifierVersion: "v2"))])
        }
    }
}

/// The pure step of `reclassify`: what a batch's plan holds, from the raw answers, the current spans and
/// the cached origin ASNs, without a store.
@Suite struct ReclassifyPlanTests {
    let owned = Result { Classifier(fingerprints: try .embedded(), owned: OwnedInfrastructure(cidrs: [CIDR("45.0.121.0/24")!])) }

    func head(_ id: Int64, _ status: AnswerStatus, _ rdata: [String], _ cls: DomainClass) -> HeadSpan {
        HeadSpan(spanID: id, status: status, rdataText: RdataCodec.encode(rdata), class: cls, provider: nil)
    }

    @Test func spanClassesAreDerivedFromTheAnswersAndCountChangedCurrentSpans() throws {
        let classifier = try owned.get()
        let spans = [
            RawSpan(id: 1, domainID: 1, rrtype: .a, status: .noerror, rdata: ["45.0.121.9"]),   // current: unknown → owned
            RawSpan(id: 2, domainID: 1, rrtype: .a, status: .noerror, rdata: ["45.0.121.8"]),   // not current
            RawSpan(id: 3, domainID: 2, rrtype: .a, status: .noerror, rdata: ["45.0.122.9"]),   // current: stays unknown
            RawSpan(id: 4, domainID: 2, rrtype: .aaaa, status: .nodata, rdata: []),
        ]
        let heads = [HeadKey(domainID: 1, rrtype: .a): head(1, .noerror, ["45.0.121.9"], .unknown),
                     HeadKey(domainID: 2, rrtype: .a): head(3, .noerror, ["45.0.122.9"], .unknown),
                     HeadKey(domainID: 2, rrtype: .aaaa): head(4, .nodata, [], .nodata)]
        let derived = Reclassifier.spanClasses(spans, heads: heads, asn: [:], classifier: classifier)
        #expect(derived.updates.map(\.spanID) == [1, 2, 3, 4])
        #expect(derived.updates.map(\.class) == [.owned, .owned, .unknown, .nodata])
        #expect(derived.changedCurrent == 1, "only span 1 is current and changed")
    }

    @Test func statesChangeWhereTheViewOrTheVersionDiffers() throws {
        let classifier = try owned.get()
        var heads: [HeadKey: HeadSpan] = [:]
        for (d, address) in [(Int64(1), "45.0.121.9"), (2, "45.0.122.9"), (3, "45.0.122.10")] {
            heads[HeadKey(domainID: d, rrtype: .a)] = head(d * 10, .noerror, [address], .unknown)
            heads[HeadKey(domainID: d, rrtype: .aaaa)] = head(d * 10 + 1, .nodata, [], .nodata)
            heads[HeadKey(domainID: d, rrtype: .ns)] = head(d * 10 + 2, .nodata, [], .nodata)
        }
        let unknown = DomainState(class: .unknown)
        let stored = [DomainStateRow(domainID: 1, stored: StoredState(state: unknown, classifierVersion: classifier.version)),
                      DomainStateRow(domainID: 2, stored: StoredState(state: unknown, classifierVersion: classifier.version)),
                      DomainStateRow(domainID: 3, stored: StoredState(state: unknown, classifierVersion: "older"))]
        let updates = Reclassifier.states(stored, heads: heads, asn: [:], classifier: classifier)
        #expect(updates == [StateUpdate(domainID: 1, stored: stored[0].stored, state: DomainState(class: .owned)),
                            StateUpdate(domainID: 3, stored: stored[2].stored, state: unknown)],
                "1: its address is owned now; 2: nothing to write; 3: the same state under the new version")
    }
}
