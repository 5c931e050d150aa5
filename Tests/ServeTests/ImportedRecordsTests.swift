import Classification
import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Hummingbird
import HummingbirdTesting
import Serve
import Testing

/// Other sensors' records (`import cof`) through the passive-DNS endpoints: served beside the polled ones,
/// aggregated per source, each object of an imported record with `sensor_id`.
@Suite struct ImportedRecordsTests {
    /// PDNSFixture's polled history, plus: sensor-x saw a.example A 192.0.2.1 (500 to 4000, 40 times) and
    /// peer.example A 192.0.2.1; sensor-y saw a.example A 192.0.2.1 too.
    func get(_ uri: String, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        let store = try await PDNSFixture.store()
        let unknown: ([String: Int]) -> (ImportedRecord) -> DomainState = { _ in { _ in DomainState(class: .unknown) } }
        _ = try await store.importBatch([
            ImportedRecord(domain: "a.example", rrtype: .a, rdata: ["192.0.2.1"], timeFirst: 500, timeLast: 4000, count: 40),
            ImportedRecord(domain: "peer.example", rrtype: .a, rdata: ["192.0.2.1"], timeFirst: 600, timeLast: 700, count: 2),
        ], source: "sensor-x", at: 10, fingerprintVersion: nil, classify: unknown)
        _ = try await store.importBatch([ImportedRecord(domain: "a.example", rrtype: .a, rdata: ["192.0.2.1"], timeFirst: 800, timeLast: 900, count: 7)],
                                        source: "sensor-y", at: 10, fingerprintVersion: nil, classify: unknown)
        let deps = ServeDependencies(store: store, classifier: Classifier(fingerprints: try .embedded()))
        let app = Application(router: DNSWatchServer.router(deps, auth: .open))
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in try check(response) }
        }
    }

    @Test func circlObjectsOfImportedRecordsCarryTheirSensor() async throws {
        try await get("/pdns/query/a.example") { r in
            let a1 = ndjson(r.body).filter { $0["rdata"] as? String == "192.0.2.1" }
            #expect(a1.count == 3, "one object per source: \(a1)")
            let polled = try #require(a1.first { $0["sensor_id"] == nil })
            #expect(polled["count"] as? Int == 5 && polled["time_first"] as? Int == 1000 && polled["time_last"] as? Int == 3200)
            let x = try #require(a1.first { $0["sensor_id"] as? String == "sensor-x" })
            #expect(x["count"] as? Int == 40 && x["time_first"] as? Int == 500 && x["time_last"] as? Int == 4000)
            #expect(a1.contains { $0["sensor_id"] as? String == "sensor-y" && $0["count"] as? Int == 7 })
        }
        try await get("/pdns/query/192.0.2.1") { r in
            let lines = ndjson(r.body)
            let peer = try #require(lines.first { $0["rrname"] as? String == "peer.example." })
            #expect(peer["sensor_id"] as? String == "sensor-x" && peer["count"] as? Int == 2)
            #expect(lines.filter { $0["rrname"] as? String == "a.example." }.count == 3)
        }
    }

    @Test func dnsdbObjectsOfImportedRecordsCarryTheirSensor() async throws {
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A") { r in
            let (objects, cond) = saf(r.body)
            #expect(cond == "succeeded")
            let one = objects.filter { ($0["rdata"] as? [String]) == ["192.0.2.1"] }
            #expect(one.count == 3)
            #expect(one.filter { $0["sensor_id"] == nil }.count == 1)
            #expect(one.first { $0["sensor_id"] as? String == "sensor-x" }?["count"] as? Int == 40)
        }
        try await get("/dnsdb/v2/lookup/rdata/ip/192.0.2.1") { r in
            let (objects, _) = saf(r.body)
            #expect(objects.first { $0["rrname"] as? String == "peer.example." }?["sensor_id"] as? String == "sensor-x")
            #expect(objects.filter { $0["rrname"] as? String == "a.example." }.compactMap { $0["sensor_id"] as? String }.sorted() == ["sensor-x", "sensor-y"])
        }
    }
}
