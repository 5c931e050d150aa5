import DNSWatchModel
import Foundation
import GRDB
import Testing
@testable import HistoryStore

/// `triageReads`: what a batch of triages reads, in one read transaction, now or as of a time.
@Suite struct TriageReadsTests {
    func store() async throws -> (HistoryStore, [String: Int64]) {
        let store = try HistoryStore(path: temporaryDatabase())
        let names = ["a.example", "b.example"]
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) }, to: ListSpec(name: "t", kind: .c2), now: 1)
        let ids = Dictionary(uniqueKeysWithValues: try await store.pollTargets(afterID: 0, limit: 10).map { ($0.name, $0.domainID) })
        func start(_ id: Int64?, _ rdata: [String], at t: Int64) async throws {
            let id = try #require(id)
            try await store.write { w in
                try w.startSpans([NewSpan(domainID: id, rrtype: .a, status: .noerror, rdata: rdata, class: .unknown, provider: nil)],
                                 at: t, fingerprintVersion: nil)
            }
        }
        // a.example: 192.0.2.1 from 10, 192.0.2.2 from 20; b.example: 192.0.2.1 from 15.
        try await start(ids["a.example"], ["192.0.2.1"], at: 10)
        try await start(ids["b.example"], ["192.0.2.1"], at: 15)
        try await start(ids["a.example"], ["192.0.2.2"], at: 20)
        return (store, ids)
    }

    func current(_ reads: TriageReads, _ block: String) throws -> [String: Bool] {
        let cidr = try #require(CIDR(block))
        let hits = try #require(reads.sightings[cidr])
        return Dictionary(uniqueKeysWithValues: hits.map { ($0.domain, $0.current) })
    }

    @Test func spansAsOfATime() async throws {
        let (store, _) = try await store()
        let one = "192.0.2.1/32", two = "192.0.2.2/32", net = "192.0.2.0/24"
        let blocks = [one, two, net].compactMap(CIDR.init)
        let now = try await store.triageReads(blocks: blocks, domains: ["a.example"], now: 0)
        #expect(try current(now, one) == ["a.example": false, "b.example": true])
        #expect(try current(now, two) == ["a.example": true])
        #expect(now.sightings[CIDR(net)!]?.count == 3)
        #expect(now.history["a.example"]?.map(\.rdata) == [["192.0.2.1"], ["192.0.2.2"]])
        #expect(Set(now.sharing.keys) == ["192.0.2.1", "192.0.2.2"])
        #expect(Set(now.memberships.keys) == ["a.example", "b.example"])

        let at12 = try await store.triageReads(blocks: blocks, domains: ["a.example"], at: 12, now: 0)
        #expect(try current(at12, one) == ["a.example": true], "b.example came at 15")
        #expect(try current(at12, two).isEmpty, "not seen yet")
        #expect(at12.history["a.example"]?.count == 1)
        let at20 = try await store.triageReads(blocks: blocks, domains: ["a.example"], at: 20, now: 0)
        #expect(try current(at20, one) == ["a.example": false, "b.example": true], "at 20 the move was seen")
        let at5 = try await store.triageReads(blocks: blocks, domains: ["a.example"], at: 5, now: 0)
        #expect(at5.sightings.values.allSatisfy(\.isEmpty) && at5.history.isEmpty)
    }

    @Test func everyQueryOfTheBatchUsesAnIndex() async throws {
        let (store, _) = try await store()
        let plans = try await store.read { db -> [String] in
            var out: [String] = []
            for (sql, n) in [(HistoryStore.sightingsSQL(at: false), 2), (HistoryStore.sightingsSQL(at: true), 4),
                             (HistoryStore.historySQL(3, at: true), 4), (HistoryStore.statesSQL(3), 3)] {
                let args = StatementArguments(Array(repeating: DatabaseValue.null, count: n))
                out += try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: args).map { $0["detail"] as String }
            }
            return out
        }
        #expect(!plans.isEmpty)
        #expect(plans.allSatisfy { !$0.hasPrefix("SCAN") }, "a full scan: \(plans)")
    }
}
