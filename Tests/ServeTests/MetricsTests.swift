import DNSWatchModel
import Foundation
import HTTPTypes
import SQLiteStore
import Store
import Hummingbird
import HummingbirdTesting
import Poller
import Serve
import TestWorlds
import Testing
import TestSupport

@Suite(.serialized) struct MetricsTests {
    /// prometheus_client's text parser, over a scrape: one JSON object with each family's type and samples.
    static let parser = """
        import json, sys
        from prometheus_client.parser import text_string_to_metric_families
        out = {}
        for f in text_string_to_metric_families(open(sys.argv[1]).read()):
            out[f.name] = {"type": f.type, "samples": [[s.name, s.labels, s.value] for s in f.samples]}
        print(json.dumps(out))
        """

    struct Family {
        let type: String
        let samples: [(name: String, labels: [String: String], value: Double)]
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            samples.first { $0.name == name && $0.labels == labels }?.value
        }
    }

    static func scrape(_ router: Router<ServeContext>) async throws -> [String: Family] {
        let app = Application(router: router)
        let text = try await app.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { r in
                #expect(r.status == .ok)
                #expect(r.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                return String(buffer: r.body)
            }
        }
        let dir = try TemporaryDirectory("dnswatch-metrics")
        let file = try dir.write("scrape.txt", text)
        let script = try dir.write("parse.py", parser)
        let r = try await Tools.run(try Tools.python(), [script, file])
        try #require(r.code == 0, "prometheus_client could not parse:\n\(text)\n\(r.out)\(r.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: [String: Any]])
        return json.mapValues { f in
            Family(type: f["type"] as? String ?? "", samples: ((f["samples"] as? [[Any]]) ?? []).map {
                ($0[0] as? String ?? "", $0[1] as? [String: String] ?? [:], ($0[2] as? NSNumber)?.doubleValue ?? .nan)
            })
        }
    }

    @Test func metricsParseAndMatchTheDatabase() async throws {
        let w = try await APIWorld.made()
        let router = try w.router()
        var m = try await MetricsTests.scrape(router)
        #expect(m["dnswatch_polls"]?.type == "counter")
        #expect(m["dnswatch_polls"]?.value("dnswatch_polls_total") == 2, "two polls")
        let answers = w.summaries.reduce(0) { $0 + $1.counts.answers }, failures = w.summaries.reduce(0) { $0 + $1.counts.failures }
        #expect(answers > 0)
        #expect(m["dnswatch_queries"]?.type == "counter")
        #expect(m["dnswatch_queries"]?.value("dnswatch_queries_total", ["result": "answered"]) == Double(answers))
        #expect(m["dnswatch_queries"]?.value("dnswatch_queries_total", ["result": "failed"]) == Double(failures))
        let alerts = try await w.store.alerts()
        #expect(!alerts.isEmpty, "parked → own host raised an alert")
        #expect(m["dnswatch_alerts"]?.type == "counter")
        for a in alerts {
            let n = alerts.filter { $0.type == a.type && $0.severity == a.severity }.count
            #expect(m["dnswatch_alerts"]?.value("dnswatch_alerts_total", ["type": a.type, "severity": a.severity]) == Double(n))
        }
        let alertTotal = m["dnswatch_alerts"]?.samples.filter { $0.name == "dnswatch_alerts_total" }.reduce(0) { $0 + $1.value }
        #expect(alertTotal == Double(alerts.count))
        #expect(m["dnswatch_alerts"]?.samples.filter { $0.name == "dnswatch_alerts_total" }.count == 60, "12 types (flapping and disagreement too) × 5 severities")
        #expect(m["dnswatch_poll_duration_seconds"]?.type == "histogram")
        #expect(m["dnswatch_poll_duration_seconds"]?.value("dnswatch_poll_duration_seconds_count") == 2)
        #expect(m["dnswatch_poll_duration_seconds"]?.value("dnswatch_poll_duration_seconds_bucket", ["le": "+Inf"]) == 2)
        #expect(m["dnswatch_outbox_pending"]?.type == "gauge")
        let pending = try await w.store.pendingCount()
        #expect(pending > 0, "the refusing sink keeps its alerts pending")
        #expect(m["dnswatch_outbox_pending"]?.value("dnswatch_outbox_pending") == Double(pending))
        #expect(m["dnswatch_watched_domains"]?.value("dnswatch_watched_domains") == 3)
        #expect(m["dnswatch_last_poll_timestamp_seconds"]?.value("dnswatch_last_poll_timestamp_seconds") == Double(APIWorld.t2))
        // Labels are closed sets: no domain name anywhere.
        for f in m.values { for s in f.samples { #expect(!s.labels.values.contains { $0.hasSuffix(".example") }) } }

        // Scraping again counts nothing twice; a third poll is counted once.
        m = try await MetricsTests.scrape(router)
        #expect(m["dnswatch_polls"]?.value("dnswatch_polls_total") == 2)
        try await w.poll(at: APIWorld.t2 + 3600)
        m = try await MetricsTests.scrape(router)
        #expect(m["dnswatch_polls"]?.value("dnswatch_polls_total") == 3)
        #expect(m["dnswatch_poll_duration_seconds"]?.value("dnswatch_poll_duration_seconds_count") == 3)
        #expect(m["dnswatch_last_poll_timestamp_seconds"]?.value("dnswatch_last_poll_timestamp_seconds") == Double(APIWorld.t2 + 3600))
        let answers3 = w.summaries.reduce(0) { $0 + $1.counts.answers }
        #expect(m["dnswatch_queries"]?.value("dnswatch_queries_total", ["result": "answered"]) == Double(answers3))

        // Another server started now over the same database (serve beside a daemon) reports the same counts.
        let fresh = try await MetricsTests.scrape(try w.router())
        for name in ["dnswatch_polls", "dnswatch_queries", "dnswatch_alerts", "dnswatch_outbox_pending", "dnswatch_watched_domains"] {
            func values(_ f: Family?) -> [String: Double] {
                Dictionary(uniqueKeysWithValues: (f?.samples ?? []).map { ("\($0.name)\($0.labels.sorted { $0.key < $1.key })", $0.value) })
            }
            #expect(values(fresh[name]) == values(m[name]), "\(name)")
        }
    }

    /// A database of 20,000 watched domains and 50 polls (issue 23: its speed is `scripts/bench --limits`'s,
    /// not a test's): each scrape is whole and parsable, and the first (which reads every poll) and the later
    /// ones (only the new) report the same.
    @Test func aScrapeOf20000DomainsIsWhole() async throws {
        let dir = try TemporaryDirectory("dnswatch-metrics20k")
        let path = dir.path("db.sqlite")
        let store = try SQLiteStore(path: path)
        _ = try await store.addEntries(try (0..<20_000).map { ListEntry(domain: try DomainName("d\($0).example")) },
                                       to: ListSpec(name: "big", kind: .c2), now: 1)
        for i in 0..<50 {
            let id = try await store.beginPoll(at: Int64(1000 + i * 300), resolvers: "127.0.0.1")
            try await store.finishPoll(id, at: Int64(1000 + i * 300 + 40))
        }
        let router = DNSWatchServer.router(ServeDependencies(store: try SQLiteStore.readOnly(path: path), classifier: try await APITests.world.value.classifier))
        for scrape in 0..<3 {
            let m = try await MetricsTests.scrape(router)
            #expect(m["dnswatch_watched_domains"]?.value("dnswatch_watched_domains") == 20_000, "scrape \(scrape)")
            #expect(m["dnswatch_polls"]?.value("dnswatch_polls_total") == 50, "scrape \(scrape)")
            #expect(m["dnswatch_poll_duration_seconds"]?.value("dnswatch_poll_duration_seconds_count") == 50, "scrape \(scrape)")
            #expect(m["dnswatch_poll_duration_seconds"]?.value("dnswatch_poll_duration_seconds_sum") == Double(50 * 40), "scrape \(scrape)")
            #expect(m["dnswatch_poll_duration_seconds"]?.value("dnswatch_poll_duration_seconds_bucket", ["le": "+Inf"]) == 50, "scrape \(scrape)")
            #expect(m["dnswatch_last_poll_timestamp_seconds"]?.value("dnswatch_last_poll_timestamp_seconds") == Double(1000 + 49 * 300 + 40),
                    "scrape \(scrape)")
        }
    }
}
