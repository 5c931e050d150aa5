import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Serve
import Testing

@Suite struct CIRCLTests {
    func get(_ uri: String, headers: HTTPFields = [:], _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        let app = try await PDNSFixture.app()
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get, headers: headers) { response in try check(response) }
        }
    }

    @Test func domainGivesItsRRsetsAndTheRecordsNamingIt() async throws {
        try await get("/pdns/query/a.example") { r in
            #expect(r.status == .ok)
            let lines = ndjson(r.body)
            #expect(lines.count == 4)  // A .1, A .2, NS, and www's CNAME naming it
            let a1 = try #require(lines.first { $0["rdata"] as? String == "192.0.2.1" })
            #expect(a1["rrname"] as? String == "a.example." && a1["rrtype"] as? String == "A")
            #expect(a1["time_first"] as? Int == 1000 && a1["time_last"] as? Int == 3200 && a1["count"] as? Int == 5)
            #expect(a1["sensor_id"] == nil)
            let cname = try #require(lines.first { $0["rrtype"] as? String == "CNAME" })
            #expect(cname["rrname"] as? String == "www.a.example." && cname["rdata"] as? String == "a.example.")
        }
    }

    @Test func addressAndPrefix() async throws {
        try await get("/pdns/query/192.0.2.2") { r in
            #expect(Set(ndjson(r.body).compactMap { $0["rrname"] as? String }) == ["a.example.", "b.example."])
        }
        for uri in ["/pdns/query/192.0.2.0/24", "/pdns/query/192.0.2.0,24"] {
            try await get(uri) { r in #expect(ndjson(r.body).count == 3, "\(uri)") }
        }
        try await get("/pdns/query/2001:db8::1") { r in #expect(ndjson(r.body).count == 1) }
    }

    @Test func noResultIsAnEmpty200() async throws {
        try await get("/pdns/query/nothing.example") { r in
            #expect(r.status == .ok)
            #expect(r.body.readableBytes == 0)
        }
    }

    @Test func rrtypeFilter() async throws {
        try await get("/pdns/query/a.example", headers: [try hf("dribble-filter-rrtype"): "NS"]) { r in
            let lines = ndjson(r.body)
            #expect(lines.count == 1 && lines.first?["rdata"] as? String == "ns1.host.example.")
        }
        try await get("/pdns/query/a.example", headers: [try hf("dribble-filter-rrtype"): "NOPE"]) { r in
            #expect(r.status == .badRequest)
        }
    }

    @Test func dribblePaging() async throws {
        let app = try await PDNSFixture.app()
        try await app.test(.router) { client in
            var cursor: String?
            var seen: [String] = []
            var pages = 0
            repeat {
                var headers: HTTPFields = [try hf("dribble-paginate-count"): "3"]
                if let cursor { headers[try hf("dribble-paginate-cursor")] = cursor }
                cursor = try await client.execute(uri: "/pdns/query/a.example", method: .get, headers: headers) { r in
                    #expect(r.status == .ok)
                    seen += ndjson(r.body).map { "\($0["rrname"] ?? "") \($0["rrtype"] ?? "") \($0["rdata"] ?? "")" }
                    return r.headers[try hf("x-dribble-cursor")]
                }
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 2)
            #expect(seen.count == 4 && Set(seen).count == 4)
        }
    }

    @Test(arguments: ["/pdns/query/192.0.2.0,40", "/pdns/query/a..example", "/pdns/query/300.1.1.1"])
    func badQueryIs400(_ uri: String) async throws {
        try await get(uri) { r in #expect(r.status == .badRequest, "\(uri)") }
    }
}
