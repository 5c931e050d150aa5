import Classification
import DNSWatchModel
import SQLiteStore
import Store
import Logging
@testable import Poller
import TestSupport
import TestWorlds
import Testing

/// What a poll stores that is made with FNV-1a (its vectors: ModelTests/FNV1aTests) must not change between
/// versions: a domain's answer hash (`domain_status.answer_hash`, compared with the next poll's answers to
/// take the fast path) and its due-time jitter (`next_due`). Pinned as the database holds them after a poll
/// through the product (`Poller`, its batch writer, a scripted resolver), so a change of seed, byte order,
/// width, separator or field order fails here.
///
/// The pinned values were computed outside Swift from the documented recipe (FNV-1a 64 over, per record type
/// in the order A, AAAA, NS, CNAME: the type, the status, each sorted rdata and an empty field, each followed
/// by the byte 0x1F; stored as the signed 64-bit integer of the same bits).
@Suite struct StoredHashTests {
    /// The stored answer hash of each watched domain, by name.
    static func storedHashes(_ store: SQLiteStore) async throws -> [String: Int64?] {
        let targets = try await store.pollTargets(afterID: 0, limit: 100)
        let ids = targets.map(\.domainID)
        let memory = try await store.pollMemory(domainIDs: ids).mapValues(\.answerHash)
        return Dictionary(uniqueKeysWithValues: targets.map { ($0.name, memory[$0.domainID] ?? nil) })
    }

    /// A parked domain as a poll sees it: A at Sedo, no AAAA, Sedo's two name servers.
    @Test func answerHashOfAParkedDomainAsStored() async throws {
        let store = try SQLiteStore(path: try TemporaryDirectory("dnswatch-hash").path("db.sqlite"))
        _ = try await store.addEntries([ListEntry(domain: try DomainName("parked.example"))], to: ListSpec(name: "t", kind: .c2), now: 1)
        var options = PollOptions()
        options.asnLookups = false
        let engine = ScriptedDNS(timingOut: [
            Question(name: "parked.example", type: .a): Answer(status: .noerror, rdata: ["91.195.240.94"]),
            Question(name: "parked.example", type: .aaaa): Answer(status: .nodata),
            Question(name: "parked.example", type: .ns): Answer(status: .noerror, rdata: ["ns2.sedoparking.com", "ns1.sedoparking.com"]),
        ])
        let poller = Poller(store: store, holding: try PollLock(store: store, wait: false), engine: engine,
                            classifier: Classifier(fingerprints: try .embedded()), options: options, logger: Logger(label: "t"))
        let summary = try await poller.poll(clock: { 1_790_000_000 })
        #expect(summary.counts.answers == 3, "\(summary.line)")
        let stored = try await Self.storedHashes(store)
        #expect(stored["parked.example"] == .some(-1_816_602_952_627_919_621))
    }

    /// The fixture's domains after their last polls: one address, a CNAME ending in NODATA, an NXDOMAIN.
    @Test func answerHashesOfTheFixtureAsStored() async throws {
        let stored = try await Self.storedHashes(try await PDNSFixture.store())
        #expect(stored["a.example"] == .some(-8_273_730_944_696_696_962))  // A NOERROR 192.0.2.1
        #expect(stored["www.a.example"] == .some(-8_557_210_243_680_581_884))  // A NODATA, CNAME NOERROR a.example
        #expect(stored["b.example"] == .some(7_813_537_664_264_886_521))  // A NXDOMAIN
        #expect(stored.count == 4)
    }

    /// The due-time jitter: FNV-1a 64 of the name modulo the spread (a tenth of a day: 8640 s).
    @Test func dueTimeJitterIsPinned() {
        #expect(Poller.jitter(for: "parked.example", interval: 86400, share: 0.1) == 6420)
        #expect(Poller.jitter(for: "parked.example", interval: 86400, share: 0) == 0)
    }
}
