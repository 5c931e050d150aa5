import DNSWatchModel
import Store
import Testing
import TestSupport
import TestWorlds

/// `ExplainReading`: what `dnswatch explain` reads of one domain, the same on both backends.
@Suite struct ExplainContractTests {
    /// A domain that flips between Sedo and Bodis on every poll (held back by flap damping at its third
    /// change): its state, its current answers by type, its transitions newest first and limited, the alerting
    /// memory the polls left, and its polling times.
    @Test(arguments: Backend.allCases)
    func aFlappingDomainsRowsAreItsStateAnswersTransitionsAndAlertingMemory(backend: Backend) async throws {
        try await withStore(backend) { store in
            #expect(try await pollFlapping(store) == [1, 1, 1, 0])
            let reads = try #require(try await store.explainReads(domain: "flap.example", transitions: 3))
            #expect(reads.domain == "flap.example")
            #expect(reads.state == ExplainedState(state: DomainState(class: .parked, provider: "Sedo"), since: 500))
            #expect(reads.current.map(\.rrtype) == [.a, .aaaa, .ns], "the heads, by record type")
            #expect(reads.current.map(\.rdata) == [["91.195.240.94"], [], ["ns1.sedoparking.com", "ns2.sedoparking.com"]])
            #expect(reads.current.map(\.status) == [.noerror, .nodata, .noerror])
            #expect(reads.current.allSatisfy { $0.source == nil && $0.domain == "flap.example" })
            #expect(reads.transitions.map(\.time) == [500, 400, 300], "the latest 3, newest first")
            #expect(reads.transitions.first?.toViewJSON.contains("sedoparking") == true)
            #expect(reads.transitions.first?.fromViewJSON.contains("bodis") == true)
            #expect(reads.transitions.map(\.type) == ["parked", "parked", "parked"], "each a change of parking provider")
            let memory = try #require(reads.alerting)
            #expect(memory.suppressedSince == 400 && memory.penaltyTime == 500)
            #expect(memory.penalty > 3900 && memory.penalty < 4000, "\(memory.penalty)")
            #expect(memory.unconfirmedJSON == nil && memory.disagreementPolls == 0)
            #expect(reads.status.lastPolled == 500)
            #expect(reads.status.nextDue.map { $0 > 500 } == true, "\(String(describing: reads.status.nextDue))")
            #expect(reads.status.lastFailure == nil)
            let all = try #require(try await store.explainReads(domain: "flap.example", transitions: 10))
            #expect(all.transitions.map(\.time) == [500, 400, 300, 200])
        }
    }

    /// A domain no poll got an answer for has rows but no state, answers or transitions, only its last failure; a domain the store does not hold is nil; a failed
    /// lookup is the last failure, and the answer before it stays current.
    @Test(arguments: Backend.allCases)
    func unknownUnpolledAndFailingDomains(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["quiet.example", "failing.example"])
            #expect(try await store.explainReads(domain: "nobody.example", transitions: 10) == nil)
            let dns = ScriptedDNS()
            dns.set("failing.example", .a, ["192.0.2.7"])
            dns.set("failing.example", .aaaa, [])
            dns.set("failing.example", .ns, ["ns1.example.net"])
            dns.fail("quiet.example", .a)
            dns.fail("quiet.example", .aaaa)
            dns.fail("quiet.example", .ns)
            try await poll(store, dns, at: 100)
            dns.fail("failing.example", .a, .timeout)
            try await poll(store, dns, at: 200)

            let quiet = try #require(try await store.explainReads(domain: "quiet.example", transitions: 10))
            #expect(quiet.state == nil && quiet.current.isEmpty && quiet.transitions.isEmpty && quiet.alerting == nil)
            #expect(quiet.status == PollingStatus(lastPolled: nil, nextDue: nil, lastFailure: 200, lastFailureType: "NS", lastFailureKind: "timeout"),
                    "no answer: not polled, and its last failed lookup (\(quiet.status))")

            let failing = try #require(try await store.explainReads(domain: "failing.example", transitions: 10))
            #expect(failing.state == ExplainedState(state: DomainState(class: .dormant), since: 100), "\(String(describing: failing.state))")
            #expect(failing.current.first(where: { $0.rrtype == .a })?.rdata == ["192.0.2.7"], "the last known answer stays current")
            #expect(failing.status.lastPolled == 200)
            #expect(failing.status.lastFailure == 200 && failing.status.lastFailureType == "A")
            #expect(failing.status.lastFailureKind == "timeout", "\(String(describing: failing.status.lastFailureKind))")
        }
    }
}
