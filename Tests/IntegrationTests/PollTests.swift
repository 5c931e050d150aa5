import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Poller
import TestWorlds
import Testing
import TestSupport

@Suite(.serialized) struct PollHistoryTests {
    @Test func spansGrowWithChangesNotPolls() async throws {
        let w = try World(records: World.parkedRecords("parked.example") + [
            "live.example. 300 IN A 45.0.121.77", "live.example. 300 IN AAAA 2a00:1450:4001:80b::200e",
            "live.example. 300 IN NS ns1.live.example.",
        ])
        try await w.watch(["parked.example", "live.example", "nx.example"], list: "c2", kind: .c2)
        for t in 0..<21 {
            let s = try await w.poll(at: 1000 + Int64(t) * 60)
            #expect(s.counts.failures == 0)
            #expect(s.counts.queries >= 9)
        }
        let parked = try await w.store.history(domain: "parked.example")
        #expect(parked.map(\.rrtype) == [.a, .aaaa, .ns])
        #expect(parked.allSatisfy { $0.count == 21 && $0.timeFirst == 1000 && $0.timeLast == 1000 + 20 * 60 })
        #expect(parked.first { $0.rrtype == .ns }?.rdata == ["ns1.sedoparking.com", "ns2.sedoparking.com"])
        #expect(parked.first { $0.rrtype == .a }?.class == .parked)
        #expect(parked.first { $0.rrtype == .a }?.provider == "Sedo")
        #expect(parked.first { $0.rrtype == .aaaa }?.status == .nodata)
        let live = try await w.store.history(domain: "live.example")
        #expect(live.first { $0.rrtype == .aaaa }?.rdata == ["2a00:1450:4001:80b::200e"])
        let nx = try await w.store.history(domain: "nx.example")
        #expect(nx.count == 3 && nx.allSatisfy { $0.status == .nxdomain && $0.count == 21 })
        #expect(w.sink.received.isEmpty, "the baseline and unchanged polls raise nothing")

        // A runtime change: a new span, the old one closed at its last sighting.
        try w.set("live.example", ["live.example. 300 IN A 45.0.121.78", "live.example. 300 IN NS ns1.live.example."])
        try await w.poll(at: 5000)
        let a = try await w.store.history(domain: "live.example", type: .a)
        #expect(a.map(\.rdata) == [["45.0.121.77"], ["45.0.121.78"]])
        #expect(a[0].timeLast == 1000 + 20 * 60 && a[1].timeFirst == 5000 && a[1].count == 1)
        #expect(w.sink.types == ["new-ip"])
    }

    @Test func resolverOutageIsSilentAndRecoveryToo() async throws {
        let w = try World(records: World.parkedRecords("p.example"))
        try await w.watch(["p.example", "nx.example"], list: "c2", kind: .c2)
        try await w.poll(at: 100)
        let silent = try SilentUDPServer()
        let down = try await w.poller(endpoints: [silent.endpoint], timeout: 0.2, retries: 1).poll(clock: { 200 })
        #expect(down.resolverUnavailable)
        #expect(down.counts.failures == down.counts.queries && down.counts.answers == 0)
        #expect(down.counts.alerts == 0 && down.counts.changes == 0)
        let spans = try await w.store.history(domain: "p.example")
        #expect(spans.allSatisfy { $0.count == 1 && $0.timeLast == 100 }, "failures are no spans")
        let back = try await w.poll(at: 300)
        #expect(back.counts.alerts == 0 && back.counts.failures == 0)
        await #expect(try w.store.history(domain: "p.example").allSatisfy { $0.count == 2 })
        #expect(w.sink.received.isEmpty)
    }

    @Test func onionNamesAreNeverQueriedButCountAsPolled() async throws {
        let w = try World(records: ["a.example. 300 IN A 45.0.121.1"])
        try await w.watch(["a.example", "expyuzz4wqqyqhjn.onion"], list: "c2", kind: .c2)
        let s = try await w.poll(at: 100)
        // 3 answers for a.example, 1 for its origin-ASN lookup (NXDOMAIN in this world); none for the onion name.
        #expect(s.counts.domains == 1 && s.counts.queries == 4 && s.counts.answers == 4 && s.counts.failures == 0, "\(s.counts)")
        await #expect(try w.store.history(domain: "expyuzz4wqqyqhjn.onion").isEmpty)
        await #expect(try w.store.countTargets(dueAt: 101) == 0, "not selected again by the next --due poll")
    }

    @Test func batchPlanCoversEveryDomainWithSmallEnds() {
        #expect(Poller.batchPlan(total: 20_000, batchSize: 5000) == [1000, 2000, 5000, 5000, 5000, 1000, 1000])
        #expect(Poller.batchPlan(total: 700, batchSize: 5000) == [700])
        #expect(Poller.batchPlan(total: 0, batchSize: 5000).isEmpty)
        for total in [1, 999, 1001, 4321, 12_345, 100_000] {
            let plan = Poller.batchPlan(total: total, batchSize: 2000)
            #expect(plan.reduce(0, +) == total && plan.allSatisfy { $0 > 0 && $0 <= 2000 })
        }
    }

    @Test func anOutageLeavesTheDomainsDue() async throws {
        let w = try World(records: ["a.example. 300 IN A 45.0.121.1"])
        try await w.watch(["a.example"], list: "c2", kind: .c2)
        _ = try await w.poller(due: true).poll(clock: { 100 })
        let silent = try SilentUDPServer()
        let down = try await w.poller(endpoints: [silent.endpoint], timeout: 0.2, retries: 0, due: true).poll(clock: { 4000 })
        #expect(down.counts.domains == 1 && down.resolverUnavailable)
        await #expect(try w.store.countTargets(dueAt: 4001) == 1, "still due after the outage")
        let back = try await w.poller(due: true).poll(clock: { 4100 })
        #expect(back.counts.domains == 1 && back.counts.failures == 0)
        await #expect(try w.store.countTargets(dueAt: 4101) == 0)
    }

    @Test func aShorterIntervalTakesEffectAtOnce() async throws {
        let w = try World(records: ["a.example. 300 IN A 45.0.121.1"])
        _ = try await w.store.addEntries([ListEntry(domain: try DomainName("a.example"))], to: ListSpec(name: "l", kind: .c2, interval: 7200), now: 1)
        _ = try await w.poller(due: true).poll(clock: { 1000 })
        await #expect(try w.store.countTargets(dueAt: 1000 + 600) == 0)
        // The list is now polled every 5 minutes: due 5 minutes after the last poll, not 2 hours.
        _ = try await w.store.addEntries([], to: ListSpec(name: "l", interval: 300), now: 1100)
        let s = try await w.poller(due: true).poll(clock: { 1000 + 301 })
        #expect(s.counts.domains == 1)
    }

    @Test func aSilentFirstResolverFallsThroughToTheNext() async throws {
        let w = try World(records: ["a.example. 300 IN A 45.0.121.1"])
        try await w.watch(["a.example"], list: "c2", kind: .c2)
        let silent = try SilentUDPServer()
        let s = try await w.poller(endpoints: [silent.endpoint, w.unbound.endpoint], timeout: 0.2, retries: 2).poll(clock: { 10 })
        #expect(s.counts.failures == 0)
        await #expect(try w.store.history(domain: "a.example", type: .a).first?.rdata == ["45.0.121.1"])
    }
}
