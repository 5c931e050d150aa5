import Classification
import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
import Logging
import Poller
import Resolver
import Synchronization
import TestSupport
import TestWorlds
import Testing

/// A clock that ticks once a reading: the poller reads it when it writes a batch, so `last_polled`
/// tells the order in which batches were committed.
final class TickingClock: Sendable {
    private let now = Atomic<Int64>(1_000)
    func read() -> Int64 { now.add(1, ordering: .relaxed).newValue }
}

@Suite struct StreamTests {
    @Test func aSlowDomainHoldsBackOnlyItsOwnBatch() async throws {
        let world = try World(records: [])
        let names = (0..<300).map { String(format: "s%03d.example", $0) }
        try await world.watch(names, list: "stream", kind: .c2)
        // Every question is answered NXDOMAIN at once, except those about the first domain: held until every
        // other batch is written (a condition, not a delay). If a slow question held back more than its own
        // batch, that never happens and the wait fails.
        let released = Atomic<Bool>(false)
        let server = try DelayedUDPServer { query, _ in
            let name = DNSTestWire.parseQuery(query)?.name ?? ""
            let hold = name.hasPrefix("s000.") && !released.load(ordering: .acquiring)
            return (DNSTestWire.reply(to: query, rcode: 3), hold ? 3600 : 0.001)
        }
        // A try's reply is taken until `timeout` after it was sent: long enough for the wait below.
        let resolver = try DNSResolver(endpoints: [try ResolverEndpoint(server.endpoint)], options: ResolverOptions(timeout: 120))
        var options = PollOptions()
        options.asnLookups = false
        options.batchSize = 50
        let poller = Poller(store: world.store, holding: try PollLock(store: world.store, wait: false), engine: resolver, classifier: world.classifier,
                            options: options, logger: Logger(label: "test"))
        let clock = TickingClock()
        let polling = Task { try await poller.poll(clock: { clock.read() }) }
        let reader = try DatabaseQueue(path: world.dbPath)
        // s000.example's batch is the first (domains are claimed in the order they were added); the plan says
        // how many it holds. Only the wait uses it: the expectations below are the order of commits.
        let firstBatch = try #require(Poller.batchPlan(total: 300, batchSize: 50).first)
        try await waitUntil("every batch but s000.example's (\(firstBatch) domains) written while it waits", timeout: 100, every: 20) {
            try await reader.read { db in
                try Int.fetchOne(db, sql: """
                    SELECT count(*) FROM domain_status WHERE last_polled IS NOT NULL
                    """) ?? 0
            } == 300 - firstBatch
        }
        released.store(true, ordering: .releasing)
        server.releaseHeld()
        let summary = try await polling.value
        #expect(summary.counts.domains == 300 && summary.counts.failures == 0)
        let polled = try await reader.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: """
                SELECT d.name, s.last_polled FROM domains d JOIN domain_status s ON s.domain_id = d.id
                """).map { (row: Row) -> (String, Int64) in (row[0], row[1]) })
        }
        #expect(polled.count == 300)
        let slow = try #require(polled["s000.example"])
        // The slow domain's batch (the first) was committed last: every later batch had been sent,
        // answered and written while it waited.
        #expect(slow == polled.values.max())
        #expect(try #require(polled["s299.example"]) < slow)
        #expect(try #require(polled["s100.example"]) < slow)
    }
}
