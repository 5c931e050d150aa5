import DNSWatchModel
import Poller
import Store
import Testing
import TestSupport
import TestWorlds

/// What `/metrics` reads at a scrape (`metricsReading`): the poll runs finished and the alerts raised
/// since the previous scrape's cursors, each counted once, and the outbox and watchlist gauges.
@Suite struct MetricsContractTests {
    /// A finished run is read once, with its queries, answers and failures; a run not finished yet is not
    /// read until it is. The cursor is the last reading's last id.
    @Test(arguments: Backend.allCases)
    func eachFinishedPollIsReadOnceAfterTheCursor(backend: Backend) async throws {
        try await withStore(backend) { store in
            await #expect(try store.metricsReading(afterPoll: 0, afterAlert: 0) == MetricsReading(polls: [], alerts: [], outboxPending: 0, watchedDomains: 0))
            try await watch(store, ["a.example", "b.example"])
            let dns = ScriptedDNS()
            dns.set("a.example", .a, ["192.0.2.1"])
            dns.fail("b.example", .aaaa, .timeout)
            try await poll(store, dns, at: 100)
            let first = try await store.metricsReading(afterPoll: 0, afterAlert: 0)
            #expect(first.polls.map(\.started) == [100] && first.polls.map(\.finished) == [100])
            #expect(first.polls.map(\.queries) == [6] && first.polls.map(\.answers) == [5] && first.polls.map(\.failures) == [1])
            let cursor = try #require(first.polls.last?.id)
            await #expect(try store.metricsReading(afterPoll: cursor, afterAlert: 0).polls.isEmpty, "counted once")

            let open = try await store.beginPoll(at: 200, resolvers: "scripted", poller: "contract")
            await #expect(try store.metricsReading(afterPoll: cursor, afterAlert: 0).polls.isEmpty, "running: not yet")
            try await store.finishPoll(open, at: 230)
            try await poll(store, dns, at: 300)
            let next = try await store.metricsReading(afterPoll: cursor, afterAlert: 0)
            #expect(next.polls.map(\.started) == [200, 300] && next.polls.map(\.finished) == [230, 300])
            #expect(next.polls.map(\.queries) == [0, 6] && next.polls.map(\.failures) == [0, 1])
            #expect(next.polls.map(\.id) == next.polls.map(\.id).sorted() && next.polls.first.map { $0.id > cursor } == true)
            await #expect(try store.metricsReading(afterPoll: try #require(next.polls.last?.id), afterAlert: 0).polls.isEmpty)
        }
    }

    /// Alerts since the cursor, tallied by type and severity (ordered by them), each with its last id.
    @Test(arguments: Backend.allCases)
    func alertsAreTalliedByTypeAndSeverityAfterTheCursor(backend: Backend) async throws {
        try await withStore(backend) { store in
            let ids = try await twoAlerts(store, sinks: [])
            // one.example moves to an address it never had: new-ip, high on a c2 list (docs/detection.md).
            let dns = ScriptedDNS()
            dns.set("one.example", .a, ["45.0.121.79"])
            dns.set("one.example", .ns, ["ns1.r.example"])
            dns.set("two.example", .a, ["45.0.121.78"])
            dns.set("two.example", .ns, ["ns1.r.example"])
            let moved = try await poll(store, dns, at: 300)
            #expect(moved.counts.alerts == 1)
            let newIP = try #require(try await store.alerts(since: 300, minRank: 0).first?.id)
            let all = try await store.metricsReading(afterPoll: 0, afterAlert: 0).alerts
            #expect(all == [AlertTally(type: "activation", severity: "critical", severityRank: 4, count: 2, lastID: ids[1]),
                            AlertTally(type: "new-ip", severity: "high", severityRank: 3, count: 1, lastID: newIP)])
            await #expect(try store.metricsReading(afterPoll: 0, afterAlert: ids[0]).alerts
                          == [AlertTally(type: "activation", severity: "critical", severityRank: 4, count: 1, lastID: ids[1]),
                              AlertTally(type: "new-ip", severity: "high", severityRank: 3, count: 1, lastID: newIP)])
            await #expect(try store.metricsReading(afterPoll: 0, afterAlert: ids[1]).alerts
                          == [AlertTally(type: "new-ip", severity: "high", severityRank: 3, count: 1, lastID: newIP)])
            await #expect(try store.metricsReading(afterPoll: 0, afterAlert: newIP).alerts.isEmpty)
        }
    }

    /// The gauges: deliveries still pending (every sink) and domains on at least one list, each once.
    @Test(arguments: Backend.allCases)
    func theGaugesArePendingDeliveriesAndWatchedDomains(backend: Backend) async throws {
        try await withStore(backend) { store in
            let ids = try await twoAlerts(store, sinks: [downSink("s1"), downSink("s2")])
            try await watch(store, ["one.example", "three.example", "four.example"], list: "other")
            _ = try await store.remove([try DomainName("four.example")], list: nil, now: 250)
            var reading = try await store.metricsReading(afterPoll: 0, afterAlert: 0)
            #expect(reading.watchedDomains == 3, "one, two and three; one is on two lists, four on none")
            #expect(reading.outboxPending == 4, "two alerts for two sinks")
            try await store.recordDelivery(alertID: ids[0], sink: "s1", at: 260, error: nil)
            try await store.recordDelivery(alertID: ids[1], sink: "s1", at: 260, error: "down")
            _ = try await store.remove([try DomainName("two.example")], list: "feed", now: 270)
            reading = try await store.metricsReading(afterPoll: 0, afterAlert: 0)
            #expect(reading.outboxPending == 3 && reading.watchedDomains == 2)
        }
    }
}
