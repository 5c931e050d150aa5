import Foundation
import Hummingbird
import HummingbirdTesting
import Serve
import Testing

@Suite struct DNSDBTests {
    func get(_ uri: String, _ check: @escaping @Sendable (TestResponse) throws -> Void) async throws {
        let app = try await PDNSFixture.app()
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in try check(response) }
        }
    }

    @Test func pingAndRateLimit() async throws {
        try await get("/dnsdb/v2/ping") { r in
            #expect(r.status == .ok)
            #expect(String(buffer: r.body).trimmingCharacters(in: .whitespacesAndNewlines) == #"{"ping":"ok"}"#)
        }
        try await get("/dnsdb/v2/rate_limit") { r in
            let o = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8)) as? [String: Any])
            #expect(o["rate"] is [String: Any])
        }
    }

    @Test func rrsetAggregatedAndPerSpan() async throws {
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A") { r in
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "application/x-ndjson")
            let (objects, cond) = saf(r.body)
            #expect(cond == "succeeded")
            // A→B→A: two rdata sets.
            #expect(objects.count == 2)
            let one = try #require(objects.first { ($0["rdata"] as? [String]) == ["192.0.2.1"] })
            #expect(one["rrname"] as? String == "a.example.")
            #expect(one["rrtype"] as? String == "A")
            #expect(one["time_first"] as? Int == 1000 && one["time_last"] as? Int == 3200 && one["count"] as? Int == 5)
        }
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f") { r in
            let (objects, cond) = saf(r.body)
            #expect(cond == "succeeded")
            #expect(objects.count == 3)
            let spans = objects.map { [$0["time_first"] as? Int ?? -1, $0["time_last"] as? Int ?? -1, $0["count"] as? Int ?? -1] }
            #expect(Set(spans) == [[1000, 1100, 2], [2000, 2000, 1], [3000, 3200, 3]])
        }
        try await get("/dnsdb/v2/lookup/rrset/name/A.Example./a?aggr=FALSE") { r in
            #expect(saf(r.body).objects.count == 3)
        }
    }

    @Test func anyTypeNamesAndOnlyNoerror() async throws {
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/ANY") { r in
            let objects = saf(r.body).objects
            #expect(Set(objects.compactMap { $0["rrtype"] as? String }) == ["A", "NS"])
            let ns = try #require(objects.first { $0["rrtype"] as? String == "NS" })
            #expect(ns["rdata"] as? [String] == ["ns1.host.example."])
        }
        // b.example went NXDOMAIN: only its A span is served.
        try await get("/dnsdb/v2/lookup/rrset/name/b.example") { r in
            let objects = saf(r.body).objects
            #expect(objects.count == 1)
            #expect(objects.first?["rdata"] as? [String] == ["192.0.2.2"])
        }
        // Bailiwick accepted and ignored; percent-decoded segments.
        try await get("/dnsdb/v2/lookup/rrset/name/a%2Eexample/A/example.") { r in
            #expect(saf(r.body).objects.count == 2)
        }
        // A real type dnswatch never records: no result, not an error.
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/MX") { r in
            #expect(r.status == .ok)
            let (objects, cond) = saf(r.body)
            #expect(objects.isEmpty && cond == "succeeded")
        }
    }

    @Test func missingNameIsEmptySuccess() async throws {
        try await get("/dnsdb/v2/lookup/rrset/name/nothing.example") { r in
            #expect(r.status == .ok)
            #expect(String(buffer: r.body) == "{\"cond\":\"begin\"}\n{\"cond\":\"succeeded\"}\n")
        }
        try await get("/dnsdb/v2/summarize/rrset/name/nothing.example") { r in
            #expect(r.status == .ok)
            let (objects, cond) = saf(r.body)
            #expect(objects.isEmpty && cond == "succeeded")
        }
    }

    @Test func fences() async throws {
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&time_first_after=2000") { r in
            #expect(saf(r.body).objects.compactMap { $0["time_first"] as? Int }.sorted() == [2000, 3000])
        }
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&time_last_before=1100") { r in
            #expect(saf(r.body).objects.compactMap { $0["time_last"] as? Int } == [1100])
        }
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&time_first_before=2000&time_last_after=2000") { r in
            #expect(saf(r.body).objects.compactMap { $0["time_first"] as? Int } == [2000])
        }
        // Negative: seconds before now (every span is far older than a day).
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?time_last_after=-86400") { r in
            #expect(saf(r.body).objects.isEmpty)
        }
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?time_last_before=-86400") { r in
            #expect(saf(r.body).objects.count == 2)
        }
    }

    @Test func limitOffsetLimited() async throws {
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&limit=2") { r in
            let (objects, cond) = saf(r.body)
            #expect(objects.count == 2 && cond == "limited")
        }
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&limit=3") { r in
            let (objects, cond) = saf(r.body)
            #expect(objects.count == 3 && cond == "succeeded")
        }
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&limit=2&offset=2") { r in
            let (objects, cond) = saf(r.body)
            #expect(objects.count == 1 && cond == "succeeded")
        }
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&limit=0") { r in
            #expect(saf(r.body).objects.count == 3)
        }
        // Above the server's maximum: the maximum, not an error.
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&limit=100001") { r in
            #expect(r.status == .ok)
            #expect(saf(r.body).objects.count == 3)
        }
    }

    @Test func wildcard() async throws {
        try await get("/dnsdb/v2/lookup/rrset/name/*.a.example") { r in
            let objects = saf(r.body).objects
            #expect(objects.compactMap { $0["rrname"] as? String } == ["www.a.example."])
            #expect(objects.first?["rdata"] as? [String] == ["a.example."])
        }
        try await get("/dnsdb/v2/lookup/rrset/name/%2A.example/A") { r in
            #expect(Set(saf(r.body).objects.compactMap { $0["rrname"] as? String }) == ["a.example.", "b.example."])
        }
    }

    @Test func rdataIPAndPrefix() async throws {
        try await get("/dnsdb/v2/lookup/rdata/ip/192.0.2.1") { r in
            let objects = saf(r.body).objects
            #expect(objects.count == 1)
            let o = try #require(objects.first)
            #expect(o["rrname"] as? String == "a.example.")
            #expect(o["rdata"] as? String == "192.0.2.1")
            #expect(o["time_first"] as? Int == 1000 && o["time_last"] as? Int == 3200 && o["count"] as? Int == 5)
        }
        try await get("/dnsdb/v2/lookup/rdata/ip/192.0.2.0,24") { r in
            let objects = saf(r.body).objects
            let pairs = Set(objects.map { "\($0["rrname"] as? String ?? "") \($0["rdata"] as? String ?? "")" })
            #expect(pairs == ["a.example. 192.0.2.1", "a.example. 192.0.2.2", "b.example. 192.0.2.2"])
            #expect(objects.count == 3)
        }
        try await get("/dnsdb/v2/lookup/rdata/ip/192.0.2.0,24?aggr=f") { r in
            #expect(saf(r.body).objects.count == 4)
        }
        // The prefix's '/' as is (two path segments) and percent-encoded: the same answer.
        for form in ["192.0.2.0/24", "192.0.2.0%2F24"] {
            try await get("/dnsdb/v2/lookup/rdata/ip/\(form)?aggr=f") { r in
                #expect(r.status == .ok && saf(r.body).objects.count == 4, "\(form)")
            }
        }
        try await get("/dnsdb/v2/lookup/rdata/ip/2001:db8::,32") { r in
            #expect(saf(r.body).objects.compactMap { $0["rdata"] as? String } == ["2001:db8::1"])
        }
    }

    @Test func rdataName() async throws {
        try await get("/dnsdb/v2/lookup/rdata/name/a.example") { r in
            let objects = saf(r.body).objects
            #expect(objects.count == 1)
            #expect(objects.first?["rrname"] as? String == "www.a.example.")
            #expect(objects.first?["rrtype"] as? String == "CNAME")
            #expect(objects.first?["rdata"] as? String == "a.example.")
        }
        try await get("/dnsdb/v2/lookup/rdata/name/ns1.host.example/NS") { r in
            #expect(saf(r.body).objects.compactMap { $0["rrname"] as? String } == ["a.example."])
        }
        try await get("/dnsdb/v2/lookup/rdata/name/*.host.example/CNAME") { r in
            #expect(saf(r.body).objects.isEmpty)
        }
    }

    @Test func summarizeCounts() async throws {
        try await get("/dnsdb/v2/summarize/rrset/name/a.example/A") { r in
            let (objects, cond) = saf(r.body)
            #expect(cond == "succeeded")
            let o = try #require(objects.first)
            #expect(objects.count == 1)
            #expect(o["count"] as? Int == 6 && o["num_results"] as? Int == 2)
            #expect(o["time_first"] as? Int == 1000 && o["time_last"] as? Int == 3200)
        }
        try await get("/dnsdb/v2/summarize/rdata/ip/192.0.2.0,24?aggr=f") { r in
            let o = try #require(saf(r.body).objects.first)
            #expect(o["num_results"] as? Int == 4 && o["count"] as? Int == 7)
        }
    }

    @Test func humantime() async throws {
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/NS?humantime=t") { r in
            let o = try #require(saf(r.body).objects.first)
            #expect(o["time_first"] as? String == "1970-01-01 00:16:40")
        }
    }

    @Test(arguments: [
        "/dnsdb/v2/lookup/rrset/name/a.example/FOO",
        "/dnsdb/v2/lookup/rrset/name/a..example",
        "/dnsdb/v2/lookup/rrset/name/example.*",
        "/dnsdb/v2/lookup/rrset/name/a%ZZ",
        "/dnsdb/v2/lookup/rdata/ip/192.0.2.0,33",
        "/dnsdb/v2/lookup/rdata/ip/not-an-address",
        "/dnsdb/v2/lookup/rdata/name/a.example/BOGUS",
        "/dnsdb/v2/lookup/rrset/name/a.example?limit=abc",
        "/dnsdb/v2/lookup/rrset/name/a.example?limit=-1",
        "/dnsdb/v2/lookup/rrset/name/a.example?limit=100000000000000000000",
        "/dnsdb/v2/lookup/rrset/name/a.example?offset=-5",
        "/dnsdb/v2/lookup/rrset/name/a.example?aggr=maybe",
        "/dnsdb/v2/lookup/rrset/name/a.example?time_first_before=yesterday",
        "/dnsdb/v2/lookup/rrset/name/a.example?time_frist_before=1",
    ])
    func badRequestsAre400(_ uri: String) async throws {
        try await get(uri) { r in
            #expect(r.status == .badRequest, "\(uri)")
            #expect(!String(buffer: r.body).isEmpty)
        }
    }

    @Test func unknownParametersAreIgnoredButNotAMisspeltFence() async throws {
        for uri in ["/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&&=x&exclude=foo", "/dnsdb/v2/lookup/rrset/name/a.example/A?aggr=f&client_tag=1"] {
            try await get(uri) { r in
                #expect(r.status == .ok && saf(r.body).objects.count == 3, "\(uri)")
            }
        }
        try await get("/dnsdb/v2/lookup/rrset/name/a.example/A?timelast_after=1") { r in #expect(r.status == .badRequest) }
    }

    @Test(arguments: ["/dnsdb/v2/lookup/nothing", "/dnsdb/v2/lookup/rrset/name", "/dnsdb/v2/lookup/rrset/name/a/A/b/c", "/dnsdb/v3/ping"])
    func unknownPathIs404(_ uri: String) async throws {
        try await get(uri) { r in #expect(r.status == .notFound, "\(uri)") }
    }

    @Test func longNameIs400NotACrash() async throws {
        try await get("/dnsdb/v2/lookup/rrset/name/" + String(repeating: "a", count: 5000)) { r in
            #expect(r.status == .badRequest)
        }
    }
}
