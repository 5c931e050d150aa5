import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
import Logging
import Poller
@testable import PostgresStore
import TestWorlds
import Testing
import TestSupport

/// `triage` and `ip` on PostgreSQL: a SQLite database with real history is copied by `dnswatch migrate`,
/// and every command prints the same bytes (stdout, stderr, exit code) on both.
@Suite(.serialized) struct PostgresTriageTests {
    /// Real history on SQLite: 300 names polled (every fourth NXDOMAIN, the others on 45.0.121.77), a C&C
    /// domain parked at the first poll and live on 45.0.121.77 at the second (one second later, so that
    /// `--at` can tell them apart), a membership retired, an imported record (another sensor's, an IPv4-mapped
    /// AAAA in 45.0.121.0/24 and an IPv6 address) and a cached origin ASN. Returns the world, the time the
    /// first poll's spans were last seen, and the URL of the PostgreSQL copy made by `dnswatch migrate`.
    static func migratedWorld() async throws -> (w: BackendWorld, firstPoll: Int64, url: String) {
        let w = try await BackendWorld(.sqlite, names: BulkWorld.names(300))
        try w.bulk.unbound.addLocalData(World.parkedRecords("c2.example"))
        try await w.bulk.watch(["c2.example"], list: "ursnif", kind: .c2)
        try await w.bulk.watch(["d0.r.example", "d1.r.example"], list: "ours", kind: .owned)
        _ = try await w.poller(w.bulk.store).poll()
        let firstPoll = Int64(try Audit(w.bulk.dbPath).scalar("SELECT max(time_last) FROM spans_seen"))
        try await Task.sleep(for: .milliseconds(1100))
        try w.bulk.unbound.removeLocalData(["c2.example"])
        try w.bulk.unbound.addLocalData(["c2.example. 300 IN A \(BulkWorld.liveA)", "c2.example. 300 IN NS ns1.r.example."])
        _ = try await w.poller(w.bulk.store, sinks: [CaptureSink(key: "k")]).poll()
        _ = try await w.bulk.store.remove([try DomainName("d1.r.example")], list: nil, now: firstPoll)
        let cof = try w.bulk.file("sensor.json", lines: [
            #"{"count": 3, "rdata": "::ffff:45.0.121.78", "rrname": "mapped.example", "rrtype": "AAAA", "time_first": 1710000000, "time_last": 1710000900}"#,
            #"{"count": 2, "rdata": "2001:db8::5", "rrname": "mapped.example", "rrtype": "AAAA", "time_first": 1710000000, "time_last": 1710000600}"#,
            #"{"count": 7, "rdata": "45.0.121.77", "rrname": "other.example", "rrtype": "A", "time_first": 1700000000, "time_last": 1700000900}"#,
        ])
        let imported = try await w.bulk.dnswatch(["import", "cof", cof, "--db", w.bulk.dbPath])
        #expect(imported.code == 0, "\(imported.err)")
        let now = Int64(Date().timeIntervalSince1970)
        try await w.bulk.store.saveASN([ASNEntry(address: BulkWorld.liveA, asn: 64500, prefix: "45.0.121.0/24", country: "DE", registry: "ripencc")],
                                       none: [ASNEntry(address: World.sedoA, asn: nil)], at: now, ttl: 7 * 86400, negativeTTL: 86400)
        let url = try TestPostgres.freshDatabase()
        let migrated = try await w.bulk.dnswatch(["migrate", "--from", w.bulk.dbPath, "--db", url])
        #expect(migrated.code == 0, "\(migrated.err)")
        return (w, firstPoll, url)
    }

    /// stderr without the feed summary's elapsed time (`in 0.04 s`), the one part that is not data.
    static func untimed(_ err: String) -> String {
        err.replacing(/in \d+\.\d\d s/, with: "in (time) s")
    }

    @Test func migrateThenTriageAndIPPrintTheSameOnBoth() async throws {
        let (w, firstPoll, url) = try await Self.migratedWorld()
        let feed = try w.bulk.file("feed.txt", lines: [
            "# an IoC feed", BulkWorld.liveA, "45.0.121.0/24", "c2.example", "http://d0.r.example/gate.php", "d1.r.example",
            "never.example", "203.0.113.5", World.sedoA, BulkWorld.liveA, "2001:db8::5", "mapped.example", "other.example:443",
        ])
        let at = String(firstPoll)
        let cases: [[String]] = [
            ["triage", BulkWorld.liveA], ["triage", BulkWorld.liveA, "--json"], ["triage", BulkWorld.liveA, "--json", "--at", at],
            ["triage", "45.0.121.0/24", "--limit", "3"], ["triage", "45.0.121.0/24", "--json"], ["triage", "45.0.121.0/24", "--json", "--at", at],
            ["triage", "c2.example"], ["triage", "c2.example", "--json"], ["triage", "c2.example", "--json", "--at", at],
            ["triage", "d1.r.example"], ["triage", "mapped.example", "--json"], ["triage", "never.example"], ["triage", World.sedoA, "--json"],
            ["triage", "2001:db8::/32", "--json"], ["triage", "::ffff:45.0.121.78"],
            ["triage", "--file", feed], ["triage", "--file", feed, "--json"], ["triage", "--file", feed, "--csv"],
            ["triage", "--file", feed, "--json", "--at", at, "--limit", "2"], ["triage", "--file", feed, "--csv", "--batch", "2"],
            ["ip", BulkWorld.liveA], ["ip", BulkWorld.liveA, "--json"], ["ip", "45.0.121.0/24"], ["ip", "45.0.121.0/24", "--json"],
            ["ip", World.sedoA], ["ip", "203.0.113.5"], ["ip", "2001:db8::/32", "--json"], ["ip", "10.0.0.0/8"],
        ]
        for args in cases {
            let sqlite = try await w.bulk.dnswatch(args + ["--db", w.bulk.dbPath])
            let postgres = try await w.bulk.dnswatch(args + ["--db", url])
            #expect(sqlite.code == postgres.code, "\(args): exit \(sqlite.code) on SQLite, \(postgres.code) on PostgreSQL: \(postgres.err)")
            #expect(sqlite.out == postgres.out, "\(args)")
            #expect(Self.untimed(sqlite.err) == Self.untimed(postgres.err), "\(args)")
            #expect(!sqlite.out.isEmpty || !sqlite.err.isEmpty, "\(args) printed nothing")
        }
        // The history is what it should be (so that equal outputs are not equally empty).
        let now = try CLI.json(try await w.bulk.dnswatch(["triage", "c2.example", "--json", "--db", url]).out)
        #expect(now["verdict"] as? String == "malicious-history" && now["class"] as? String == "unknown", "\(now)")
        let then = try CLI.json(try await w.bulk.dnswatch(["triage", "c2.example", "--json", "--at", at, "--db", url]).out)
        #expect(then["class"] as? String == "parked", "as of the first poll: \(then)")
        let address = try CLI.json(try await w.bulk.dnswatch(["triage", BulkWorld.liveA, "--json", "--db", url]).out)
        #expect(address["asn"] as? Int == 64500 && address["fan_in"] as? Int == 227, "225 live names, c2.example, other.example: \(address)")
        let block = try await w.bulk.dnswatch(["ip", "45.0.121.0/24", "--json", "--db", url])
        let domains = try block.lines.map(CLI.json).compactMap { $0["domain"] as? String }
        #expect(domains.first == "other.example" && domains.contains("mapped.example") && domains.count == 228, "\(domains.prefix(3))")
        let removed = try await w.bulk.dnswatch(["triage", BulkWorld.liveA, "--db", url])
        #expect(removed.out.contains("feed,ours (removed)"), "\(removed.out)")
    }

    /// `--resolver` on PostgreSQL: origin ASNs missing from the cache are looked up through the resolver and
    /// saved to the cache, as on SQLite, with the same output.
    @Test func resolverLookupsFillTheCacheOnBothBackends() async throws {
        let (w, _, url) = try await Self.migratedWorld()
        try w.bulk.unbound.addLocalData([#"77.121.0.45.origin.asn.cymru.com. 300 IN TXT "64501 | 45.0.121.0/24 | NL | ripencc | 2010-01-01""#])
        let forget = "DELETE FROM asn_cache"
        _ = try TestPostgres.psql(url, forget)
        try await DatabaseQueue(path: w.bulk.dbPath).write { db in try db.execute(sql: forget) }
        for args in [["triage", BulkWorld.liveA, "--json"], ["ip", BulkWorld.liveA], ["triage", "--file", try w.bulk.file("f.txt", lines: ["c2.example"])]] {
            let a = try await w.bulk.dnswatch(args + ["--db", w.bulk.dbPath, "--resolver", w.bulk.unbound.endpoint])
            let b = try await w.bulk.dnswatch(args + ["--db", url, "--resolver", w.bulk.unbound.endpoint])
            #expect(a.code == 0 && a.code == b.code && a.out == b.out && Self.untimed(a.err) == Self.untimed(b.err),
                    "\(args)\nSQLite: \(a.out)\(a.err)\nPostgreSQL: \(b.out)\(b.err)")
        }
        let triage = try CLI.json(try await w.bulk.dnswatch(["triage", BulkWorld.liveA, "--json", "--db", url]).out)
        #expect(triage["asn"] as? Int == 64501, "cached by the lookup: \(triage)")
        #expect(try TestPostgres.psql(url, "SELECT asn FROM asn_cache WHERE address = '\(BulkWorld.liveA)'") == ["64501"])
    }

    /// A block is one range of `span_values`' primary key: on a table large enough for the planner to care,
    /// each range of the batched statement is an index scan of `span_values_pkey`, never a sequential scan.
    @Test func blockRangesScanThePrimaryKeyIndex() async throws {
        let url = try TestPostgres.freshDatabase()
        try await PostgresStore.withStore(try PostgresURL(url), logger: Logger(label: "test"), migrate: true) { _ in }
        _ = try TestPostgres.psql(url, """
            INSERT INTO domains (id, name, created) VALUES (1, 'x.example', 0);
            INSERT INTO spans (id, domain_id, rrtype, status, rdata, time_first, time_last, count) VALUES (1, 1, 'A', 'NOERROR', '', 0, 0, 1);
            INSERT INTO heads (domain_id, rrtype, span_id) VALUES (1, 'A', 1);
            INSERT INTO span_values (key, domain_id, span_id) SELECT '\\x04'::bytea || int4send(g), 1, 1 FROM generate_series(0, 199999) g;
            ANALYZE;
            """)
        let ranges = "ARRAY[0, 1]::bigint[], ARRAY['\\x0400010000'::bytea, '\\x0600000000000000000000ffff00010000'::bytea], "
            + "ARRAY['\\x04000100ff'::bytea, '\\x0600000000000000000000ffff000100ff'::bytea]"
        for (at, limit) in [(false, false), (true, false), (false, true)] {
            let types = "bigint[], bytea[], bytea[]" + (at ? ", bigint" : "") + (limit ? ", bigint" : "")
            let args = ranges + (at ? ", 100" : "") + (limit ? ", 10" : "")
            let plan = try TestPostgres.psql(url, """
                PREPARE q(\(types)) AS \(PostgresStore.sightingsSQL(at: at, limit: limit));
                EXPLAIN EXECUTE q(\(args));
                """).joined(separator: "\n")
            #expect(plan.contains("span_values_pkey") && !plan.contains("Seq Scan on span_values"), "at \(at), limit \(limit):\n\(plan)")
        }
        // And it finds the block's keys: 256 in 0.1.0.0/24 (its mapped range holds none).
        let found = try await PostgresStore.withStore(try PostgresURL(url), logger: Logger(label: "test"), migrate: false) {
            try await $0.domains(resolvingInto: try #require(CIDR("0.1.0.0/24")), atMost: nil)
        }
        #expect(found.count == 256 && found.first?.address == "0.1.0.0" && found.last?.address == "0.1.0.255")
        await #expect(throws: TooManySightings.self) {
            try await PostgresStore.withStore(try PostgresURL(url), logger: Logger(label: "test"), migrate: false) {
                try await $0.domains(resolvingInto: try #require(CIDR("0.1.0.0/24")), atMost: 255)
            }
        }
    }
}
