import DNSWatchModel
import Store
import Testing
import TestSupport

/// The list rules both backends write, once in Store: a list's header and kind default, an entry given
/// twice, and memberships grouped by domain.
@Suite struct ListRuleTests {
    let stored = ListHeader(kind: .owned, interval: 600, description: "ours")

    @Test func aNewListTakesTheSpecItsKindDefaultingToC2() {
        #expect(ListSpec(name: "l").header(over: nil, replacing: false) == ListHeader(kind: .c2, interval: nil, description: nil))
        #expect(ListSpec(name: "l", kind: .expired, interval: 60, description: "d").header(over: nil, replacing: true)
            == ListHeader(kind: .expired, interval: 60, description: "d"))
    }

    @Test func anAddChangesOnlyWhatTheSpecGives() {
        #expect(ListSpec(name: "l").header(over: stored, replacing: false) == stored)
        #expect(ListSpec(name: "l", interval: 60).header(over: stored, replacing: false)
            == ListHeader(kind: .owned, interval: 60, description: "ours"))
    }

    @Test func aSyncSetsTheHeaderExactlyAsTheFileSays() {
        #expect(ListSpec(name: "l").header(over: stored, replacing: true) == ListHeader(kind: .c2, interval: nil, description: nil))
        #expect(ListSpec(name: "l", kind: .expired).header(over: stored, replacing: true)
            == ListHeader(kind: .expired, interval: nil, description: nil))
    }

    @Test func aDomainGivenTwiceIsStoredOnceAsItsFirstEntry() throws {
        let a = try DomainName("a.example"), b = try DomainName("b.example")
        #expect(ListEntry.distinct([ListEntry(domain: b), ListEntry(domain: a, note: "first"), ListEntry(domain: b, note: "x"),
                                    ListEntry(domain: a, note: "second")])
            == [ListEntry(domain: b), ListEntry(domain: a, note: "first")])
    }

    @Test func membershipsAreGroupedByDomainEachByListBytewise() {
        func m(_ domain: String, _ list: String) -> WatchedDomain {
            WatchedDomain(domain: domain, list: list, kind: .c2, interval: nil, added: 1, note: nil)
        }
        let grouped = WatchedDomain.byDomain([m("a.example", "beta"), m("b.example", "x"), m("a.example", "Alpha"), m("a.example", "alpha")])
        #expect(grouped.mapValues { $0.map(\.list) } == ["a.example": ["Alpha", "alpha", "beta"], "b.example": ["x"]])
    }

    @Test func claimRowsBecomeOneTargetPerDomainEachListDecodedOnce() {
        var decoded: [Int64] = []
        var rows = PollTargetRows()
        for (domain, name, list) in [(Int64(3), "a.example", Int64(10)), (3, "a.example", 11), (5, "b.example", 10)] {
            rows.add(domainID: domain, name: { name }, listID: list) {
                decoded.append(list)
                return Membership(list: "l\(list)", kind: list == 10 ? .c2 : .owned, interval: nil)
            }
        }
        #expect(rows.targets == [
            PollTarget(domainID: 3, name: "a.example", memberships: [Membership(list: "l10", kind: .c2, interval: nil),
                                                                      Membership(list: "l11", kind: .owned, interval: nil)]),
            PollTarget(domainID: 5, name: "b.example", memberships: [Membership(list: "l10", kind: .c2, interval: nil)]),
        ])
        #expect(decoded == [10, 11])
    }

    /// Both backends apply the header rule: a sync without a kind makes the list c2 again; an add keeps it.
    @Test(arguments: Backend.allCases)
    func bothBackendsWriteTheHeaderRule(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["a.example"], list: "l", kind: .owned, interval: 600)
            _ = try await store.addEntries([], to: ListSpec(name: "l", description: "d"), now: 2)
            await #expect(try store.watchedDomains(list: "l").map { "\($0.kind) \($0.interval ?? 0)" } == ["owned 600"])
            _ = try await store.sync([(ListSpec(name: "l"), [ListEntry(domain: try DomainName("a.example"))])], now: 3)
            await #expect(try store.watchedDomains(list: "l").map { "\($0.kind) \($0.interval ?? 0)" } == ["c2 0"])
        }
    }

    /// Both backends group memberships by domain, each domain's by list (bytes), retired ones too.
    @Test(arguments: Backend.allCases)
    func bothBackendsGroupMemberships(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["a.example"], list: "beta")
            try await watch(store, ["a.example", "b.example"], list: "Alpha", kind: .expired)
            try await watch(store, ["a.example"], list: "alpha")
            _ = try await store.remove([try DomainName("a.example")], list: "alpha", now: 2)
            let grouped = try await store.memberships(of: ["a.example", "b.example", "c.example"])
            #expect(grouped.mapValues { $0.map { "\($0.list) \($0.kind) \($0.retired ?? 0)" } } == [
                "a.example": ["Alpha expired 0", "alpha c2 2", "beta c2 0"],
                "b.example": ["Alpha expired 0"],
            ])
        }
    }
}
