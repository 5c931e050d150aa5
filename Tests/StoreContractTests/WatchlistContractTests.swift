import DNSWatchModel
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport

/// The `watch` commands' store: add, sync, remove and list.
@Suite struct WatchlistContractTests {
    @Test(arguments: Backend.allCases)
    func addSyncRemoveAndList(backend: Backend) async throws {
        try await withStore(backend) { store in
            let a = try DomainName("a.example"), b = try DomainName("b.example"), c = try DomainName("c.example")
            var counts = try await store.addEntries([ListEntry(domain: a), ListEntry(domain: b, note: "from a report"), ListEntry(domain: a)],
                                                    to: ListSpec(name: "l1", kind: .owned, interval: 600), now: 1)
            #expect(counts.added == 2 && counts.alreadyPresent == 0 && counts.retired == 0, "a duplicate is stored once")
            counts = try await store.addEntries([ListEntry(domain: a)], to: ListSpec(name: "l1"), now: 2)
            #expect(counts.added == 0 && counts.alreadyPresent == 1)
            await #expect(try store.watchedDomains(list: "l1") == [
                WatchedDomain(domain: "a.example", list: "l1", kind: .owned, interval: 600, added: 1, note: nil),
                WatchedDomain(domain: "b.example", list: "l1", kind: .owned, interval: 600, added: 1, note: "from a report"),
            ], "a list's kind and interval stay when a later add names none")

            let synced = try await store.sync([(ListSpec(name: "l1", kind: .expired, interval: 60), [ListEntry(domain: b), ListEntry(domain: c)])],
                                              now: 3)
            #expect(synced.added == 1 && synced.retired == 1 && synced.alreadyPresent == 1)
            let rows = try await store.watchedDomains(list: nil)
            #expect(rows.map(\.domain) == ["b.example", "c.example"])
            #expect(rows.map(\.kind) == [.expired, .expired] && rows.map(\.interval) == [60, 60])
            #expect(rows.map(\.added) == [1, 3])
            await #expect(try store.domainExists("a.example"), "retired, not deleted")

            await #expect(try store.remove([b], list: nil, now: 4) == 1)
            await #expect(try store.remove([b], list: nil, now: 5) == 0, "already retired")
            await #expect(try store.watchedDomains(list: nil).map(\.domain) == ["c.example"])
            let unknown = await #expect(throws: StoreError.self) { try await store.remove([c], list: "nope", now: 5) }
            #expect(unknown.map { "\($0)" }?.contains("nope") == true, "the error names the list: \(String(describing: unknown))")
            await #expect(try store.watchedDomains(list: nil).map(\.domain) == ["c.example"], "nothing removed")
        }
    }

    /// A removed domain added again is watched again; a list missing from a sync is retired as a whole.
    @Test(arguments: Backend.allCases)
    func aRetiredMembershipComesBackAndASyncRetiresMissingLists(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["a.example"], list: "one", at: 1)
            try await watch(store, ["b.example"], list: "two", at: 1)
            await #expect(try store.remove([try DomainName("a.example")], list: "one", now: 2) == 1)
            let again = try await store.addEntries([ListEntry(domain: try DomainName("a.example"))], to: ListSpec(name: "one"), now: 3)
            #expect(again.added == 1, "\(again)")
            await #expect(try store.watchedDomains(list: "one").map(\.domain) == ["a.example"])
            let synced = try await store.sync([(ListSpec(name: "one"), [ListEntry(domain: try DomainName("a.example"))])], now: 4)
            #expect(synced.added == 0 && synced.retired == 1 && synced.alreadyPresent == 1, "list two retired: \(synced)")
            await #expect(try store.watchedDomains(list: nil).map(\.list) == ["one"])
        }
    }

    /// Memberships are listed by list, then domain, both by their bytes (not a locale's collation).
    @Test(arguments: Backend.allCases)
    func listingIsOrderedByListThenDomainByteWise(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["b.example", "a.example", "a-b.example", "xn--bcher-kva.example", "a0.example"], list: "beta")
            try await watch(store, ["z.example"], list: "Alpha")
            let rows = try await store.watchedDomains(list: nil)
            #expect(rows.map { "\($0.list) \($0.domain)" } == [
                "Alpha z.example",
                "beta a-b.example", "beta a.example", "beta a0.example", "beta b.example", "beta xn--bcher-kva.example",
            ])
        }
    }
}
