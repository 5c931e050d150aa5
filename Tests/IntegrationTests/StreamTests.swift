import Classification
import DNSWatchModel
import Foundation
import GRDB
import HistoryStore
import Logging
import Poller
import Resolver
import Synchronization
import TestSupport
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
        // Every question is answered NXDOMAIN at once, but those about the first domain only after 1.5 s.
        let server = try DelayedUDPServer { query, _ in
            let name = DNSTestWire.parseQuery(query)?.name ?? ""
            return (DNSTestWire.reply(to: query, rcode: 3), name.hasPrefix("s000.") ? 1.5 : 0.001)
        }
        let resolver = try DNSResolver(endpoints: [try ResolverEndpoint(server.endpoint)], options: ResolverOptions(timeout: 3))
        var options = PollOptions()
        options.asnLookups = false
        options.batchSize = 50
        let poller = Poller(lock: try PollLock(store: world.store, wait: false), engine: resolver, classifier: world.classifier,
                            options: options, logger: Logger(label: "test"))
        let clock = TickingClock()
        let summary = try await poller.poll(clock: { clock.read() })
        #expect(summary.counts.domains == 300 && summary.counts.failures == 0)
        let polled = try await DatabaseQueue(path: world.dbPath).read { db in
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
