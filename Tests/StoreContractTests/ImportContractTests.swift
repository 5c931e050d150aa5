import DNSWatchModel
import SQLiteStore
import Store
import Poller
import Testing
import TestSupport
import TestWorlds

/// `import cof`: other sensors' records stored as spans of their source beside the polled ones, merged per
/// (name, type, rdata set, source) with the earliest first, the latest last and the largest count.
@Suite struct ImportContractTests {
    static let export = [
        #"{"count":12,"time_first":500,"time_last":900,"rrname":"c2.example.","rrtype":"A","rdata":["45.0.121.5","45.0.121.6"]}"#,
        #"{"count":20,"time_first":400,"time_last":800,"rrname":"c2.example","rrtype":"A","rdata":["45.0.121.6","45.0.121.5"]}"#,
        #"{"count":3,"time_first":100,"time_last":200,"rrname":"never.example.","rrtype":"NS","rdata":"ns1.host.example."}"#,
        #"{"count":1,"time_first":100,"time_last":200,"rrname":"c2.example.","rrtype":"MX","rdata":"10 mx.example."}"#,
    ].joined(separator: "\n") + "\n"

    @Test(arguments: Backend.allCases)
    func importedRecordsMergePerSourceBesideThePolledHistory(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await watch(store, ["c2.example"])
            let dns = ScriptedDNS()
            dns.set("c2.example", .a, ["192.0.2.1"])
            try await poll(store, dns, at: 1000)
            let dir = try TemporaryDirectory("dnswatch-contract-cof")
            let file = try dir.write("sensor.json", Self.export)
            let importer = COFImport(store: store, classifier: try embeddedClassifier.get())
            let first = try await importer.run([COFImport.Input(path: file, source: "sensor")], skipInvalid: false, now: 2000)
            #expect(first.read == 4 && first.skipped == ["MX": 1], "\(first)")
            #expect(first.counts.imported == 2 && first.counts.merged == 1 && first.counts.changed == 1, "\(first.counts)")

            let all = try await store.history(domain: "c2.example", type: .a, since: nil, until: nil, source: nil)
            #expect(all.map(\.source) == ["sensor", nil], "oldest first: \(all)")
            #expect(all.map(\.rdata) == [["45.0.121.5", "45.0.121.6"], ["192.0.2.1"]])
            #expect(all.first?.timeFirst == 400 && all.first?.timeLast == 900 && all.first?.count == 20)
            await #expect(try store.history(domain: "c2.example", type: nil, since: nil, until: nil, source: .polled).map(\.source)
                          == [nil, nil, nil])
            await #expect(try store.history(domain: "c2.example", type: nil, since: nil, until: nil, source: .named("sensor")).map(\.timeFirst)
                          == [400])
            await #expect(try store.history(domain: "never.example", type: nil, since: nil, until: nil, source: nil).map(\.rdata)
                          == [["ns1.host.example"]], "a name never watched is imported, its name-valued rdata without the dot")
            await #expect(try store.watchedDomains(list: nil).map(\.domain) == ["c2.example"], "importing watches nothing")

            // The address lookups count imported sightings, with their source.
            let hits = try await store.domains(resolvingInto: CIDR("45.0.121.5")!, atMost: nil)
            #expect(hits.map(\.domain) == ["c2.example"] && hits.map(\.source) == ["sensor"])

            // A record never raises an alert nor changes a state.
            await #expect(try store.alerts(since: nil, minRank: 0).isEmpty)
            await #expect(try store.state(of: "c2.example") == DomainState(class: .dormant))

            // The same export again: everything merges, nothing changes.
            let again = try await importer.run([COFImport.Input(path: file, source: "sensor")], skipInvalid: false, now: 3000)
            #expect(again.counts.imported == 0 && again.counts.merged == 3 && again.counts.changed == 0, "\(again.counts)")
            await #expect(try store.history(domain: "c2.example", type: .a, since: nil, until: nil, source: nil) == all)
        }
    }

    /// A plan is made from a read outside the write's transaction: a second import of the same source that
    /// wrote in between (on PostgreSQL, or an import without the poll lock on SQLite) is kept, neither lost
    /// nor a failure. Two imports that both read no span both create it: one span, the earliest first, the
    /// latest last and the largest count of both; a widening planned from an older read keeps the wider
    /// times and larger count written since.
    @Test(arguments: Backend.allCases)
    func aPlanFromAnOlderReadKeepsWhatAnotherImportWroteSince(backend: Backend) async throws {
        try await withStore(backend) { store in
            let source = try await store.importSource(named: "sensor", at: 10)
            #expect(try await store.importSource(named: "sensor", at: 20) == source, "a source is created once")
            func record(_ first: Int64, _ last: Int64, _ count: Int) -> ImportedRecord {
                ImportedRecord(domain: "x.example", rrtype: .a, rdata: ["192.0.2.7"], timeFirst: first, timeLast: last, count: count)
            }
            let key = ImportKey(record(0, 0, 0))
            func plan(_ r: ImportedRecord, _ read: [StoredImportSpan]) -> ImportPlan {
                ImportPlan.merging([r], into: read, sourceID: source, at: 30, fingerprintVersion: nil) { _ in DomainState(class: .unknown) }
            }
            func stored() async throws -> [[Int64]] {
                try await store.importedSpans(matching: [key], sourceID: source).map { [$0.timeFirst, $0.timeLast, Int64($0.count)] }
            }
            let readA = try await store.importedSpans(matching: [key], sourceID: source)
            let readB = try await store.importedSpans(matching: [key], sourceID: source)
            #expect(readA.isEmpty && readB.isEmpty)
            try await store.applyImport(plan(record(500, 900, 12), readA))
            try await store.applyImport(plan(record(400, 800, 20), readB))
            #expect(try await stored() == [[400, 900, 20]])

            let older = try await store.importedSpans(matching: [key], sourceID: source)
            try await store.applyImport(plan(record(300, 850, 30), try await store.importedSpans(matching: [key], sourceID: source)))
            try await store.applyImport(plan(record(450, 1000, 5), older))
            #expect(try await stored() == [[300, 1000, 30]])

            await #expect(try store.history(domain: "x.example", type: nil, since: nil, until: nil, source: nil).map(\.source) == ["sensor"])
            let hits = try await store.domains(resolvingInto: CIDR("192.0.2.7")!, atMost: nil)
            #expect(hits.map(\.domain) == ["x.example"], "one span, its value in the inverse index once: \(hits)")
        }
    }

    /// A new imported span is classified as a poll classifies an answer, from the origin ASNs cached for its
    /// addresses (expired or not: what was known; an import never asks): an address of Sedo's AS is parked at
    /// Sedo, one cached without an AS is unknown. A merged record keeps its span's class.
    @Test(arguments: Backend.allCases)
    func importedSpansAreClassifiedFromTheCachedOriginASNs(backend: Backend) async throws {
        try await withStore(backend) { store in
            try await store.saveASN([ASNEntry(address: "45.0.200.9", asn: 47846)], none: [ASNEntry(address: "45.0.200.10", asn: nil)],
                                    at: 10, ttl: 5, negativeTTL: 5)
            let dir = try TemporaryDirectory("dnswatch-contract-cof-asn")
            let importer = COFImport(store: store, classifier: try embeddedClassifier.get())
            let file = try dir.write("asn.json", [
                #"{"count":2,"time_first":500,"time_last":900,"rrname":"p.example.","rrtype":"A","rdata":["45.0.200.9"]}"#,
                #"{"count":2,"time_first":500,"time_last":900,"rrname":"u.example.","rrtype":"A","rdata":["45.0.200.10"]}"#,
            ].joined(separator: "\n") + "\n")
            let first = try await importer.run([COFImport.Input(path: file, source: "sensor")], skipInvalid: false, now: 2000)
            #expect(first.counts == MergeCounts(imported: 2, merged: 0, changed: 0))
            func classes() async throws -> [String] {
                var out: [String] = []
                for name in ["p.example", "u.example"] {
                    for s in try await store.history(domain: name, type: .a, since: nil, until: nil, source: nil) {
                        out.append("\(name) \(s.class?.rawValue ?? "-") \(s.provider ?? "-") \(s.timeFirst)-\(s.timeLast)")
                    }
                }
                return out
            }
            #expect(try await classes() == ["p.example parked Sedo 500-900", "u.example unknown - 500-900"])

            // The AS of 45.0.200.10 becomes known: a record that merges into its span keeps the span's class.
            try await store.saveASN([ASNEntry(address: "45.0.200.10", asn: 47846)], none: [], at: 3000, ttl: 5, negativeTTL: 5)
            let later = try dir.write("later.json",
                                      #"{"count":3,"time_first":400,"time_last":900,"rrname":"u.example.","rrtype":"A","rdata":["45.0.200.10"]}"# + "\n")
            let again = try await importer.run([COFImport.Input(path: later, source: "sensor")], skipInvalid: false, now: 4000)
            #expect(again.counts == MergeCounts(imported: 0, merged: 1, changed: 1))
            #expect(try await classes() == ["p.example parked Sedo 500-900", "u.example unknown - 400-900"])
        }
    }
}
