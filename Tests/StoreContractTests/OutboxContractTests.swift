import Alerting
import DNSWatchModel
import Foundation
import Logging
import Poller
import Store
import Testing
import TestSupport
import TestWorlds

/// Two c2 domains parked at Sedo at 100, live on addresses of their own at 200: two activation alerts,
/// queued for `sinks` (which may fail them). Returns the alerts' ids, oldest first.
func twoAlerts(_ store: any ContractStore, sinks: [any AlertSink]) async throws -> [Int64] {
    let names = ["one.example", "two.example"]
    try await watch(store, names, list: "feed", kind: .c2)
    let dns = ScriptedDNS()
    for name in names {
        dns.set(name, .a, ["91.195.240.94"])
        dns.set(name, .ns, ["ns1.sedoparking.com", "ns2.sedoparking.com"])
    }
    try await poll(store, dns, at: 100, sinks: sinks)
    dns.set("one.example", .a, ["45.0.121.77"])
    dns.set("two.example", .a, ["45.0.121.78"])
    for name in names { dns.set(name, .ns, ["ns1.r.example"]) }
    let flip = try await poll(store, dns, at: 200, sinks: sinks)
    #expect(flip.counts.alerts == 2)
    let alerts = try await store.alerts(since: nil, minRank: 0)
    #expect(alerts.map(\.domain) == ["one.example", "two.example"])
    return alerts.map(\.id)
}

/// A sink that is down: every delivery fails, so what the poll queued stays queued.
func downSink(_ key: String) -> any AlertSink { CaptureSink(key: key, failing: .max) }

/// Ends the claims the contract's poller holds on these sinks' deliveries (on PostgreSQL a poll keeps the
/// claim of a delivery it held back behind a failed one), each by a failed attempt.
func releaseClaims(_ store: any ContractStore, sinks: [String]) async throws {
    for q in try await store.pendingDeliveries(sinks: sinks, poller: "contract") {
        try await store.recordDelivery(alertID: q.alertID, sink: q.sink, at: 250, error: "down")
    }
}

/// The alert outbox as the store keeps it: an alert queued once for each sink configured when it was
/// raised, handed out oldest first until a delivery is recorded, a failed attempt leaving it queued.
@Suite struct OutboxContractTests {
    @Test(arguments: Backend.allCases)
    func eachAlertIsQueuedPerSinkOldestFirst(backend: Backend) async throws {
        try await withStore(backend) { store in
            let ids = try await twoAlerts(store, sinks: [downSink("s2"), downSink("s1")])
            let queued = try await store.pendingDeliveries(sinks: ["s1", "s2"], poller: "contract")
            #expect(queued.map(\.alertID) == [ids[0], ids[0], ids[1], ids[1]], "oldest first")
            #expect(Set(queued.map { "\($0.alertID) \($0.sink)" }).count == 4)
            #expect(queued.filter { $0.alertID == ids[0] }.map(\.sink).sorted() == ["s1", "s2"])
            let alerts = try await store.alerts(since: nil, minRank: 0)
            for q in queued {
                #expect(q.payload == alerts.first { $0.id == q.alertID }?.payload, "the stored payload is what goes out")
            }
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "contract").map(\.alertID) == ids)
            await #expect(try store.pendingDeliveries(sinks: ["s3"], poller: "contract").isEmpty,
                          "a sink configured later gets no earlier alert")
            await #expect(try store.pendingDeliveries(sinks: [], poller: "contract").isEmpty)
            await #expect(try store.metricsReading(afterPoll: 0, afterAlert: 0).outboxPending == 4)
        }
    }

    /// A recorded failure leaves the delivery queued (for that sink only); a recorded delivery ends it for
    /// good: neither a second delivery nor a later failure of the same pair brings it back.
    @Test(arguments: Backend.allCases)
    func aDeliveryIsRecordedOnceAndAFailureKeepsItQueued(backend: Backend) async throws {
        try await withStore(backend) { store in
            let ids = try await twoAlerts(store, sinks: [downSink("s1"), downSink("s2")])
            try await store.recordDelivery(alertID: ids[0], sink: "s1", at: 210, error: "connection refused")
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "contract").map(\.alertID) == ids, "a failure stays queued")

            try await store.recordDelivery(alertID: ids[0], sink: "s1", at: 220, error: nil)
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "contract").map(\.alertID) == [ids[1]])
            await #expect(try store.pendingDeliveries(sinks: ["s2"], poller: "contract").map(\.alertID) == ids, "s2's queue is its own")
            await #expect(try store.metricsReading(afterPoll: 0, afterAlert: 0).outboxPending == 3)

            try await store.recordDelivery(alertID: ids[0], sink: "s1", at: 230, error: nil)
            try await store.recordDelivery(alertID: ids[0], sink: "s1", at: 240, error: "late failure")
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "contract").map(\.alertID) == [ids[1]], "delivered once")
            await #expect(try store.metricsReading(afterPoll: 0, afterAlert: 0).outboxPending == 3)

            for id in ids {
                for sink in ["s1", "s2"] { try await store.recordDelivery(alertID: id, sink: sink, at: 250, error: nil) }
            }
            await #expect(try store.pendingDeliveries(sinks: ["s1", "s2"], poller: "contract").isEmpty)
            await #expect(try store.metricsReading(afterPoll: 0, afterAlert: 0).outboxPending == 0)
        }
    }

    /// What a poll does with the outbox: a sink that was down gets its queued alerts, oldest first, from the
    /// next poll that has it configured, once.
    @Test(arguments: Backend.allCases)
    func theNextPollDeliversWhatAnEarlierOneCouldNot(backend: Backend) async throws {
        try await withStore(backend) { store in
            _ = try await twoAlerts(store, sinks: [downSink("later")])
            let later = CaptureSink(key: "later")
            let dns = ScriptedDNS()
            let next = try await poll(store, dns, at: 300, due: true, sinks: [later])
            #expect(next.pollID == 0 && next.deliveryFailures == 0, "nothing due; the outbox is tried all the same")
            #expect(try later.delivered.map { try object($0)["domain"] as? String } == ["one.example", "two.example"])
            await #expect(try store.pendingDeliveries(sinks: ["later"], poller: "contract").isEmpty)
            try await poll(store, dns, at: 310, due: true, sinks: [later])
            #expect(later.attempts.count == 2, "delivered once: \(later.attempts.count) attempts")
        }
    }
}

/// PostgreSQL's own: pollers share one outbox, so a delivery handed to one poller is nobody else's until
/// that poller records it (or its claim runs out); one sink's queue goes out from one poller, in order.
@Suite struct PostgresOutboxContractTests {
    @Test func aDeliveryClaimedByOnePollerIsNotHandedToAnother() async throws {
        try await withStore(.postgresql) { store in
            let ids = try await twoAlerts(store, sinks: [downSink("s1"), downSink("s2")])
            try await releaseClaims(store, sinks: ["s1", "s2"])
            let a1 = try await store.pendingDeliveries(sinks: ["s1"], poller: "a")
            #expect(a1.map(\.alertID) == ids)
            await #expect(try store.pendingDeliveries(sinks: ["s1", "s2"], poller: "b").map(\.sink) == ["s2", "s2"],
                          "s1's queue is a's while it holds any of it")
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "a").map(\.alertID) == ids, "still a's")
            // A new alert for s1 while a holds part of s1's queue is a's as well (one sink, one poller, in
            // order); the poll that raised it gets nothing of s1's or s2's queue, both held.
            let dns = ScriptedDNS()
            dns.set("one.example", .a, ["45.0.121.79"])
            dns.set("one.example", .ns, ["ns1.r.example"])
            dns.set("two.example", .a, ["45.0.121.78"])
            dns.set("two.example", .ns, ["ns1.r.example"])
            let moved = try await poll(store, dns, at: 300, sinks: [downSink("s1"), downSink("s2")])
            #expect(moved.counts.alerts == 1 && moved.deliveryFailures == 0, "\(moved.counts), \(moved.deliveryFailures) failed")
            let third = try #require(try await store.alerts(since: 300, minRank: 0).first?.id)
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "b").isEmpty, "s1's queue is a's while it holds any of it")
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "a").map(\.alertID) == ids + [third])
            try await store.recordDelivery(alertID: ids[0], sink: "s1", at: 310, error: nil)
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "b").isEmpty, "a still holds the rest")
            try await store.recordDelivery(alertID: ids[1], sink: "s1", at: 310, error: "refused")
            try await store.recordDelivery(alertID: third, sink: "s1", at: 310, error: "refused")
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "b").map(\.alertID) == [ids[1], third],
                          "a failed attempt ends the claim: the next poller takes the queue")
            await #expect(try store.pendingDeliveries(sinks: ["s1"], poller: "a").isEmpty)
        }
    }

    /// Pollers asking at the same moment never get the same delivery.
    @Test func pollersAskingTogetherGetDisjointDeliveries() async throws {
        try await withStore(.postgresql) { store in
            let sinks = ["s1", "s2", "s3"]
            _ = try await twoAlerts(store, sinks: sinks.map(downSink))
            try await releaseClaims(store, sinks: sinks)
            for round in 0..<200 {  // enough rounds that two claims at the same moment happen
                async let a = store.pendingDeliveries(sinks: sinks, poller: "a")
                async let b = store.pendingDeliveries(sinks: sinks, poller: "b")
                let (ga, gb) = try await (a, b)
                let keys = { (q: [QueuedDelivery]) in Set(q.map { "\($0.alertID) \($0.sink)" }) }
                #expect(keys(ga).isDisjoint(with: keys(gb)), "round \(round): \(ga) and \(gb)")
                #expect(keys(ga).count + keys(gb).count <= 6)
                // One sink's queue from one poller, even for claims at the same moment (claims are made one at
                // a time: without that, each one's NOT EXISTS reads a snapshot without the other's uncommitted
                // claims, and SKIP LOCKED hands each the rows the other has not locked yet).
                #expect(Set(ga.map(\.sink)).isDisjoint(with: gb.map(\.sink)), "round \(round): one sink's queue from one poller")
                // Both record failures: every claim ends, and the next round starts from a free outbox.
                for q in ga + gb { try await store.recordDelivery(alertID: q.alertID, sink: q.sink, at: 300, error: "down") }
            }
            await #expect(try store.pendingDeliveries(sinks: sinks, poller: "c").count == 6)
        }
    }
}
