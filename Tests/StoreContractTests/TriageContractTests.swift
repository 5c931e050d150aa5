import DNSWatchModel
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport
import TestWorlds

/// What triage and `ip` read: sightings of blocks now or as of a time, the domains' histories, states and
/// memberships, and the origin-ASN cache.
@Suite struct TriageContractTests {
    /// a.example: 192.0.2.1 from 10, 192.0.2.2 from 20; b.example: NXDOMAIN at 10, 192.0.2.1 from 15.
    func polled(_ store: any ContractStore) async throws {
        try await watch(store, ["a.example", "b.example"])
        let dns = ScriptedDNS()
        dns.set("a.example", .a, ["192.0.2.1"])
        try await poll(store, dns, at: 10)
        dns.set("b.example", .a, ["192.0.2.1"])
        try await poll(store, dns, at: 15)
        dns.set("a.example", .a, ["192.0.2.2"])
        try await poll(store, dns, at: 20)
    }

    func current(_ reads: TriageReads, _ block: String) throws -> [String: Bool] {
        let cidr = try #require(CIDR(block))
        let hits = try #require(reads.sightings[cidr], "no sightings read for \(block)")
        return Dictionary(hits.map { ($0.domain, $0.current) }, uniquingKeysWith: { _, _ in
            Issue.record("\(block): one domain twice: \(hits)")
            return false
        })
    }

    @Test(arguments: Backend.allCases)
    func sightingsHistoryAndStatesNowAndAsOfATime(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await polled(store)
            let one = "192.0.2.1/32", two = "192.0.2.2/32", net = "192.0.2.0/24"
            let blocks = [CIDR(one)!, CIDR(two)!, CIDR(net)!]
            let now = try await store.triageReads(blocks: blocks, domains: ["a.example"], at: nil, now: 0)
            #expect(try current(now, one) == ["a.example": false, "b.example": true])
            #expect(try current(now, two) == ["a.example": true])
            #expect(now.sightings[CIDR(net)!]?.map(\.address) == ["192.0.2.1", "192.0.2.1", "192.0.2.2"], "oldest first")
            #expect(now.sightings[CIDR(net)!]?.map(\.timeFirst) == [10, 15, 20])
            #expect(now.history["a.example"]?.filter { $0.rrtype == .a }.map(\.rdata) == [["192.0.2.1"], ["192.0.2.2"]])
            #expect(now.history["a.example"]?.map(\.rrtype) == [.a, .aaaa, .ns, .a], "oldest first")
            #expect(now.history["b.example"] == nil, "only the queried domains' histories")
            #expect(Set(now.sharing.keys) == ["192.0.2.1", "192.0.2.2"])
            #expect(now.sharing["192.0.2.1"]?.map(\.domain) == ["a.example", "b.example"])
            #expect(Set(now.memberships.keys) == ["a.example", "b.example"])
            #expect(now.memberships["b.example"]?.map(\.list) == ["t"])
            // Documentation addresses are dormant (docs: Classification).
            #expect(now.states == ["a.example": DomainState(class: .dormant)])

            let at12 = try await store.triageReads(blocks: blocks, domains: ["a.example"], at: 12, now: 0)
            #expect(try current(at12, one) == ["a.example": true], "b.example came at 15")
            #expect(try current(at12, two).isEmpty, "not seen yet")
            #expect(at12.history["a.example"]?.filter { $0.rrtype == .a }.map(\.timeFirst) == [10])
            let at20 = try await store.triageReads(blocks: blocks, domains: ["a.example"], at: 20, now: 0)
            #expect(try current(at20, one) == ["a.example": false, "b.example": true], "at 20 the move was seen")
            let at5 = try await store.triageReads(blocks: blocks, domains: ["a.example"], at: 5, now: 0)
            #expect(at5.sightings.count == 3 && at5.sightings.values.allSatisfy(\.isEmpty))
            #expect(at5.history.isEmpty)
        }
    }

    @Test(arguments: Backend.allCases)
    func statesFollowTheLastCompleteView(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await polled(store)
            await #expect(try store.state(of: "a.example") == DomainState(class: .dormant))
            await #expect(try store.state(of: "b.example") == DomainState(class: .dormant))
            await #expect(try store.state(of: "never.example") == nil)
            let dns = ScriptedDNS()
            dns.set("a.example", .a, ["91.195.240.94"])
            dns.set("a.example", .ns, ["ns1.sedoparking.com", "ns2.sedoparking.com"])
            dns.set("b.example", .a, ["192.0.2.1"])
            try await poll(store, dns, at: 30)
            await #expect(try store.state(of: "a.example") == DomainState(class: .parked, provider: "Sedo"))
        }
    }

    @Test(arguments: Backend.allCases)
    func membershipsIncludeRetiredOnes(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["a.example", "b.example"], list: "old", kind: .expired, at: 5)
            try await watch(store, ["a.example"], list: "new", kind: .owned, interval: 60, at: 6)
            _ = try await store.remove([try DomainName("a.example")], list: "old", now: 7)
            let m = try await store.memberships(of: ["a.example", "b.example", "never.example"])
            #expect(m["never.example"] == nil)
            let a = try #require(m["a.example"]).sorted { $0.list < $1.list }
            #expect(a == [WatchedDomain(domain: "a.example", list: "new", kind: .owned, interval: 60, added: 6, note: nil, retired: nil),
                          WatchedDomain(domain: "a.example", list: "old", kind: .expired, interval: nil, added: 5, note: nil, retired: 7)])
            #expect(m["b.example"] == [WatchedDomain(domain: "b.example", list: "old", kind: .expired, interval: nil, added: 5, note: nil)])
        }
    }

    /// Origin-ASN answers are kept for their TTL, answers with no origin for the negative TTL.
    @Test(arguments: Backend.allCases)
    func theASNCacheKeepsEachAnswerForItsTTL(backend: Backend) async throws {
        try await withStore(backend) { store in
            let known = ASNEntry(address: "91.195.240.94", asn: 47846, prefix: "91.195.240.0/23", country: "DE", registry: "ripencc")
            let none = ASNEntry(address: "192.0.2.77", asn: nil)
            try await store.saveASN([known], none: [none], at: 100, ttl: 50, negativeTTL: 10)
            let addresses = ["91.195.240.94", "192.0.2.77", "198.51.100.1"]
            await #expect(try store.cachedASN(addresses, now: 109) == ["91.195.240.94": known, "192.0.2.77": none])
            await #expect(try store.cachedASN(addresses, now: 110) == ["91.195.240.94": known])
            await #expect(try store.cachedASN(addresses, now: 150).isEmpty)
            let reads = try await store.triageReads(blocks: [CIDR("91.195.240.94")!], domains: [], at: nil, now: 120)
            #expect(reads.asns == ["91.195.240.94": known])
            // A new answer replaces the old one.
            let moved = ASNEntry(address: "91.195.240.94", asn: 64500)
            try await store.saveASN([moved], none: [], at: 200, ttl: 50, negativeTTL: 10)
            await #expect(try store.cachedASN(addresses, now: 210) == ["91.195.240.94": moved])
        }
    }
}
