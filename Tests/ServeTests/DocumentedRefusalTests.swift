import Classification
import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Serve
import Testing
import TestSupport

/// Databases for the refusals docs/api.md, docs/serve.md and docs/web.md promise, written as polls write them
/// (`WritePlan`s applied by the store: `PlannedHistory`), then tampered with by SQL where the promise is about
/// stored values this version does not know (as another version, or a hand, could leave them).
enum RefusalStore {
    /// The `n`-th address (from 1) of 10.0.0.0/8.
    static func address(_ n: Int) -> String { "10.\(n >> 16 & 255).\(n >> 8 & 255).\(n & 255)" }

    /// A database whose `domains` watched names `d1.example`... each hold one A span of `perDomain` addresses
    /// of 10.0.0.0/8 (consecutive, the first domain's first address 10.0.0.1), plus `extra` names, each with
    /// one span of its given addresses. Returns its path.
    static func sightings(domains: Int, perDomain: Int, extra: [(name: String, addresses: [String])] = []) async throws -> String {
        let path = try TemporaryDirectory("dnswatch-refusal").path("db.sqlite")
        let store = try SQLiteStore(path: path)
        let names = (1...domains).map { "d\($0).example" } + extra.map(\.name)
        _ = try await store.addEntries(try names.map { ListEntry(domain: try DomainName($0)) }, to: ListSpec(name: "feed", kind: .c2), now: 1)
        let ids = Dictionary(uniqueKeysWithValues: try await store.pollTargets(afterID: 0, limit: names.count + 1).map { ($0.name, $0.domainID) })
        try #require(ids.count == names.count, "every name watched")
        var spans: [NewSpan] = []
        for d in 1...domains {
            let rdata = (1...perDomain).map { address((d - 1) * perDomain + $0) }
            spans.append(NewSpan(domainID: try #require(ids["d\(d).example"]), rrtype: .a, status: .noerror, rdata: rdata, class: .unknown, provider: nil))
        }
        for e in extra {
            spans.append(NewSpan(domainID: try #require(ids[e.name]), rrtype: .a, status: .noerror, rdata: e.addresses, class: .unknown, provider: nil))
        }
        let history = try await PlannedHistory(store, at: 1_000)
        try await history.write(at: 1_000, start: spans)
        try await history.finish(at: 1_000)
        return path
    }

    /// A small database with one domain (`alerted.example`, A 192.0.2.9) and one alert on it of a type and
    /// severity this version knows (activation, critical).
    static func alerted() async throws -> String {
        let path = try TemporaryDirectory("dnswatch-refusal").path("db.sqlite")
        let store = try SQLiteStore(path: path)
        _ = try await store.addEntries([ListEntry(domain: try DomainName("alerted.example"))], to: ListSpec(name: "feed", kind: .c2), now: 1)
        let id = try #require(try await store.pollTargets(afterID: 0, limit: 10).first?.domainID)
        let history = try await PlannedHistory(store, at: 1_000)
        let activation = PlannedHistory.transition(domainID: id, domain: "alerted.example", list: "feed", type: "activation",
                                                   severity: "critical", severityRank: 4) { id in #"{"id":\#(id),"message":"alerted.example"}"# }
        try await history.write(at: 1_000, start: [NewSpan(domainID: id, rrtype: .a, status: .noerror, rdata: ["192.0.2.9"], class: .unknown, provider: nil)],
                                transitions: [activation])
        try await history.finish(at: 1_000)
        return path
    }

    /// Runs `sql` on the database directly, as no writer of dnswatch's would.
    static func tamper(_ path: String, _ sql: String) async throws {
        try await DatabaseQueue(path: path).write { db in try db.execute(sql: sql) }
    }

    /// The server's routes over a read-only connection to the database, as `dnswatch serve` opens it.
    static func app(_ path: String) throws -> some ApplicationProtocol {
        let deps = ServeDependencies(store: try SQLiteStore.readOnly(path: path), classifier: Classifier(fingerprints: try .embedded()))
        return Application(router: DNSWatchServer.router(deps))
    }
}

/// The refusals of docs/api.md, docs/serve.md and docs/web.md, each on a database that provokes it.
@Suite struct DocumentedRefusalTests {
    /// api.md: "a prefix with more than 100,000 sightings is a 400 that says so". 100,000 sightings in
    /// 10.0.0.0/8 are answered; one more in 11.0.0.0/8 makes 10.0.0.0/7 hold 100,001, refused.
    @Test func ipOverOneHundredThousandSightingsIsA400() async throws {
        let path = try await RefusalStore.sightings(domains: 10_000, perDomain: 10, extra: [("eleven.example", ["11.0.0.1"])])
        let nextOffset = try #require(HTTPField.Name("X-Next-Offset"))
        try await RefusalStore.app(path).test(.router) { client in
            try await client.execute(uri: "/api/v1/ip/10.0.0.0/7", method: .get) { r in
                #expect(r.status == .badRequest)
                #expect(r.headers[.contentType] == "application/json")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8)) as? [String: String], "\(String(buffer: r.body))")
                let message = try #require(body["error"])
                #expect(message.contains("10.0.0.0/7") && message.contains("more than 100000 sightings"), "\(message)")
            }
            // Exactly 100,000 is within the limit: the refusal is the count's, not the prefix's.
            // (The last page: one object at offset 99,999 and none after it.)
            try await client.execute(uri: "/api/v1/ip/10.0.0.0/8?offset=99999&limit=2", method: .get) { r in
                #expect(r.status == .ok, "\(String(buffer: r.body).prefix(300))")
                let objects = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8)) as? [[String: Any]])
                #expect(objects.count == 1 && r.headers[nextOffset] == nil, "\(objects)")
            }
        }
    }

    /// What `/api/v1/alerts` and `/metrics` read: an alert whose type, severity or rank this version does not
    /// know (another version wrote it). api.md: `/api/v1/alerts` is a 500 with `{"error": ...}` and
    /// `/metrics` fails the scrape (500) rather than show or count it as something it is not.
    @Test(arguments: [
        "UPDATE alerts SET type = 'teleported'",
        "UPDATE alerts SET severity = 'apocalyptic'",
        "UPDATE alerts SET severity_rank = 9",
    ])
    func anUnknownStoredAlertIsA500(tamper: String) async throws {
        let path = try await RefusalStore.alerted()
        // Untampered, both answer: the 500 below is the tampered value's.
        try await RefusalStore.app(path).test(.router) { client in
            try await client.execute(uri: "/api/v1/alerts", method: .get) { r in
                #expect(r.status == .ok && String(buffer: r.body).contains("alerted.example"), "\(String(buffer: r.body))")
            }
            try await client.execute(uri: "/metrics", method: .get) { r in #expect(r.status == .ok) }
        }
        try await RefusalStore.tamper(path, tamper)
        try await RefusalStore.app(path).test(.router) { client in
            try await client.execute(uri: "/api/v1/alerts", method: .get) { r in
                #expect(r.status == .internalServerError, "\(tamper): \(String(buffer: r.body))")
                #expect(r.headers[.contentType] == "application/json")
                let body = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8)) as? [String: String], "\(String(buffer: r.body))")
                #expect(body["error"]?.contains("alert 1 has a type or severity this dnswatch does not know") == true, "\(body)")
            }
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .internalServerError, "\(tamper): \(String(buffer: r.body).prefix(300))")
                #expect(!String(buffer: r.body).contains("dnswatch_alerts_total"), "nothing counted")
            }
        }
    }

    /// serve.md: the DNSDB body ends `{"cond":"failed",...}` "if the database could not be read midway".
    /// 2,500 names in 10.0.0.0/16, read in index pages of 2,000: the last name's span holds a class this
    /// version does not know, so the second page fails after the first page's objects were sent.
    @Test func aStoreFailingMidwayEndsTheStreamFailed() async throws {
        let path = try await RefusalStore.sightings(domains: 2_500, perDomain: 1)
        try await RefusalStore.tamper(path, """
            UPDATE spans SET class = 'from-the-future' WHERE domain_id = (SELECT id FROM domains WHERE name = 'd2500.example')
            """)
        try await RefusalStore.app(path).test(.router) { client in
            for uri in ["/dnsdb/v2/lookup/rdata/ip/10.0.0.0,16", "/dnsdb/v2/lookup/rdata/ip/10.0.0.0,16?aggr=f"] {
                try await client.execute(uri: uri, method: .get) { r in
                    #expect(r.status == .ok)
                    #expect(r.headers[.contentType] == "application/x-ndjson")
                    let lines = String(buffer: r.body).split(separator: "\n").map(String.init)
                    #expect(lines.first == #"{"cond":"begin"}"#, "\(uri)")
                    #expect(lines.last == #"{"cond":"failed","msg":"the history database could not be read"}"#, "\(uri): \(lines.suffix(2))")
                    let objects = lines.filter { $0.hasPrefix(#"{"obj":"#) }
                    // Midway: objects of the first page went out before the failure, not those of every name.
                    #expect(!objects.isEmpty && objects.count < 2_500, "\(uri): \(objects.count) objects")
                    #expect(objects.count + 2 == lines.count, "\(uri): begin, the objects, one condition")
                    #expect(!lines.contains { $0.contains("succeeded") || $0.contains("limited") }, "\(uri)")
                }
            }
            // The same history without the tampered name streams to its end.
            try await client.execute(uri: "/dnsdb/v2/lookup/rdata/ip/10.0.0.0,24", method: .get) { r in
                let lines = String(buffer: r.body).split(separator: "\n").map(String.init)
                #expect(lines.last == #"{"cond":"succeeded"}"#, "\(lines.suffix(2))")
            }
        }
    }

    /// web.md: "Every page is sent with ... `X-Frame-Options: DENY` and `Cache-Control: no-store`": the
    /// front page, a domain, an address, a prefix, a name without history, and the 400 pages.
    @Test func everyPageForbidsFramingAndCaching() async throws {
        let path = try await RefusalStore.alerted()
        let pages: [(uri: String, status: HTTPResponse.Status)] = [
            ("/", .ok), ("/ui/domain/alerted.example", .ok), ("/ui/domain/never.example", .ok), ("/ui/ip/192.0.2.9", .ok),
            ("/ui/ip/192.0.2.0/24", .ok), ("/ui/ip/192.0.2.0,24", .ok),
            ("/ui/domain/not..a.name", .badRequest), ("/ui/ip/999.0.0.1", .badRequest), ("/ui/search?q=", .badRequest),
            ("/ui/search?q=%ZZ", .badRequest),
        ]
        let frameOptions = try #require(HTTPField.Name("X-Frame-Options"))
        try await RefusalStore.app(path).test(.router) { client in
            for (uri, status) in pages {
                for method: HTTPRequest.Method in [.get, .head] {
                    try await client.execute(uri: uri, method: method) { r in
                        #expect(r.status == status, "\(method) \(uri)")
                        #expect(r.headers[.contentType] == "text/html; charset=utf-8", "\(method) \(uri)")
                        #expect(r.headers[values: frameOptions] == ["DENY"], "\(method) \(uri)")
                        #expect(r.headers[values: .cacheControl] == ["no-store"], "\(method) \(uri)")
                    }
                }
            }
        }
    }
}
