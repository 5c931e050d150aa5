import Foundation
import HTTPTypes
import SQLiteStore
import Store
import Hummingbird
import HummingbirdTesting
import Serve
import TestWorlds
import Testing
import TestSupport

/// JSON texts compared as values: keys sorted, numbers and strings as decoded.
func canonical(_ value: Any) throws -> String {
    String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
}

@Suite(.serialized) struct APITests {
    /// One database made by real polls, shared by the tests of this suite (and read by others). Its Unbound
    /// is stopped once the polls are made: a static is never deinitialised, so it outlived the test process
    /// (an orphaned Unbound after every `make test`). Nothing polls this world again.
    static let world = Task {
        let w = try await APIWorld.made()
        w.unbound.stop()
        return w
    }

    struct Answer {
        let status: HTTPResponse.Status
        let contentType: String?
        let nextOffset: String?
        let body: String
        var json: Any { get throws { try JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed]) } }
    }

    func get(_ uris: [String]) async throws -> [Answer] {
        let app = Application(router: try await APITests.world.value.router())
        let next = try #require(HTTPField.Name("X-Next-Offset"))
        return try await app.test(.router) { client in
            var answers: [Answer] = []
            for uri in uris {
                let a = try await client.execute(uri: uri, method: .get) { r in
                    Answer(status: r.status, contentType: r.headers[.contentType], nextOffset: r.headers[next],
                           body: String(buffer: r.body))
                }
                answers.append(a)
            }
            return answers
        }
    }

    /// The CLI's `--json` lines over the same database, as one JSON array (or the one object).
    func cli(_ args: [String], single: Bool = false) async throws -> Any {
        let w = try await APITests.world.value
        let home = try TemporaryDirectory("dnswatch-api-home").path
        let r = try await Tools.run(DNSWatchBinary.url.path, args, environment: ["DNSWATCH_DB": w.dbPath, "XDG_CONFIG_HOME": home, "HOME": home])
        #expect(r.code == 0, "dnswatch \(args.joined(separator: " ")): \(r.err)")
        let lines = r.out.split(separator: "\n").filter { $0.hasPrefix("{") }
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) }
        return single ? objects.first as Any : objects
    }

    /// What the API serves of the CLI's lines: alerts oldest first (pages stay put while new alerts arrive), where
    /// `alerts --json` lists them newest first; memberships with `WatchedLine`'s fields, where `watch list --json`
    /// adds each domain's state, poll times and last alert (issue 20).
    static func asServed(_ cli: Any, uri: String) -> Any {
        guard let objects = cli as? [[String: Any]] else { return cli }
        if uri.hasPrefix("/api/v1/alerts") { return Array(objects.reversed()) }
        if uri.hasPrefix("/api/v1/domains") {
            return objects.map { $0.filter { ["domain", "list", "kind", "interval", "added"].contains($0.key) } }
        }
        return cli
    }

    @Test func everyEndpointServesWhatTheCLIWrites() async throws {
        let cases: [(uri: String, cli: [String], single: Bool)] = [
            ("/api/v1/history/parked.example", ["history", "parked.example", "--json"], false),
            ("/api/v1/history/host.example?type=a&since=2026-09-01", ["history", "host.example", "--type", "a", "--since", "2026-09-01", "--json"], false),
            ("/api/v1/history/gone.example", ["history", "gone.example", "--json"], false),
            ("/api/v1/history/never.example", ["history", "never.example", "--json"], false),
            ("/api/v1/ip/\(APIWorld.sedoA)", ["ip", APIWorld.sedoA, "--json"], false),
            ("/api/v1/ip/192.0.2.0%2F24", ["ip", "192.0.2.0/24", "--json"], false),
            ("/api/v1/ip/192.0.2.0,24", ["ip", "192.0.2.0/24", "--json"], false),
            ("/api/v1/triage/\(APIWorld.sedoA)", ["triage", APIWorld.sedoA, "--json"], true),
            ("/api/v1/triage/parked.example", ["triage", "parked.example", "--json"], true),
            ("/api/v1/alerts", ["alerts", "--json"], false),
            ("/api/v1/alerts?severity=CRITICAL&since=\(APIWorld.t1)", ["alerts", "--severity", "critical", "--since", "\(APIWorld.t1)", "--json"], false),
            ("/api/v1/domains", ["watch", "list", "--json"], false),
            ("/api/v1/domains?list=ours", ["watch", "list", "--list", "ours", "--json"], false),
            ("/api/v1/ip/192.0.2.0/24", ["ip", "192.0.2.0/24", "--json"], false),  // the '/' as is: two segments
            ("/api/v1/triage/\(APIWorld.sedoA)?limit=1&at=\(APIWorld.t1)", ["triage", APIWorld.sedoA, "--json", "--limit", "1", "--at", "\(APIWorld.t1)"], true),
            ("/api/v1/history/host.example?source=polled", ["history", "host.example", "--source", "polled", "--json"], false),
            ("/api/v1/history/host.example?source=sensor-x", ["history", "host.example", "--source", "sensor-x", "--json"], false),
            ("/api/v1/history/peer.example", ["history", "peer.example", "--json"], false),
            ("/api/v1/ip/\(APIWorld.hostA)", ["ip", APIWorld.hostA, "--json"], false),
            ("/api/v1/triage/\(APIWorld.hostA)", ["triage", APIWorld.hostA, "--json"], true),
        ]
        var expected: [String] = []
        for c in cases { expected.append(try canonical(Self.asServed(try await cli(c.cli, single: c.single), uri: c.uri))) }
        let answers = try await get(cases.map(\.uri))
        for (c, (a, e)) in zip(cases, zip(answers, expected)) {
            #expect(a.status == .ok, "\(c.uri): \(a.body)")
            #expect(a.contentType == "application/json", "\(c.uri)")
            #expect(try canonical(try a.json) == e, "\(c.uri) differs from dnswatch \(c.cli.joined(separator: " "))")
        }
        // The world has what the comparison needs: spans, hits, an alert, domains.
        let counts = try answers.map { a in (try a.json as? [Any])?.count ?? -1 }
        #expect(counts[0] >= 2 && counts[4] >= 1 && counts[5] >= 2 && counts[9] >= 1 && counts[11] == 4, "\(counts)")
        #expect(counts[3] == 0, "a domain without history is []")
        // Imported records: beside the polled spans, each with its source; `sources` on the sightings.
        #expect(counts[15] >= 1 && counts[16] == 1 && counts[17] == 2, "\(counts)")
        let hostHistory = try #require(try answers[0].json as? [[String: Any]])  // parked.example: polled only
        #expect(hostHistory.allSatisfy { $0.keys.contains("source") && $0["source"] is NSNull })
        let imported = try #require(try answers[16].json as? [[String: Any]])
        #expect(imported.first?["source"] as? String == "sensor-x" && imported.first?["count"] as? Int == 40)
        let sightings = try #require(try answers[18].json as? [[String: Any]])
        #expect(Set(sightings.compactMap { ($0["sources"] as? [String])?.joined(separator: ",") }) == ["polled", "sensor-x"])
        let triage = try #require(try answers[19].json as? [String: Any])
        #expect((triage["domains"] as? [String])?.contains("peer.example") == true, "the fan-in counts imported domains")
        let details = try #require(triage["details"] as? [[String: Any]])
        #expect(details.first { $0["domain"] as? String == "host.example" }?["sources"] as? [String] == ["polled", "sensor-x"])
    }

    @Test func badValuesAre400WithAMessage() async throws {
        let uris = [
            "/api/v1/history/bad..example", "/api/v1/history/parked.example?type=TXT", "/api/v1/history/parked.example?type=MX",
            "/api/v1/history/parked.example?since=yesterday-ish", "/api/v1/history/parked.example?until=99999999999999",
            "/api/v1/history/parked.example?limit=0", "/api/v1/history/parked.example?limit=10001", "/api/v1/history/parked.example?limit=-1",
            "/api/v1/history/parked.example?offset=x", "/api/v1/history/parked.example?sevrity=high",
            "/api/v1/history/parked.example?type=A&type=NS", "/api/v1/history/%ZZ", "/api/v1/history/\(String(repeating: "a", count: 300))",
            "/api/v1/ip/999.1.1.1", "/api/v1/ip/10.0.0.0%2F33", "/api/v1/ip/parked.example", "/api/v1/triage/bad..example",
            "/api/v1/triage/x?offset=1", "/api/v1/triage/x?limit=-1", "/api/v1/triage/x?at=yesterday-ish", "/api/v1/alerts?severity=urgent", "/api/v1/alerts?since=", "/api/v1/domains?limit=1e3",
        ]
        for (uri, a) in zip(uris, try await get(uris)) {
            #expect(a.status == .badRequest, "\(uri): \(a.status) \(a.body)")
            #expect(a.contentType == "application/json", "\(uri)")
            let message = (try a.json as? [String: Any])?["error"] as? String
            #expect(message?.isEmpty == false, "\(uri): \(a.body)")
        }
    }

    @Test func arraysArePagedByLimitAndOffset() async throws {
        let all = try await get(["/api/v1/domains"])[0]
        let total = try #require(try all.json as? [Any]).count
        #expect(all.nextOffset == nil)
        let pages = try await get(["/api/v1/domains?limit=3", "/api/v1/domains?limit=3&offset=3", "/api/v1/domains?offset=100"])
        #expect(pages[0].nextOffset == "3")
        #expect(pages[1].nextOffset == nil)
        let joined = ((try pages[0].json as? [Any]) ?? []) + ((try pages[1].json as? [Any]) ?? [])
        #expect(try canonical(joined) == canonical(try all.json), "two pages make the whole (\(total) objects)")
        #expect(pages[2].body == "[]")
    }
}
