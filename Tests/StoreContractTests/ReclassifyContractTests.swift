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
