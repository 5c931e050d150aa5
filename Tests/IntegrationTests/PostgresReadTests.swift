import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
import Logging
import Poller
import PostgresStore
import TestWorlds
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// `history` and `alerts` on PostgreSQL: a SQLite database with real history (polls, a parked domain
/// coming alive, a live one parked, a new address, imported records of two sources) migrated with
/// `dnswatch migrate`, then every command line run on both, which must print the same bytes.
@Suite(.serialized) struct PostgresReadTests {
    static func live(_ name: String, _ address: String) -> [String] {
        ["\(name). 300 IN A \(address)", "\(name). 300 IN NS ns1.r.example."]
    }

    /// Imported passive DNS (`import cof`): records of watched names and of a name never watched.
    static let farsight = [
        #"{"count":12,"time_first":1700000000,"time_last":1700100000,"rrname":"c2.example.","rrtype":"A","rdata":["45.0.121.5","45.0.121.6"]}"#,
        #"{"count":3,"time_first":1690000000,"time_last":1700000000,"rrname":"c2.example.","rrtype":"NS","rdata":["ns1.host.example."]}"#,
        #"{"count":4,"time_first":1700000000,"time_last":1700050000,"rrname":"other.example.","rrtype":"A","rdata":["45.0.121.5"]}"#,
    ]
    static let circl = [
        #"{"count":7,"rdata":"45.0.121.9","rrname":"c2.example","rrtype":"A","time_first":1710000000,"time_last":1710000900}"#,
        #"{"count":2,"rdata":"2001:DB8::5","rrname":"back.example","rrtype":"AAAA","time_first":1710000000,"time_last":1710000900}"#,
    ]

    /// The SQLite database of real history, and the PostgreSQL database it was migrated into.
    static func migratedWorld() async throws -> (w: BackendWorld, url: String) {
        let w = try await BackendWorld(.sqlite, names: BulkWorld.names(8))
        let dns = w.bulk.unbound
        try dns.addLocalData(World.parkedRecords("c2.example"))
        try dns.addLocalData(Self.live("back.example", BulkWorld.liveA))
        try dns.addLocalData(Self.live("move.example", BulkWorld.liveA))
        try await w.bulk.watch(["c2.example", "back.example", "move.example"], list: "ursnif", kind: .c2)
        let sink = CaptureSink(key: "k")
        _ = try await w.poller(w.bulk.store, sinks: [sink]).poll()
        // Each change a second apart, so that --since and --until can split them.
        try await Task.sleep(for: .seconds(1.1))
        try dns.removeLocalData(["c2.example"])
        try dns.addLocalData(Self.live("c2.example", BulkWorld.liveA))
        _ = try await w.poller(w.bulk.store, sinks: [sink]).poll()
        try await Task.sleep(for: .seconds(1.1))
        try dns.removeLocalData(["back.example", "move.example"])
        try dns.addLocalData(World.parkedRecords("back.example"))
        try dns.addLocalData(Self.live("move.example", "45.0.121.78"))
        _ = try await w.poller(w.bulk.store, sinks: [sink]).poll()
        try await Task.sleep(for: .seconds(1.1))
        _ = try await w.poller(w.bulk.store, sinks: [sink]).poll()
        for (source, lines) in [("farsight", Self.farsight), ("circl", Self.circl)] {
            let imported = try await w.bulk.dnswatch(["import", "cof", try w.bulk.file("\(source).json", lines: lines), "--source", source,
                                                      "--db", w.bulk.dbPath])
            #expect(imported.code == 0, "\(imported.err)")
        }

        let url = try TestPostgres.freshDatabase()
        let migrated = try await w.bulk.dnswatch(["migrate", "--from", w.bulk.dbPath, "--db", url])
        #expect(migrated.code == 0, "\(migrated.err)")
        return (w, url)
    }

    @Test func migratedHistoryAndAlertsPrintTheSameOnBothBackends() async throws {
        let (w, url) = try await Self.migratedWorld()
        let audit = try Audit(w.bulk.dbPath)
        let alertTimes = try await audit.queue.read { db in try Int64.fetchAll(db, sql: "SELECT time FROM alerts ORDER BY id") }
        #expect(alertTimes.count == 3, "activation, parked and new-ip")
        let polls = try await audit.queue.read { db in try Int64.fetchAll(db, sql: "SELECT started FROM polls ORDER BY id") }
        #expect(polls.count == 4)
        let second = polls.count > 1 ? polls[1] : 0, third = polls.count > 2 ? polls[2] : 0

        /// The command on SQLite and on PostgreSQL: the same exit code, stdout and stderr.
        @discardableResult
        func same(_ args: [String]) async throws -> CLI.Result {
            let a = try await w.bulk.dnswatch(args + ["--db", w.bulk.dbPath])
            let b = try await w.bulk.dnswatch(args + ["--db", url])
            #expect(a.code == b.code && a.out == b.out && a.err == b.err,
                    "\(args)\nSQLite (exit \(a.code)):\n\(a.out)\(a.err)\nPostgreSQL (exit \(b.code)):\n\(b.out)\(b.err)")
            return a
        }

        // history: polled and imported spans, every filter, text and JSON.
        let all = try await same(["history", "c2.example", "--json"]).lines.map(CLI.json)
        #expect(Set(all.map { $0["source"] as? String ?? "polled" }) == ["polled", "farsight", "circl"], "\(all)")
        #expect(all.map { $0["time_first"] as? Int ?? 0 } == all.map { $0["time_first"] as? Int ?? 0 }.sorted(), "oldest first")
        let text = try await same(["history", "c2.example"])
        #expect(text.code == 0 && text.out.hasPrefix("FIRST SEEN") && text.out.contains("parked") && text.out.contains("farsight"), "\(text.out)")
        for name in ["back.example", "move.example", "d0.r.example", "dnx3.example", "other.example", "C2.Example."] {
            for format in [[], ["--json"]] {
                let r = try await same(["history", name] + format)
                #expect(r.code == 0 && !r.out.isEmpty, "\(name): \(r.err)")
            }
        }
        for filters in [["--type", "A"], ["--type", "ns"], ["--type", "AAAA"], ["--type", "CNAME"],
                        ["--since", "\(third)"], ["--until", "\(second)"], ["--since", "\(second)", "--until", "\(second)"],
                        ["--until", "1700050000"], ["--since", "2023-11-15T00:00:00Z", "--until", "2024-03-10T00:00:00Z"],
                        ["--since", "1h"], ["--since", "2100-01-01T00:00:00Z"],
                        ["--source", "polled"], ["--source", "farsight"], ["--source", "circl"], ["--source", "nosuch"],
                        ["--source", "farsight", "--type", "NS", "--until", "1700000000"]] {
            for name in ["c2.example", "back.example"] {
                try await same(["history", name] + filters)
                try await same(["history", name, "--json"] + filters)
            }
        }
        let polledSpans = try await same(["history", "c2.example", "--json", "--source", "polled"]).lines.map(CLI.json)
        #expect(polledSpans.map { "\($0["rrtype"] as? String ?? "-") \($0["status"] as? String ?? "-") \($0["rdata"] as? [String] ?? [])" }
                == ["A NOERROR [\"91.195.240.94\"]", "AAAA NODATA []", "NS NOERROR [\"ns1.sedoparking.com.\", \"ns2.sedoparking.com.\"]",
                    "A NOERROR [\"45.0.121.77\"]", "NS NOERROR [\"ns1.r.example.\"]"], "parked at Sedo, then live: \(polledSpans)")
        #expect(try await same(["history", "c2.example", "--json", "--source", "farsight"]).lines.count == 2)
        #expect(try await same(["history", "never.example"]).err == "dnswatch: no history for never.example\n")
        #expect(try await same(["history", "c2.example", "--source", "nosuch"]).err.contains("in that window, type or source"))
        #expect(try await same(["history", "c2.example", "--type", "TXT"]).code == 64)
        #expect(try await same(["history", "45.0.121.77"]).code == 64)

        // alerts: text, JSON, --since, --severity.
        let alerts = try await same(["alerts", "--json"])
        #expect(alerts.code == 0 && alerts.lines.count == alertTimes.count, "\(alerts.out)")
        let table = try await same(["alerts"])
        #expect(table.out.hasPrefix("TIME") && table.out.contains("activation") && table.out.contains("c2.example: activation"), "\(table.out)")
        for filters in [["--since", "\(third)"], ["--since", "\(second)"], ["--since", "1h"], ["--since", "2100-01-01T00:00:00Z"],
                        ["--severity", "info"], ["--severity", "low"], ["--severity", "medium"], ["--severity", "high"],
                        ["--severity", "CRITICAL"], ["--since", "\(third)", "--severity", "high"], ["--severity", "urgent"]] {
            try await same(["alerts"] + filters)
            try await same(["alerts", "--json"] + filters)
        }
        let critical = try await same(["alerts", "--json", "--severity", "critical"]).lines.map(CLI.json)
        #expect(critical.map { $0["type"] as? String } == ["activation"], "\(critical)")
        let later = try await same(["alerts", "--json", "--since", "\(third)"]).lines.map(CLI.json)
        #expect(later.map { "\($0["domain"] as? String ?? "-") \($0["type"] as? String ?? "-")" }.sorted() == ["back.example parked", "move.example new-ip"],
                "the third poll's changes: \(later)")
        #expect(try await same(["alerts", "--since", "2100-01-01T00:00:00Z"]).err == "dnswatch: no alerts\n")

        // The protocol's other read, on both.
        let exists = try await PostgresStore.withStore(try PostgresURL(url), logger: Logger(label: "t"), migrate: false) { pg in
            [try await pg.domainExists("c2.example"), try await pg.domainExists("other.example"), try await pg.domainExists("never.example")]
        }
        #expect(exists == [try await w.bulk.store.domainExists("c2.example"), try await w.bulk.store.domainExists("other.example"),
                           try await w.bulk.store.domainExists("never.example")])
        #expect(exists == [true, true, false])

        // A stored alert of a severity this version does not know: the same refusal, exit 1, on both.
        let tampered = "UPDATE alerts SET severity = 'urgent' WHERE id = (SELECT min(id) FROM alerts)"
        try await DatabaseQueue(path: w.bulk.dbPath).write { db in try db.execute(sql: tampered) }
        _ = try TestPostgres.psql(url, tampered)
        let refused = try await same(["alerts"])
        #expect(refused.code == 1 && refused.out.isEmpty && refused.err.contains("this dnswatch does not know"), "\(refused.err)")
        try await same(["alerts", "--json", "--severity", "critical"])
    }

    /// `dnswatch serve` on the SQLite database and on the PostgreSQL one it was migrated into: every
    /// endpoint family (DNSDB API v2, CIRCL pDNS, /api/v1, the web pages, /metrics) answers the same
    /// status and bytes from both; then `daemon --listen` on PostgreSQL serves the same while it polls.
    @Test func serveAnswersTheSameFromBothBackends() async throws {
        let (w, url) = try await Self.migratedWorld()
        var servers: [Background] = [], bases: [String] = []
        for db in [w.bulk.dbPath, url] {
            let port = try LoopbackSocket.freePort()
            let server = try Background(["serve", "--db", db, "--listen", "127.0.0.1:\(port)"], workdir: w.bulk.workdir)
            let up = try await eventually(timeout: 30, every: 50) { server.err.contains("serving http://127.0.0.1:\(port)") }
            try #require(up && server.isRunning, "serve --db \(db) did not start: \(server.err)")
            servers.append(server)
            bases.append("http://127.0.0.1:\(port)")
        }
        let sedo = World.sedoA, live = BulkWorld.liveA
        let paths = [
            "/dnsdb/v2/ping", "/dnsdb/v2/rate_limit",
            "/dnsdb/v2/lookup/rrset/name/c2.example", "/dnsdb/v2/lookup/rrset/name/c2.example/A", "/dnsdb/v2/lookup/rrset/name/c2.example/NS",
            "/dnsdb/v2/lookup/rrset/name/*.example", "/dnsdb/v2/lookup/rrset/name/*.r.example/A", "/dnsdb/v2/lookup/rrset/name/other.example",
            "/dnsdb/v2/lookup/rrset/name/*.example?aggr=false", "/dnsdb/v2/lookup/rrset/name/*.example?limit=3",
            "/dnsdb/v2/lookup/rrset/name/c2.example?time_first_after=1700000001", "/dnsdb/v2/lookup/rrset/name/c2.example?time_last_before=1710000000",
            "/dnsdb/v2/lookup/rrset/name/never.example", "/dnsdb/v2/lookup/rrset/name/c2.example/TXT",
            "/dnsdb/v2/lookup/rdata/ip/\(live)", "/dnsdb/v2/lookup/rdata/ip/\(sedo)", "/dnsdb/v2/lookup/rdata/ip/45.0.121.0,24",
            "/dnsdb/v2/lookup/rdata/ip/45.0.0.0,8?aggr=false", "/dnsdb/v2/lookup/rdata/ip/2001:db8::5", "/dnsdb/v2/lookup/rdata/ip/2001:db8::,32",
            "/dnsdb/v2/lookup/rdata/ip/\(sedo)?time_last_after=1", "/dnsdb/v2/lookup/rdata/ip/0.0.0.0,0?limit=4",
            "/dnsdb/v2/lookup/rdata/name/ns1.r.example", "/dnsdb/v2/lookup/rdata/name/*.sedoparking.com", "/dnsdb/v2/lookup/rdata/name/*.com/NS",
            "/dnsdb/v2/lookup/rdata/name/ns1.host.example/NS", "/dnsdb/v2/lookup/rdata/ip/not-an-address",
            "/pdns/query/c2.example", "/pdns/query/\(live)", "/pdns/query/45.0.121.0/24", "/pdns/query/other.example", "/pdns/query/never.example",
            "/pdns/query/\(sedo)",
            "/api/v1/history/c2.example", "/api/v1/history/c2.example?type=A", "/api/v1/history/back.example?source=polled",
            "/api/v1/ip/\(live)", "/api/v1/ip/45.0.121.0/24", "/api/v1/ip/\(sedo)", "/api/v1/triage/\(sedo)", "/api/v1/triage/c2.example",
            "/api/v1/triage/\(live)", "/api/v1/alerts", "/api/v1/alerts?severity=high", "/api/v1/alerts?limit=1", "/api/v1/domains",
            "/api/v1/domains?list=ursnif", "/api/v1/domains?limit=2",
            "/", "/ui/domain/c2.example", "/ui/domain/back.example", "/ui/domain/never.example", "/ui/ip/\(live)", "/ui/ip/45.0.121.0/24",
            "/ui/ip/\(sedo)", "/ui/search?q=c2.example", "/ui/search?q=\(live)",
            "/metrics",
        ]
        var compared = 0
        for path in paths {
            for headers in path.hasPrefix("/pdns/") ? [[], ["dribble-paginate-count: 1"], ["dribble-filter-rrtype: A"]] : [[]] {
                let a = try await HTTP.get(bases[0] + path, headers: headers)
                let b = try await HTTP.get(bases[1] + path, headers: headers)
                // The registry writes its metric families in no fixed order: /metrics is compared line by line.
                let same = path == "/metrics" ? a.body.split(separator: "\n").sorted() == b.body.split(separator: "\n").sorted() : a.body == b.body
                #expect(a.status == b.status && same,
                        "\(path) \(headers)\nSQLite (\(a.status)):\n\(a.body.prefix(3000))\nPostgreSQL (\(b.status)):\n\(b.body.prefix(3000))")
                if a.status == 200 && !a.body.isEmpty { compared += 1 }
            }
        }
        #expect(compared >= paths.count - 8, "most paths answered 200 with a body: \(compared) of \(paths.count)")
        let rrsets = try await HTTP.get(bases[1] + "/dnsdb/v2/lookup/rrset/name/c2.example")
        #expect(rrsets.body.contains(#""rrname":"c2.example.""#) && rrsets.body.contains(#""cond":"succeeded""#), "\(rrsets.body)")
        let metrics = try await HTTP.get(bases[1] + "/metrics")
        #expect(metrics.body.contains("dnswatch_polls_total 4"), "\(metrics.body)")
        for server in servers {
            server.signal(SIGTERM)
            let ended = try await server.wait(timeout: 20)
            #expect(ended?.status == 0, "\(server.err)")
        }

        // daemon --listen on PostgreSQL: the poll service and the server over one pool.
        _ = try TestPostgres.psql(url, "UPDATE domain_status SET next_due = 0")  // all due again
        let port = try LoopbackSocket.freePort()
        let daemon = try Background(["daemon", "--db", url, "--resolver", w.bulk.unbound.endpoint, "--no-asn", "--tick", "1s",
                                     "--listen", "127.0.0.1:\(port)"], workdir: w.bulk.workdir)
        let up = try await eventually(timeout: 30, every: 50) { daemon.err.contains("serving http://127.0.0.1:\(port)") }
        try #require(up && daemon.isRunning, "daemon --listen did not start: \(daemon.err)")
        let served = try await HTTP.get("http://127.0.0.1:\(port)/dnsdb/v2/lookup/rrset/name/c2.example")
        #expect(served.status == 200 && served.body.contains(#""rrname":"c2.example.""#), "\(served)")
        let polled = try await eventually(timeout: 30, every: 100) {
            try TestPostgres.scalar(url, "SELECT count(*) FROM polls WHERE finished IS NOT NULL") > 4
        }
        #expect(polled, "the daemon polled the due domains: \(daemon.err)")
        let counted = try await HTTP.get("http://127.0.0.1:\(port)/metrics")
        #expect(counted.body.contains("dnswatch_polls_total 5"), "\(counted.body)")
        daemon.signal(SIGTERM)
        #expect(try await daemon.wait(timeout: 30)?.status == 0, "\(daemon.err)")
    }

    /// The lookups' pages on both backends, at page sizes that split every key and domain: the same hits in
    /// the same order, page for page.
    @Test func lookupPagesAreTheSameOnBothBackends() async throws {
        let (w, url) = try await Self.migratedWorld()
        try await PostgresStore.withStore(try PostgresURL(url), logger: Logger(label: "t"), migrate: false) { pg in
            let sqlite: any ServeReading = w.bulk.store
            for size in [1, 2, 3, 7, 2000] {
                for block in ["45.0.121.0/24", "0.0.0.0/0", "::/0", "\(World.sedoA)/32", "2001:db8::/32"] {
                    guard let cidr = CIDR(block) else { throw PostgresServer.Failure(step: "no CIDR \(block)") }
                    var pages: [[String]] = [[], []], hits: [[String]] = [[], []]
                    for (i, store) in [sqlite, pg].enumerated() {
                        for try await page in store.addressSpans(in: cidr, pageSize: size) {
                            pages[i].append(page.map { "\($0.value) \($0.span.domain) \($0.span.id) \($0.current)" }.joined(separator: ","))
                            hits[i] += page.map { "\($0.value) \($0.span.domain)" }
                        }
                    }
                    #expect(pages[0] == pages[1] && !pages[0].isEmpty, "\(block) by \(size): \(pages)")
                    if block == "2001:db8::/32" {
                        // The one address in it: circl's imported AAAA of back.example.
                        #expect(hits[1] == ["2001:db8::5 back.example"], "\(block) by \(size): \(hits)")
                    }
                }
                for name in [NameMatch.subdomains(of: "example"), .exact("c2.example"), .subdomains(of: "r.example"), .subdomains(of: "com")] {
                    var rrsets: [[String]] = [[], []], values: [[String]] = [[], []]
                    for (i, store) in [sqlite, pg].enumerated() {
                        for try await page in store.rrsetSpans(name, type: nil, fence: .none, pageSize: size) {
                            rrsets[i].append(page.map { "\($0.domain) \($0.rrtype) \($0.rdata) \($0.source ?? "-")" }.joined(separator: ","))
                        }
                        for try await page in store.nameSpans(holding: name, pageSize: size) {
                            values[i].append(page.map { "\($0.value) \($0.span.domain) \($0.span.id)" }.joined(separator: ","))
                        }
                    }
                    #expect(rrsets[0] == rrsets[1], "\(name) by \(size)")
                    #expect(values[0] == values[1], "\(name) by \(size)")
                }
                let fenced = TimeFence(lastAfter: 1_700_050_000)
                let a = try await sqlite.rrsetSpans(.subdomains(of: "example"), type: .a, fence: fenced, pageSize: size).collect()
                let b = try await pg.rrsetSpans(.subdomains(of: "example"), type: .a, fence: fenced, pageSize: size).collect()
                #expect(a == b && !a.isEmpty)
            }
            #expect(try await sqlite.metricsReading(afterPoll: 0, afterAlert: 0) == pg.metricsReading(afterPoll: 0, afterAlert: 0))
            #expect(try await sqlite.latestAlerts(limit: 2) == pg.latestAlerts(limit: 2))
            #expect(try await sqlite.alerts(domain: "c2.example") == pg.alerts(domain: "c2.example"))
            #expect(try await sqlite.state(of: "back.example") == pg.state(of: "back.example"))
        }
    }

    @Test func aMissingDatabaseOrServerIsOneSentenceAndExit1AndAnUnmigratedOneIsEmpty() async throws {
        let w = try await BackendWorld(.sqlite, names: ["a.r.example"])
        let existing = try TestPostgres.freshDatabase()
        guard let slash = existing.lastIndex(of: "/") else { throw PostgresServer.Failure(step: "no database in \(existing)") }
        let missing = String(existing[..<slash]) + "/no_such_database"
        let port = try LoopbackSocket.freePort()
        for (db, cause) in [(missing, #"database "no_such_database" does not exist"#),
                            ("postgresql://u@127.0.0.1:\(port)/x", "cannot connect to postgresql://u@127.0.0.1:\(port)/x: ")] {
            for args in [["history", "a.r.example"], ["history", "a.r.example", "--json", "--type", "A"], ["alerts"], ["alerts", "--json"]] {
                let r = try await w.bulk.dnswatch(args + ["--db", db], timeout: 60)
                #expect(r.code == 1 && r.out.isEmpty, "\(args): \(r.code) \(r.out)")
                #expect(r.err.hasPrefix("dnswatch: cannot connect to ") && r.err.contains(cause) && r.err.split(separator: "\n").count == 1,
                        "\(args): \(r.err)")
            }
        }
        // A database no writing command has migrated reads as empty, with a note, as a missing SQLite file
        // does; a reader creates nothing.
        let note = "dnswatch: no dnswatch tables in \(existing) yet (a writing command such as 'poll' or 'migrate' creates them)\n"
        let history = try await w.bulk.dnswatch(["history", "a.r.example", "--db", existing])
        #expect(history.code == 0 && history.out.isEmpty && history.err == note + "dnswatch: no history for a.r.example\n", "\(history.err)")
        let alerts = try await w.bulk.dnswatch(["alerts", "--db", existing])
        #expect(alerts.code == 0 && alerts.out.isEmpty && alerts.err == note + "dnswatch: no alerts\n", "\(alerts.err)")
        let json = try await w.bulk.dnswatch(["alerts", "--json", "--db", existing])
        #expect(json.code == 0 && json.out.isEmpty && json.err == note, "\(json.err)")
        #expect(try TestPostgres.psql(existing, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == ["0"])
    }
}
