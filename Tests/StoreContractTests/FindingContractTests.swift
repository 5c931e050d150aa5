import DNSWatchModel
import Store
import Testing
import TestSupport
import TestWorlds

/// `watch list`'s and `alerts`' reads (FindingReading): each membership with its domain's state, polling
/// times and last alert, filtered by list and state; alerts newest first, filtered by time, severity,
/// domain, list and type, and limited. Polls are a week apart, so that no flap damping holds an alert back.
@Suite struct FindingContractTests {
    static let week: Int64 = 7 * 86_400
    static let t0: Int64 = 1_000_000, t1 = t0 + week, t2 = t0 + 2 * week

    /// feed (c2): a.example and b.example, parked at Sedo at t0; own (owned, interval 600): o.example, on an
    /// address of its own at t0, and a.example. At t1 a.example activates (activation), b.example stops
    /// resolving (unresolved), o.example is parked (parked); at t2 a.example moves to another address
    /// (new-ip). Then later.example joins feed, never polled.
    func world(_ store: any ContractStore) async throws {
        try await watch(store, ["a.example", "b.example"], list: "feed", kind: .c2, at: 1)
        try await watch(store, ["o.example", "a.example"], list: "own", kind: .owned, interval: 600, at: 2)
        let dns = ScriptedDNS()
        for name in ["a.example", "b.example"] {
            dns.set(name, .a, ["91.195.240.94"])
            dns.set(name, .ns, ["ns1.sedoparking.com", "ns2.sedoparking.com"])
        }
        dns.set("o.example", .a, ["45.0.121.10"])
        dns.set("o.example", .ns, ["ns1.own.example"])
        try await poll(store, dns, at: Self.t0)
        dns.set("a.example", .a, ["45.0.121.77"])
        dns.set("a.example", .ns, ["ns1.r.example"])
        dns.remove("b.example")
        dns.set("o.example", .a, ["91.195.240.94"])
        dns.set("o.example", .ns, ["ns1.sedoparking.com", "ns2.sedoparking.com"])
        try await poll(store, dns, at: Self.t1)
        dns.set("a.example", .a, ["45.0.121.78"])
        try await poll(store, dns, at: Self.t2)
        try await watch(store, ["later.example"], list: "feed", kind: .c2, at: Self.t2 + 10)
    }

    @Test(arguments: Backend.allCases)
    func watchedStatesGiveStatePollTimesAndLastAlert(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await world(store)
            let rows = try await store.watchedStates(WatchedFilter())
            #expect(rows.map { "\($0.membership.list)/\($0.membership.domain)" }
                    == ["feed/a.example", "feed/b.example", "feed/later.example", "own/a.example", "own/o.example"],
                    "every active membership, by list then domain")
            #expect(rows.map(\.membership) == (try await store.watchedDomains(list: nil)), "the memberships as watch list read them")
            #expect(rows.map(\.state) == [DomainState(class: .unknown), DomainState(class: .nxdomain), nil,
                                          DomainState(class: .unknown), DomainState(class: .parked, provider: "Sedo")])
            #expect(rows.map(\.stateName) == ["unknown", "nxdomain", "unpolled", "unknown", "parked"])
            #expect(rows.map(\.lastPolled) == [Self.t2, Self.t2, nil, Self.t2, Self.t2])
            // Without jitter a domain is next due one interval later: its shortest (a.example is on own, 600 s).
            #expect(rows.map(\.nextDue) == [Self.t2 + 600, Self.t2 + 3600, nil, Self.t2 + 600, Self.t2 + 600])
            #expect(rows.map { $0.lastAlert.map { "\($0.type)@\($0.time)" } ?? "-" }
                    == ["new-ip@\(Self.t2)", "unresolved@\(Self.t1)", "-", "new-ip@\(Self.t2)", "parked@\(Self.t1)"],
                    "the domain's latest alert, whichever list raised it")
            let latest = try await store.alerts(AlertFilter(domain: "a.example", limit: 1))
            #expect(rows[0].lastAlert?.id == latest.first?.id && rows[0].lastAlert?.severity == latest.first?.severity)
            #expect(rows[0].lastAlert?.severityRank == latest.first?.severityRank)
        }
    }

    @Test(arguments: Backend.allCases)
    func watchedStatesFilterByListAndState(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await world(store)
            func names(_ list: String?, _ state: StateFilter?) async throws -> [String] {
                try await store.watchedStates(WatchedFilter(list: list, state: state)).map { "\($0.membership.list)/\($0.membership.domain)" }
            }
            #expect(try await names(nil, .state(.unknown)) == ["feed/a.example", "own/a.example"])
            #expect(try await names(nil, .state(.parked)) == ["own/o.example"])
            #expect(try await names(nil, .state(.nxdomain)) == ["feed/b.example"])
            #expect(try await names(nil, .unpolled) == ["feed/later.example"])
            #expect(try await names(nil, .state(.sinkhole)) == [])
            #expect(try await names("own", nil) == ["own/a.example", "own/o.example"])
            #expect(try await names("own", .state(.unknown)) == ["own/a.example"])
            #expect(try await names("feed", .state(.parked)) == [], "both filters hold")
            #expect(try await names("nope", nil) == [])
        }
    }

    @Test(arguments: Backend.allCases)
    func alertsAreNewestFirstFilteredAndLimited(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await world(store)
            func found(_ filter: AlertFilter) async throws -> [String] {
                try await store.alerts(filter).map { "\($0.domain) \($0.type)" }
            }
            // At t1 the alerts are raised in the domains' order (a, b, o): newest first is o, b, a.
            let all = ["a.example new-ip", "o.example parked", "b.example unresolved", "a.example activation"]
            #expect(try await found(AlertFilter()) == all, "newest first: by time, then id, descending")
            let stored = try await store.alerts(AlertFilter())
            #expect(stored.map(\.time) == [Self.t2, Self.t1, Self.t1, Self.t1])
            #expect(stored.map(\.id) == stored.map(\.id).sorted(by: >))
            #expect(stored.map(\.id).sorted() == (try await store.alerts(since: nil, minRank: 0)).map(\.id), "the same alerts as alerts(since:)")

            #expect(try await found(AlertFilter(limit: 2)) == Array(all.prefix(2)), "the newest two")
            #expect(try await found(AlertFilter(limit: 10)) == all)
            #expect(try await found(AlertFilter(domain: "a.example")) == ["a.example new-ip", "a.example activation"])
            #expect(try await found(AlertFilter(domain: "a.example", limit: 1)) == ["a.example new-ip"])
            #expect(try await found(AlertFilter(list: "own")) == ["o.example parked"])
            #expect(try await found(AlertFilter(list: "feed")) == ["a.example new-ip", "b.example unresolved", "a.example activation"])
            #expect(try await found(AlertFilter(types: ["activation", "unresolved"])) == ["b.example unresolved", "a.example activation"])
            #expect(try await found(AlertFilter(types: ["parked"])) == ["o.example parked"])
            #expect(try await found(AlertFilter(since: Self.t1 + 1)) == ["a.example new-ip"])
            #expect(try await found(AlertFilter(since: Self.t1)) == all)
            #expect(try await found(AlertFilter(minRank: Rank.critical)) == ["a.example activation"])
            #expect(try await found(AlertFilter(minRank: Rank.high)) == ["a.example new-ip", "o.example parked", "a.example activation"])
            #expect(try await found(AlertFilter(since: Self.t1, domain: "a.example", types: ["activation", "new-ip"], limit: 1))
                    == ["a.example new-ip"])
            #expect(try await found(AlertFilter(domain: "a.example", list: "own")) == [], "every condition holds")
            #expect(try await found(AlertFilter(domain: "other.example")) == [])
            #expect(try await found(AlertFilter(types: ["sinkholed"])) == [])
        }
    }

    /// A store with no alerts and no polls: every membership unpolled, no alert found.
    @Test(arguments: Backend.allCases)
    func aStoreWithoutPollsHasUnpolledDomainsAndNoAlerts(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["x.example"], list: "l", at: 5)
            let rows = try await store.watchedStates(WatchedFilter(state: .unpolled))
            #expect(rows.count == 1 && rows.first?.state == nil && rows.first?.lastPolled == nil && rows.first?.nextDue == nil
                    && rows.first?.lastAlert == nil)
            await #expect(try store.watchedStates(WatchedFilter(state: .state(.unknown))).isEmpty)
            await #expect(try store.alerts(AlertFilter()).isEmpty)
        }
    }
}

/// Severity ranks as the CLI gives them (0 info .. 4 critical; Detection's `Severity.rank`).
enum Rank {
    static let high = 3, critical = 4
}
