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
}
