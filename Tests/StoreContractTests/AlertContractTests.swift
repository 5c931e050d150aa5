import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport
import TestWorlds

/// Transitions and their alerts as a poll stores them, the alert reads, and the outbox: every alert
/// delivered once per sink, a failed delivery kept for the next poll.
@Suite struct AlertContractTests {
    /// c2.example parked at Sedo at 100 (the baseline), on an address of its own at 200 (the activation),
    /// the same at 300.
    func parkedThenMoved(_ store: any ContractStore, sink: CaptureSink) async throws -> [PollSummary] {
        try await watch(store, ["c2.example"], list: "feed", kind: .c2)
        let dns = ScriptedDNS()
        dns.set("c2.example", .a, ["91.195.240.94"])
        dns.set("c2.example", .ns, ["ns1.sedoparking.com", "ns2.sedoparking.com"])
        var summaries = [try await poll(store, dns, at: 100, sinks: [sink])]
        dns.set("c2.example", .a, ["45.0.121.77"])
        dns.set("c2.example", .ns, ["ns1.r.example"])
        summaries.append(try await poll(store, dns, at: 200, sinks: [sink]))
        summaries.append(try await poll(store, dns, at: 300, sinks: [sink]))
        return summaries
    }

    @Test(arguments: Backend.allCases)
    func aTransitionIsStoredAsOneAlertAndDeliveredOnce(backend: Backend) async throws {
        try await withStore(backend) { store in
            let sink = CaptureSink()
            let polls = try await parkedThenMoved(store, sink: sink)
            #expect(polls.map(\.counts.alerts) == [0, 1, 0], "the first observation is the baseline")
            #expect(polls.map(\.deliveryFailures) == [0, 0, 0])
            let alerts = try await store.alerts(since: nil, minRank: 0)
            #expect(alerts.map(\.domain) == ["c2.example"])
            let alert = try #require(alerts.first)
            #expect(alert.time == 200 && alert.list == "feed")
            #expect(alert.type == "activation" && alert.severity == "critical", "docs: for c2 lists activation is critical")
            await #expect(try store.alerts(domain: "c2.example") == alerts)
            await #expect(try store.latestAlerts(limit: 5) == alerts)
            await #expect(try store.alerts(since: 201, minRank: 0).isEmpty)
            await #expect(try store.alerts(domain: "other.example").isEmpty)
            await #expect(try store.state(of: "c2.example") == DomainState(class: .unknown))

            #expect(sink.delivered.count == 1 && sink.attempts.count == 1, "\(sink.attempts)")
            let payload = try object(try #require(sink.delivered.first))
            #expect(payload["domain"] as? String == "c2.example")
            #expect(payload["type"] as? String == "activation")
            #expect(payload["list"] as? String == "feed" && payload["kind"] as? String == "c2")
            #expect(payload["time"] as? Int == 200)
            let from = try #require(payload["from"] as? [String: Any]), to = try #require(payload["to"] as? [String: Any])
            #expect(from["class"] as? String == "parked" && from["provider"] as? String == "Sedo")
            #expect(to["class"] as? String == "unknown")
            #expect(payload["delivery_id"] is String)
            let stored = try object(alert.payload)
            #expect(stored["type"] as? String == "activation" && stored["domain"] as? String == "c2.example")
            await #expect(try store.pendingDeliveries(sinks: [sink.key], poller: "contract").isEmpty, "delivered: nothing queued")
        }
    }

    @Test(arguments: Backend.allCases)
    func aFailedDeliveryStaysQueuedAndGoesOutOnceLater(backend: Backend) async throws {
        try await withStore(backend) { store in
            let sink = CaptureSink(key: "flaky", failing: 1)
            let polls = try await parkedThenMoved(store, sink: sink)
            #expect(polls.map(\.counts.alerts) == [0, 1, 0])
            #expect(polls.map(\.deliveryFailures) == [0, 1, 0], "failed at 200, delivered by the poll at 300")
            #expect(sink.attempts.count == 2 && sink.delivered.count == 1, "\(sink.attempts)")
            let ids = try sink.attempts.map { try object($0)["delivery_id"] as? String }
            #expect(ids.count == 2 && ids[0] != nil && ids[0] == ids[1], "the same delivery id on every attempt: \(ids)")
            await #expect(try store.pendingDeliveries(sinks: ["flaky"], poller: "contract").isEmpty)
        }
    }

    /// An alert is queued for each sink configured when it is raised; each sink's queue is its own.
    @Test(arguments: Backend.allCases)
    func theOutboxHoldsAnAlertPerSinkUntilEachRecordsItsDelivery(backend: Backend) async throws {
        try await withStore(backend) { store in
            let good = CaptureSink(key: "good"), bad = CaptureSink(key: "bad", failing: 100)
            try await watch(store, ["c2.example"], list: "feed", kind: .c2)
            let dns = ScriptedDNS()
            dns.set("c2.example", .a, ["91.195.240.94"])
            dns.set("c2.example", .ns, ["ns1.sedoparking.com", "ns2.sedoparking.com"])
            try await poll(store, dns, at: 100, sinks: [good, bad])
            dns.set("c2.example", .a, ["45.0.121.77"])
            dns.set("c2.example", .ns, ["ns1.r.example"])
            let flip = try await poll(store, dns, at: 200, sinks: [good, bad])
            #expect(flip.counts.alerts == 1 && flip.deliveryFailures == 1)
            #expect(good.delivered.count == 1 && bad.attempts.count == 1)
            let alertID = try #require(try await store.alerts(since: nil, minRank: 0).first?.id)
            let queued = try await store.pendingDeliveries(sinks: ["good", "bad", "unconfigured"], poller: "contract")
            #expect(queued.map(\.sink) == ["bad"] && queued.map(\.alertID) == [alertID])
            let payload = try object(try #require(queued.first?.payload))
            #expect(payload["type"] as? String == "activation")
            // What /metrics reads: the finished polls, the alerts by type and severity, the outbox, the watched domains.
            let metrics = try await store.metricsReading(afterPoll: 0, afterAlert: 0)
            #expect(metrics.polls.map(\.started) == [100, 200] && metrics.polls.map(\.finished) == [100, 200])
            #expect(metrics.polls.map(\.queries) == [3, 3] && metrics.polls.map(\.answers) == [3, 3] && metrics.polls.map(\.failures) == [0, 0])
            #expect(metrics.alerts == [AlertTally(type: "activation", severity: "critical", severityRank: 4, count: 1, lastID: alertID)])
            #expect(metrics.outboxPending == 1 && metrics.watchedDomains == 1)
            let later = try await store.metricsReading(afterPoll: try #require(metrics.polls.last?.id), afterAlert: alertID)
            #expect(later.polls.isEmpty && later.alerts.isEmpty, "counted once")
            await #expect(try store.alerts(since: nil, minRank: 4).map(\.id) == [alertID])
            await #expect(try store.alerts(since: nil, minRank: 5).isEmpty)

            try await store.recordDelivery(alertID: alertID, sink: "bad", at: 250, error: nil)
            await #expect(try store.pendingDeliveries(sinks: ["good", "bad"], poller: "contract").isEmpty)
            await #expect(try store.metricsReading(afterPoll: 0, afterAlert: 0).outboxPending == 0)
        }
    }
}
