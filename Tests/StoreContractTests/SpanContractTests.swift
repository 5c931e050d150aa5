import DNSWatchModel
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport
import TestWorlds

/// History grows with changes, not with polls: what a poll's writer makes of repeated, changed, missing and
/// failed answers, read back through `history`.
@Suite struct SpanContractTests {
    /// The same answer again extends the span, whatever the order of its records: when nothing else of the
    /// domain changed (1000-1010) and when its NS answer changed meanwhile (1015, 1020).
    @Test(arguments: Backend.allCases)
    func theSameAnswerInAnyOrderExtendsTheSpan(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["a.example"])
            let dns = ScriptedDNS()
            let ns: [Int64: String] = [1000: "ns1.host.example", 1005: "ns1.host.example", 1010: "ns1.host.example",
                                       1015: "ns2.host.example", 1020: "ns3.host.example"]
            for (i, t) in [Int64(1000), 1005, 1010, 1015, 1020].enumerated() {
                dns.set("a.example", .a, i.isMultiple(of: 2) ? ["192.0.2.2", "192.0.2.1"] : ["192.0.2.1", "192.0.2.2"])
                dns.set("a.example", .ns, [ns[t]!])
                try await poll(store, dns, at: t)
            }
            let a = try await store.spans("a.example", .a)
            #expect(a.count == 1, "\(a)")
            #expect(a.first?.rdata == ["192.0.2.1", "192.0.2.2"])
            #expect(a.first?.count == 5)
            #expect(a.first?.timeFirst == 1000 && a.first?.timeLast == 1020)
            let aaaa = try await store.spans("a.example", .aaaa)
            #expect(aaaa.map(\.status) == [.nodata] && aaaa.map(\.count) == [5])
            let nameServers = try await store.spans("a.example", .ns)
            #expect(nameServers.map(\.rdata) == [["ns1.host.example"], ["ns2.host.example"], ["ns3.host.example"]])
            #expect(nameServers.map(\.count) == [3, 1, 1])
            #expect(nameServers.map(\.timeLast) == [1010, 1015, 1020])
        }
    }

    @Test(arguments: Backend.allCases)
    func aChangeStartsASpanAndAReturnStartsAnother(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["b.example"])
            let dns = ScriptedDNS()
            dns.set("b.example", .a, ["192.0.2.1"])
            let first = try await poll(store, dns, at: 1)
            dns.set("b.example", .a, ["192.0.2.9"])
            let changed = try await poll(store, dns, at: 2)
            dns.remove("b.example")
            try await poll(store, dns, at: 3)
            dns.set("b.example", .a, ["192.0.2.1"])
            try await poll(store, dns, at: 4)
            let a = try await store.spans("b.example", .a)
            #expect(a.map(\.rdata) == [["192.0.2.1"], ["192.0.2.9"], [], ["192.0.2.1"]])
            #expect(a.map(\.status) == [.noerror, .noerror, .nxdomain, .noerror])
            #expect(a.map(\.timeFirst) == [1, 2, 3, 4])
            #expect(a.map(\.count) == [1, 1, 1, 1])
            #expect(first.counts.changes == 1 && changed.counts.changes == 1, "a domain whose spans changed counts once")
            // AAAA and NS: NODATA, then NXDOMAIN, then NODATA again.
            await #expect(try store.spans("b.example", .aaaa).map(\.status) == [.nodata, .nxdomain, .nodata])
            await #expect(try store.spans("b.example", .aaaa).map(\.count) == [2, 1, 1])
            // Spans overlapping [since, until].
            await #expect(try store.spans("b.example", .a, since: 3).map(\.timeFirst) == [3, 4])
            await #expect(try store.spans("b.example", .a, until: 1).map(\.timeFirst) == [1])
            await #expect(try store.spans("b.example", .a, since: 2, until: 3).map(\.timeFirst) == [2, 3])
        }
    }

    /// A failure is no observation: no span, no change, and the span before it goes on when the answer
    /// comes back the same.
    @Test(arguments: Backend.allCases)
    func aFailedLookupWritesNoSpanAndChangesNothing(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["c.example"])
            let dns = ScriptedDNS()
            dns.set("c.example", .a, ["192.0.2.7"])
            dns.set("c.example", .ns, ["ns1.host.example"])
            try await poll(store, dns, at: 10)
            dns.fail("c.example", .a, .timeout)
            let failed = try await poll(store, dns, at: 20)
            #expect(failed.counts.failures == 1 && failed.counts.changes == 0 && failed.counts.alerts == 0)
            var a = try await store.spans("c.example", .a)
            #expect(a.map(\.count) == [1] && a.map(\.timeLast) == [10], "not extended by a failure: \(a)")
            await #expect(try store.spans("c.example", .ns).map(\.count) == [2], "the answered types are extended")
            dns.fail("c.example", .a, .servfail)
            try await poll(store, dns, at: 25)
            dns.set("c.example", .a, ["192.0.2.7"])
            try await poll(store, dns, at: 30)
            a = try await store.spans("c.example", .a)
            #expect(a.count == 1, "\(a)")
            #expect(a.first?.timeFirst == 10 && a.first?.timeLast == 30 && a.first?.count == 2)
        }
    }

    /// A domain none of whose lookups was answered has no history and stays due; one that was answered is
    /// next due one interval later.
    @Test(arguments: Backend.allCases)
    func aDomainWhoseLookupsAllFailedStaysDue(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["down.example", "up.example"], interval: 600)
            let dns = ScriptedDNS()
            for t in RRType.pollDefault { dns.fail("down.example", t, .timeout) }
            dns.set("up.example", .a, ["192.0.2.8"])
            let summary = try await poll(store, dns, at: 100)
            #expect(summary.counts.domains == 2 && summary.counts.failures == 3 && summary.counts.answers == 3)
            await #expect(try store.spans("down.example").isEmpty)
            await #expect(try store.domainExists("down.example"))
            await #expect(try store.countTargets(dueAt: 101) == 1)
            await #expect(try store.countTargets(dueAt: 699) == 1)
            await #expect(try store.countTargets(dueAt: 700) == 2)
            dns.forgetAsked()
            let due = try await poll(store, dns, at: 101, due: true)
            #expect(due.counts.domains == 1)
            #expect(dns.askedNames == ["down.example"])
        }
    }

    /// A domain is due one interval after its poll, the shortest of its lists' intervals; a due poll visits
    /// only those, and with none due records no poll run.
    @Test(arguments: Backend.allCases)
    func aDomainIsDueItsShortestListIntervalAfterItsPoll(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["slow.example", "fast.example"], list: "hourly", interval: 600)
            try await watch(store, ["fast.example"], list: "often", interval: 60)
            let dns = ScriptedDNS()
            dns.set("slow.example", .a, ["192.0.2.1"])
            dns.set("fast.example", .a, ["192.0.2.2"])
            await #expect(try store.countTargets(dueAt: 1) == 2, "never polled: due")
            try await poll(store, dns, at: 100)
            await #expect(try store.countTargets(dueAt: 159) == 0)
            await #expect(try store.countTargets(dueAt: 160) == 1)
            await #expect(try store.countTargets(dueAt: 700) == 2)
            await #expect(try store.countTargets(dueAt: nil) == 2, "without a time: every watched domain")
            let due = try await poll(store, dns, at: 160, due: true)
            #expect(due.counts.domains == 1)
            await #expect(try store.spans("fast.example", .a).map(\.count) == [2])
            await #expect(try store.spans("slow.example", .a).map(\.count) == [1])
            let none = try await poll(store, dns, at: 161, due: true)
            #expect(none.pollID == 0 && none.counts.domains == 0, "nothing due: no poll run")
        }
    }

    /// A CNAME is recorded from the chain of the address answers; a chain that is gone ends the CNAME's
    /// span with NODATA.
    @Test(arguments: Backend.allCases)
    func aCNAMEChainIsRecordedAndItsEndIsNODATA(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["www.example"])
            let dns = ScriptedDNS()
            dns.set("www.example", .a, ["192.0.2.5"], chain: ["edge.cdn.example"])
            try await poll(store, dns, at: 10)
            try await poll(store, dns, at: 20)
            dns.set("www.example", .a, ["192.0.2.5"])
            try await poll(store, dns, at: 30)
            let cname = try await store.spans("www.example", .cname)
            #expect(cname.map(\.status) == [.noerror, .nodata])
            #expect(cname.map(\.rdata) == [["edge.cdn.example"], []])
            #expect(cname.map(\.count) == [2, 1])
            await #expect(try store.spans("www.example", .a).map(\.count) == [3], "the address answer itself is the same")
        }
    }

    /// Watched domains that left every list are not polled; their history stays readable.
    @Test(arguments: Backend.allCases)
    func aRemovedDomainIsNotPolledAndKeepsItsHistory(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["gone.example", "kept.example"])
            let dns = ScriptedDNS()
            dns.set("gone.example", .a, ["192.0.2.3"])
            dns.set("kept.example", .a, ["192.0.2.4"])
            try await poll(store, dns, at: 10)
            await #expect(try store.remove([try DomainName("gone.example")], list: nil, now: 15) == 1)
            let second = try await poll(store, dns, at: 20)
            #expect(second.counts.domains == 1)
            await #expect(try store.spans("gone.example", .a).map(\.timeLast) == [10])
            await #expect(try store.spans("kept.example", .a).map(\.timeLast) == [20])
            await #expect(try store.domainExists("gone.example"))
            await #expect(try !store.domainExists("never.example"))
        }
    }
}
