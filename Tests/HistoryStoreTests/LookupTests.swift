import DNSWatchModel
import Foundation
import GRDB
import Testing
@testable import HistoryStore

/// The inverse index (migration 0005) and the paged lookups of `Lookups.swift`.
@Suite struct LookupTests {
    /// A store with these domains watched; returns their ids by name.
    func store(_ names: [String]) async throws -> (HistoryStore, [String: Int64]) {
        let store = try HistoryStore(path: temporaryDatabase())
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) }, to: ListSpec(name: "t", kind: .c2), now: 1)
        let targets = try await store.pollTargets(afterID: 0, limit: 100_000)
        return (store, Dictionary(uniqueKeysWithValues: targets.map { ($0.name, $0.domainID) }))
    }

    func start(_ store: HistoryStore, _ spans: [(Int64, RRType, AnswerStatus, [String])], at t: Int64) async throws {
        try await store.write { w in
            try w.startSpans(spans.map { NewSpan(domainID: $0.0, rrtype: $0.1, status: $0.2, rdata: $0.3, class: nil, provider: nil) },
                             at: t, fingerprintVersion: nil)
        }
    }

    @Test func aBlockIsOneRangeWithItsEdgesInsideAndItsNeighboursOutside() async throws {
        let (store, ids) = try await store(["a.example", "b.example", "c.example", "d.example", "e.example"])
        try await start(store, [
            (ids["a.example"]!, .a, .noerror, ["91.195.239.255"]),   // just below the /23
            (ids["b.example"]!, .a, .noerror, ["91.195.240.0"]),     // first address
            (ids["c.example"]!, .a, .noerror, ["91.195.241.255", "192.0.2.1"]),  // last address, and another
            (ids["d.example"]!, .a, .noerror, ["91.195.242.0"]),     // just above
            (ids["e.example"]!, .aaaa, .noerror, ["5bc3:f000::1"]),  // an IPv6 address whose first bytes are 91.195.240/241
        ], at: 10)
        let hits = try await store.addressSpans(in: CIDR("91.195.240.0/23")!).collect()
        #expect(hits.map(\.span.domain) == ["b.example", "c.example"])
        #expect(hits.map(\.value) == ["91.195.240.0", "91.195.241.255"])
        #expect(hits.allSatisfy { $0.current })
        await #expect(try store.addressSpans(in: CIDR("0.0.0.0/0")!).collect().count == 5)  // every IPv4 value, no IPv6
        await #expect(try store.addressSpans(in: CIDR("::/0")!).collect().map(\.value) == ["5bc3:f000::1"])
        await #expect(try store.addressSpans(in: CIDR("::ffff:91.195.240.0/120")!).collect().map(\.span.domain) == ["b.example"])
    }

    @Test func anIPv4MappedAAAAValueIsFoundByItsIPv4AddressAndBlock() async throws {
        let (store, ids) = try await store(["m.example", "v4.example"])
        try await start(store, [(ids["m.example"]!, .aaaa, .noerror, ["::ffff:192.0.2.9"]),
                                (ids["v4.example"]!, .a, .noerror, ["192.0.2.10"])], at: 10)
        for block in ["192.0.2.9", "::ffff:192.0.2.9", "192.0.2.0/24", "::ffff:192.0.2.0/120"] {
            let hits = try await store.addressSpans(in: CIDR(block)!, pageSize: 1).collect()
            #expect(hits.contains { $0.span.domain == "m.example" && $0.value == "::ffff:192.0.2.9" && $0.span.rrtype == .aaaa }, "\(block): \(hits)")
        }
        await #expect(try store.addressSpans(in: CIDR("192.0.2.0/24")!, pageSize: 1).collect().map(\.span.domain) == ["v4.example", "m.example"])
        await #expect(try store.addressSpans(in: CIDR("192.0.3.0/24")!).collect().isEmpty)
    }

    @Test func aBlockWithMoreSightingsThanACallerHoldsIsRefusedOnceThePagesPassIt() async throws {
        let names = (0..<5).map { "s\($0).example" }
        let (store, ids) = try await store(names)
        try await start(store, names.map { (ids[$0]!, RRType.a, AnswerStatus.noerror, ["192.0.2.\(ids[$0]!)"]) }, at: 10)
        await #expect(try store.domains(resolvingInto: CIDR("192.0.2.0/24")!, atMost: 5).count == 5)
        await #expect(throws: TooManySightings.self) { try await store.domains(resolvingInto: CIDR("192.0.2.0/24")!, atMost: 4) }
        await #expect(try store.domains(resolvingInto: CIDR("192.0.2.0/24")!).count == 5)
    }

    @Test func pagesResumeWhereTheLastEndedWithNothingLostOrRepeated() async throws {
        let names = (0..<57).map { "d\($0).example" }
        let (store, ids) = try await store(names)
        // Every domain on the same address (a parking address), and some on a second.
        try await start(store, names.map { (ids[$0]!, RRType.a, AnswerStatus.noerror, ["91.195.240.94"] + ($0.hasPrefix("d1") ? ["91.195.240.95"] : [])) }, at: 10)
        var pages = 0
        var seen: [String] = []
        for try await page in store.addressSpans(in: CIDR("91.195.240.0/23")!, pageSize: 10) {
            pages += 1
            #expect(page.count <= 10)
            seen += page.map { "\($0.value) \($0.span.domain)" }
        }
        let expected = names.map { "91.195.240.94 \($0)" } + names.filter { $0.hasPrefix("d1") }.map { "91.195.240.95 \($0)" }
        #expect(seen.count == expected.count)
        #expect(Set(seen) == Set(expected))
        #expect(pages == (expected.count + 9) / 10)
        let rrsets = try await store.rrsetSpans(.subdomains(of: "example"), type: nil, fence: .none, pageSize: 16).collect()
        #expect(rrsets.map(\.domain).sorted() == names.sorted())
    }

    @Test func namesExactlyAndByLeftHandWildcard() async throws {
        let (store, ids) = try await store(["example.com", "www.example.com", "a.b.example.com", "badexample.com", "example.org"])
        try await start(store, ids.values.sorted().map { ($0, RRType.a, AnswerStatus.noerror, ["192.0.2.1"]) }, at: 10)
        try await start(store, [(ids["www.example.com"]!, .ns, .noerror, ["ns1.park.example", "ns2.park.example"]),
                                (ids["example.org"]!, .cname, .noerror, ["host.park.example"]),
                                (ids["example.com"]!, .aaaa, .nodata, [])], at: 11)
        let exact = try await store.rrsetSpans(.exact("example.com")).collect()
        #expect(exact.map(\.domain) == ["example.com"])  // NOERROR only: the NODATA AAAA span is not served
        let under = try await store.rrsetSpans(.subdomains(of: "example.com")).collect()
        #expect(Set(under.map(\.domain)) == ["www.example.com", "a.b.example.com"])  // not example.com, not badexample.com
        await #expect(try store.rrsetSpans(.subdomains(of: "example.com"), type: .ns).collect().map(\.rdata) == [["ns1.park.example", "ns2.park.example"]])
        await #expect(try store.nameSpans(holding: .exact("ns1.park.example")).collect().map(\.span.domain) == ["www.example.com"])
        let parkNames = try await store.nameSpans(holding: .subdomains(of: "park.example")).collect()
        #expect(parkNames.map(\.value) == ["host.park.example", "ns1.park.example", "ns2.park.example"])
        await #expect(try store.nameSpans(holding: .subdomains(of: "park.example"), type: .cname).collect().map(\.span.domain) == ["example.org"])
        await #expect(try store.domains(withNameServer: "ns2.park.example").map(\.domain) == ["www.example.com"])
    }

    @Test func rrsetsComeGroupedByNameTypeAndRdataAndFencesAreInclusive() async throws {
        let (store, ids) = try await store(["a.example"])
        let id = ids["a.example"]!
        try await start(store, [(id, .a, .noerror, ["192.0.2.1"])], at: 100)
        try await start(store, [(id, .a, .noerror, ["192.0.2.2"])], at: 200)
        try await start(store, [(id, .a, .noerror, ["192.0.2.1"])], at: 300)
        let spans = try await store.rrsetSpans(.exact("a.example")).collect()
        #expect(spans.map(\.rdata) == [["192.0.2.1"], ["192.0.2.1"], ["192.0.2.2"]])  // A→B→A: the two A spans consecutive
        #expect(spans.map(\.timeFirst) == [100, 300, 200])
        await #expect(try store.rrsetSpans(.exact("a.example"), fence: TimeFence(firstAfter: 200)).collect().map(\.timeFirst).sorted() == [200, 300])
        await #expect(try store.rrsetSpans(.exact("a.example"), fence: TimeFence(firstBefore: 200)).collect().map(\.timeFirst).sorted() == [100, 200])
        await #expect(try store.addressSpans(in: CIDR("192.0.2.1")!, fence: TimeFence(lastBefore: 100)).collect().map(\.span.timeFirst) == [100])
        let hits = try await store.addressSpans(in: CIDR("192.0.2.1")!).collect()
        #expect(hits.map(\.current) == [false, true])
    }

    @Test func theMigrationIndexesAnOlderDatabasesHistory() async throws {
        let path = temporaryDatabase()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        do {
            let pool = try DatabasePool(path: path)
            try Migrations.migrator(upTo: "0004_answer_hash").migrate(pool)
            try await pool.write { db in
                try db.execute(sql: "INSERT INTO domains (name, created) VALUES ('old.example', 1), ('www.old.example', 1)")
                try db.execute(sql: """
                    INSERT INTO spans (domain_id, rrtype, status, rdata, time_first, time_last, count) VALUES
                      (1, 'A', 'NOERROR', '192.0.2.1' || char(10) || '198.51.100.7', 1, 5, 3),
                      (1, 'AAAA', 'NOERROR', '2001:db8::1', 1, 5, 3),
                      (1, 'NS', 'NOERROR', 'ns1.sedoparking.com' || char(10) || 'ns2.sedoparking.com', 1, 5, 3),
                      (2, 'A', 'NXDOMAIN', '', 1, 5, 3),
                      (2, 'CNAME', 'NOERROR', 'old.example', 6, 9, 2)
                    """)
                try db.execute(sql: "INSERT INTO heads (domain_id, rrtype, span_id) VALUES (1, 'A', 1)")
            }
        }
        let store = try HistoryStore(path: path)
        await #expect(try store.addressSpans(in: CIDR("198.51.100.0/24")!).collect().map(\.span.domain) == ["old.example"])
        await #expect(try store.addressSpans(in: CIDR("2001:db8::/32")!).collect().map(\.value) == ["2001:db8::1"])
        await #expect(try store.domains(withNameServer: "ns2.sedoparking.com").map(\.domain) == ["old.example"])
        await #expect(try store.nameSpans(holding: .exact("old.example")).collect().map(\.span.domain) == ["www.old.example"])
        await #expect(try store.rrsetSpans(.subdomains(of: "old.example")).collect().map(\.rrtype) == [.cname])
        let count = try await store.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM span_values") }
        #expect(count == 6)  // 2 + 1 + 2 + 0 (NXDOMAIN) + 1
        let current = try await store.addressSpans(in: CIDR("192.0.2.1")!).collect()
        #expect(current.map(\.current) == [true])
    }

    @Test func everyQueryOfTheLookupsUsesAnIndex() async throws {
        let (store, _) = try await store(["a.example"])
        let plans = try await store.read { db -> [String] in
            var out: [String] = []
            for sql in [
                "SELECT * FROM span_values v JOIN spans s ON s.id = v.span_id JOIN domains d ON d.id = s.domain_id WHERE v.key >= x'04' AND v.key <= x'05' ORDER BY v.key, v.domain_id, v.span_id",
                "SELECT * FROM span_values v WHERE v.key = x'04' AND (v.domain_id, v.span_id) > (1, 1) ORDER BY v.key, v.domain_id, v.span_id",
                "SELECT 1 FROM heads h WHERE h.span_id = 1",
                "SELECT id FROM domains WHERE rname >= 'example.' AND rname < 'example/'",
            ] {
                out += try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
            }
            return out
        }
        #expect(plans.contains { $0.contains("(domain_id,span_id)>(?,?)") }, "a page resumes by seeking: \(plans)")
        #expect(!plans.isEmpty)
        #expect(plans.allSatisfy { !$0.hasPrefix("SCAN") }, "a full scan: \(plans)")
    }
}
