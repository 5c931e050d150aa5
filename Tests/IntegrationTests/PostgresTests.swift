import Alerting
import Classification
import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import Logging
import Poller
import PostgresStore
import Resolver
import TestWorlds
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// One backend seeded with BulkWorld's watchlist: SQLite is BulkWorld's file; PostgreSQL is a fresh
/// database the file is copied into (`PostgresStore.copy`, what `dnswatch migrate` runs).
final class BackendWorld: @unchecked Sendable {
    let backend: Backend
    let bulk: BulkWorld
    let url: String?

    init(_ backend: Backend, names: [String], list: String = "feed", kind: ListKind = .c2) async throws {
        self.backend = backend
        bulk = try BulkWorld()
        // No names: no list either (the `watch` tests start from an empty database).
        if !names.isEmpty { try await bulk.watch(names, list: list, kind: kind) }
        switch backend {
        case .sqlite:
            url = nil
        case .postgresql:
            let url = try TestPostgres.freshDatabase()
            self.url = url
            let source = bulk.store
            _ = try await PostgresStore.withStore(try PostgresURL(url), logger: Logger(label: "test"), migrate: true) {
                try await $0.copy(from: source)
            }
        }
    }

    /// The `--db` of this backend.
    var db: String { url ?? bulk.dbPath }

    /// Runs `body` with this backend's PollStore.
    func withStore<T: Sendable>(_ body: (any PollStore) async throws -> T) async throws -> T {
        guard let url else { return try await body(bulk.store) }
        return try await PostgresStore.withStore(try PostgresURL(url), logger: Logger(label: "test"), migrate: true) { try await body($0) }
    }

    func poller(_ store: any PollStore, name: String = "test-poller", sinks: [any AlertSink] = [], batch: Int = 5000,
                due: Bool = false, lease: Int64 = 600) throws -> Poller {
        var o = ResolverOptions()
        o.timeout = 2
        o.retries = 2
        var p = PollOptions()
        p.asnLookups = false
        p.poller = name
        p.lease = lease
        p.batchSize = batch
        p.dueOnly = due
        let engine = try DNSResolver(endpoints: [try ResolverEndpoint(bulk.unbound.endpoint)], options: o)
        return Poller(store: store, engine: engine, classifier: bulk.classifier, sinks: sinks, options: p, logger: Logger(label: "test"))
    }

    /// Rows of a table (spans, transitions, ...), counted outside dnswatch's code. On PostgreSQL spans are
    /// counted as readers see them, through `spans_seen` (a current span's running last sighting and count
    /// are in its `heads` row: migration 0003).
    func count(_ table: String, where condition: String = "true") throws -> Int {
        if let url {
            return try TestPostgres.scalar(url, "SELECT count(*) FROM \(table == "spans" ? "spans_seen" : table) WHERE \(condition)")
        }
        let sql = "SELECT count(*) FROM \(table == "spans" ? "spans_seen" : table) WHERE \(condition)"
        return try Audit(bulk.dbPath).scalar(sql)
    }
}

/// The store suite: the poll path's contract, the same cases on SQLite and on PostgreSQL.
@Suite(.serialized) struct PollStoreSuite {
    @Test(arguments: Backend.allCases)
    func aPollRecordsEachDomainOnceAndTheNextExtendsItsSpans(backend: Backend) async throws {
        let names = BulkWorld.names(400)
        let w = try await BackendWorld(backend, names: names)
        let (first, second, due, pollers) = try await w.withStore { store in
            let first = try await w.poller(store, batch: 150).poll()
            let second = try await w.poller(store, batch: 150).poll()
            let due = try await w.poller(store, due: true).poll()
            let pollers: [PollerInfo]
            if let pg = store as? PostgresStore { pollers = try await pg.pollers() } else { pollers = try await w.bulk.store.pollers() }
            return (first, second, due, pollers)
        }
        #expect(first.counts.domains == 400 && first.counts.changes == 400 && first.counts.failures == 0)
        #expect(second.counts.domains == 400 && second.counts.changes == 0)
        #expect(due.counts.domains == 0 && due.pollID == 0, "nothing is due right after a poll")
        // Three spans a domain (A, AAAA, NS), each seen twice; one head per (domain, type).
        #expect(try w.count("spans") == 1200)
        #expect(try w.count("spans", where: "count = 2") == 1200)
        #expect(try w.count("heads") == 1200)
        #expect(try w.count("span_values") == 300 * 2, "an A and an NS value for each of the 300 live names")
        #expect(try w.count("domain_state") == 400)
        #expect(try w.count("polls", where: "poller = 'test-poller' AND finished IS NOT NULL") == 2)
        #expect(pollers.map(\.name) == ["test-poller"])
        #expect(pollers.first?.lastPoll?.counts.domains == 400)
    }

    /// A span seen by several polls, then replaced: it keeps the count and last sighting of the polls that
    /// saw it (on PostgreSQL folded in from its head when the head is replaced), the span after it starts
    /// at one, and the unchanged NS span counts every poll.
    @Test(arguments: Backend.allCases)
    func aReplacedSpanKeepsTheSightingsOfThePollsThatSawIt(backend: Backend) async throws {
        let w = try await BackendWorld(backend, names: ["move.example"])
        try w.bulk.unbound.addLocalData(["move.example. 300 IN A 45.0.121.70", "move.example. 300 IN NS ns1.r.example."])
        let history = try await w.withStore { store in
            for _ in 0..<3 { _ = try await w.poller(store).poll() }
            try await Task.sleep(for: .seconds(1.1))
            try w.bulk.unbound.removeLocalData(["move.example"])
            try w.bulk.unbound.addLocalData(["move.example. 300 IN A 45.0.121.71", "move.example. 300 IN NS ns1.r.example."])
            _ = try await w.poller(store).poll()
            _ = try await w.poller(store).poll()
            guard let reader = store as? any HistoryReading else { throw PostgresServer.Failure(step: "no HistoryReading") }
            return try await reader.history(domain: "move.example", type: nil, since: nil, until: nil, source: nil)
        }
        let a = history.filter { $0.rrtype == .a }, ns = history.filter { $0.rrtype == .ns }
        #expect(a.map(\.rdata) == [["45.0.121.70"], ["45.0.121.71"]] && a.map(\.count) == [3, 2], "\(history)")
        #expect(ns.map(\.count) == [5], "\(history)")
        if a.count == 2, let last = ns.first {
            #expect(a[0].timeLast < a[1].timeFirst && a[1].timeLast == last.timeLast && a[0].timeFirst == last.timeFirst, "\(history)")
        }
    }

    /// `import cof` on both backends, from the same database: the same summary lines (new, merged and
    /// widened records, a record repeated in one file, a name never watched, a bad line skipped), and the
    /// same imported history, text and JSON; a re-import merges everything and changes nothing.
    @Test func importCOFGivesTheSameCountsAndHistoryOnBothBackends() async throws {
        let names = ["c2.example", "d0.r.example"]
        let lines = [
            #"{"count":12,"time_first":1700000000,"time_last":1700100000,"rrname":"c2.example.","rrtype":"A","rdata":["45.0.121.5","45.0.121.6"]}"#,
            #"{"count":3,"time_first":1690000000,"time_last":1700000000,"rrname":"c2.example.","rrtype":"NS","rdata":["ns1.host.example."]}"#,
            #"{"count":4,"time_first":1700000000,"time_last":1700050000,"rrname":"never.example.","rrtype":"A","rdata":["45.0.121.5"]}"#,
            #"{"count":20,"time_first":1699000000,"time_last":1700000000,"rrname":"c2.example.","rrtype":"A","rdata":["45.0.121.5","45.0.121.6"]}"#,
            #"{"count":2,"rdata":"2001:DB8::5","rrname":"d0.r.example","rrtype":"AAAA","time_first":1710000000,"time_last":1710000900}"#,
            "not json",
            #"{"count":1,"rdata":"10 mx.example.","rrname":"d0.r.example","rrtype":"MX","time_first":1710000000,"time_last":1710000900}"#,
        ]
        var outputs: [[String]] = []
        for backend in Backend.allCases {
            let w = try await BackendWorld(backend, names: names)
            let file = try w.bulk.file("farsight.json", lines: lines)
            var out: [String] = []
            for _ in 0..<2 {
                let r = try await w.bulk.dnswatch(["import", "cof", file, "--source", "farsight", "--skip-invalid", "--db", w.db])
                #expect(r.code == 0, "\(backend): \(r.err)")
                out.append("\(r.code) \(r.out) \(r.err.replacingOccurrences(of: w.bulk.workdir.path, with: "WORKDIR"))")
            }
            for name in names + ["never.example"] {
                for format in [[], ["--json"]] {
                    let r = try await w.bulk.dnswatch(["history", name, "--source", "farsight", "--db", w.db] + format)
                    out.append("\(name) \(format): \(r.code) \(r.out) \(r.err)")
                }
            }
            let ip = try await w.bulk.dnswatch(["ip", "45.0.121.5", "--db", w.db])
            out.append("ip: \(ip.code) \(ip.out) \(ip.err)")
            outputs.append(out)
        }
        #expect(outputs.count == 2 && outputs[0] == outputs[1], "SQLite:\n\(outputs.first ?? [])\nPostgreSQL:\n\(outputs.last ?? [])")
        #expect(outputs.first?.first?.contains("read 7, imported 4, merged 1 (changed 1), skipped 1 (MX=1), invalid skipped 1") == true, "\(outputs.first ?? [])")
        #expect(outputs.first?.dropFirst().first?.contains("imported 0, merged 5 (changed 0)") == true, "\(outputs.first ?? [])")
    }

    /// `reclassify` with a fingerprint added: the same summary and the same re-derived classes (polled and
    /// imported spans, the domain's state) on both backends; a second run changes nothing.
    @Test func reclassifyGivesTheSameClassesOnBothBackends() async throws {
        var outputs: [[String]] = []
        for backend in Backend.allCases {
            let w = try await BackendWorld(backend, names: ["p.example"])
            try w.bulk.unbound.addLocalData(["p.example. 300 IN NS ns1.newparker.example.", "p.example. 300 IN A 45.0.121.5"])
            let common = ["--db", w.db]
            #expect(try await w.bulk.dnswatch(["poll", "--resolver", w.bulk.unbound.endpoint, "--no-asn"] + common).code == 0)
            let cof = try w.bulk.file("peer.json", lines: [
                #"{"count":2,"rdata":"ns2.newparker.example.","rrname":"p.example","rrtype":"NS","time_first":1710000000,"time_last":1710000900}"#,
            ])
            #expect(try await w.bulk.dnswatch(["import", "cof", cof, "--source", "peer"] + common).code == 0)
            let extra = try w.bulk.file("extra.tsv", lines: ["provider\tkind\tvalue\tcategory\tsource",
                                                             "NewParker\tns\t*.newparker.example\tparking\tlocal"])
            var out: [String] = []
            for _ in 0..<2 {
                let r = try await w.bulk.dnswatch(["reclassify", "--fingerprints", extra] + common)
                out.append("\(r.code) \(r.out) \(r.err)")
            }
            let history = try await w.bulk.dnswatch(["history", "p.example", "--json", "--type", "NS"] + common)
            out += try history.lines.map(CLI.json).map { "\($0["source"] ?? "-") \($0["class"] ?? "-") \($0["provider"] ?? "-")" }
            let triage = try CLI.json(try await w.bulk.dnswatch(["triage", "p.example", "--json", "--fingerprints", extra] + common).out)
            out.append("\(triage["verdict"] ?? "-")")
            outputs.append(out)
        }
        #expect(outputs.count == 2 && outputs[0] == outputs[1], "SQLite: \(outputs.first ?? [])\nPostgreSQL: \(outputs.last ?? [])")
        // Four spans (the polled A, AAAA and NS, the imported NS); the polled NS span's source is null.
        #expect(outputs.first?.first == "0 spans 4, current spans reclassified 1, domain states changed 1\n ", "\(outputs.first ?? [])")
        #expect(outputs.first?.dropFirst().first == "0 spans 4, current spans reclassified 0, domain states changed 0\n ")
        #expect(outputs.first?.contains("peer parked NewParker") == true && outputs.first?.contains("<null> parked NewParker") == true,
                "\(outputs.first ?? [])")
    }

    @Test(arguments: Backend.allCases)
    func aTransitionRaisesOneAlertDeliveredOncePerSink(backend: Backend) async throws {
        let w = try await BackendWorld(backend, names: ["c2.example"])
        try w.bulk.unbound.addLocalData(World.parkedRecords("c2.example"))
        let sink = CaptureSink(key: "capture")
        let (baseline, flip, again) = try await w.withStore { store in
            let baseline = try await w.poller(store, sinks: [sink]).poll()
            try w.bulk.unbound.removeLocalData(["c2.example"])
            try w.bulk.unbound.addLocalData(["c2.example. 300 IN A 45.0.121.77", "c2.example. 300 IN NS ns1.r.example."])
            let flip = try await w.poller(store, sinks: [sink]).poll()
            let again = try await w.poller(store, sinks: [sink]).poll()
            return (baseline, flip, again)
        }
        #expect(baseline.counts.alerts == 0)
        #expect(flip.counts.alerts == 1)
        #expect(again.counts.alerts == 0)
        #expect(sink.types == ["activation"], "\(sink.received)")
        #expect(try w.count("alerts") == 1)
        #expect(try w.count("deliveries", where: "delivered IS NOT NULL") == 1)
    }

    @Test(arguments: Backend.allCases)
    func failedLookupsLeaveADomainDueAndWriteNoSpan(backend: Backend) async throws {
        let w = try await BackendWorld(backend, names: ["a.r.example", "b.r.example"])
        let summary = try await w.withStore { store in
            var o = ResolverOptions()
            o.timeout = 0.2
            o.retries = 0
            var p = PollOptions()
            p.asnLookups = false
            let dead = try DNSResolver(endpoints: [try ResolverEndpoint("127.0.0.1:9")], options: o)
            return try await Poller(store: store, engine: dead, classifier: w.bulk.classifier, options: p, logger: Logger(label: "t")).poll()
        }
        #expect(summary.counts.failures == 6 && summary.counts.answers == 0)
        #expect(try w.count("spans") == 0)
        #expect(try w.count("domain_status", where: "last_failure IS NOT NULL AND next_due IS NULL") == 2)
    }
}

/// Several pollers on one PostgreSQL database: leases, fencing, and a poller killed mid-poll.
@Suite(.serialized) struct PostgresPollerTests {
    @Test func twoPollersStartedTogetherPollEachDomainExactlyOnce() async throws {
        let n = 3000
        let w = try await BackendWorld(.postgresql, names: BulkWorld.names(n))
        let sinkA = CaptureSink(key: "shared-sink"), sinkB = CaptureSink(key: "shared-sink")
        async let a = w.withStore { try await w.poller($0, name: "alpha", sinks: [sinkA], batch: 250, due: true).poll() }
        async let b = w.withStore { try await w.poller($0, name: "beta", sinks: [sinkB], batch: 250, due: true).poll() }
        let (ra, rb) = try await (a, b)
        #expect(ra.counts.domains + rb.counts.domains == n, "alpha \(ra.counts.domains) + beta \(rb.counts.domains)")
        #expect(ra.counts.domains > 0 && rb.counts.domains > 0, "the work is split")
        let url = try #require(w.url, "a PostgreSQL world has a URL")
        // Every domain polled once: one status row each, three spans each, no (domain, type) twice.
        #expect(try w.count("domain_status", where: "last_polled IS NOT NULL") == n)
        #expect(try w.count("spans") == 3 * n)
        #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM (SELECT domain_id, rrtype FROM spans GROUP BY 1, 2 HAVING count(*) > 1) d") == 0)
        #expect(try w.count("spans", where: "count <> 1") == 0)
        #expect(try w.count("claims") == 0, "every lease released")
        #expect(try TestPostgres.psql(url, "SELECT name FROM pollers ORDER BY name") == ["alpha", "beta"])
        #expect(try TestPostgres.scalar(url, "SELECT sum(domains) FROM polls") == n)
    }

    @Test func aBatchWhoseLeaseWasTakenOverIsDiscarded() async throws {
        let w = try await BackendWorld(.postgresql, names: BulkWorld.names(20))
        let url = try #require(w.url, "a PostgreSQL world has a URL")
        let pg = try PostgresURL(url)
        try await PostgresStore.withStore(pg, logger: Logger(label: "t"), migrate: true) { store in
            // A lease long enough that a loaded machine cannot outlive it between two statements.
            let claim = try await store.claimTargets(afterID: 0, limit: 20, dueAt: 2_000_000_000, poller: "slow", lease: 4)
            #expect(claim.targets.count == 20)
            // Under a live lease nobody else is handed these domains.
            let meanwhile = try await store.claimTargets(afterID: 0, limit: 20, dueAt: 2_000_000_000, poller: "other", lease: 60)
            #expect(meanwhile.targets.isEmpty)
            // Once it has run out (the server's clock says when), another poller takes them over.
            var takeover = meanwhile
            let deadline = Date().addingTimeInterval(60)
            while takeover.targets.isEmpty && Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                takeover = try await store.claimTargets(afterID: 0, limit: 20, dueAt: 2_000_000_000, poller: "other", lease: 60)
            }
            #expect(takeover.targets.count == 20, "the slow poller's 4 s lease did not run out within 60 s")
            let taken = takeover
            // The first poller's commit comes too late: nothing of it is written.
            let run = try await store.beginPoll(at: 1, resolvers: "r", poller: "slow")
            func polled(_ c: ClaimedTargets) -> WritePlan {
                WritePlan(pollID: run, time: 1, classifierVersion: "v", polled: c.targets.map { PolledDomain(domainID: $0.domainID, nextDue: 1, answerHash: 1) })
            }
            await #expect(throws: LeaseLost.self) { try await store.apply(polled(claim), claim: claim) }
            #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM domain_status") == 0)
            // The new holder's commit goes through and releases the lease.
            try await store.apply(polled(taken), claim: taken)
            #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM domain_status") == 20)
            #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM claims") == 0)
        }
    }

    /// Polls of two pollers finish in another order than they started: /metrics, reading what finished
    /// after the last scrape, counts each once (by `finish_seq`, not by id).
    @Test func metricsCountAPollThatFinishesAfterALaterOneOnce() async throws {
        let w = try await BackendWorld(.postgresql, names: BulkWorld.names(4))
        let url = try #require(w.url, "a PostgreSQL world has a URL")
        try await PostgresStore.withStore(try PostgresURL(url), logger: Logger(label: "t"), migrate: true) { store in
            let first = try await store.beginPoll(at: 100, resolvers: "r", poller: "a")
            let second = try await store.beginPoll(at: 101, resolvers: "r", poller: "b")
            #expect(first < second)
            try await store.finishPoll(second, at: 110)
            let before = try await store.metricsReading(afterPoll: 0, afterAlert: 0)
            #expect(before.polls.map(\.started) == [101])
            try await store.finishPoll(first, at: 120)
            let after = try await store.metricsReading(afterPoll: before.polls.map(\.id).max() ?? 0, afterAlert: 0)
            #expect(after.polls.map(\.started) == [100], "the poll that started first and finished last is counted")
            let again = try await store.metricsReading(afterPoll: after.polls.map(\.id).max() ?? 0, afterAlert: 0)
            #expect(again.polls.isEmpty)
        }
    }

    @Test func processesStartingTogetherMigrateOnce() async throws {
        let url = try PostgresURL(try TestPostgres.freshDatabase())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { try await PostgresStore.withStore(url, logger: Logger(label: "t"), migrate: true) { _ in } }
            }
            try await group.waitForAll()
        }
        #expect(try TestPostgres.psql(url.description, "SELECT id FROM dnswatch_migrations ORDER BY id") == ["0001_schema", "0002_metrics_order", "0003_head_sightings", "0004_claims", "0005_trust"])
    }

    @Test func aPollerKilledMidPollLeavesItsDomainsToAnotherAfterItsLease() async throws {
        let n = 1200
        let w = try await BackendWorld(.postgresql, names: BulkWorld.names(n))
        let url = try #require(w.url, "a PostgreSQL world has a URL")
        // A lease long enough that the survivor's first poll surely runs inside it, on a loaded machine too.
        let common = ["--db", url, "--resolver", w.bulk.unbound.endpoint, "--no-asn", "--lease", "12s"]
        // Paced to about 5 s, so that it is killed with batches in flight and some committed.
        let victim = try Background(["poll", "--due", "--poller", "victim", "--qps", "700"] + common, workdir: w.bulk.workdir)
        #expect(try await eventually(timeout: 30) { try TestPostgres.scalar(url, "SELECT count(*) FROM domain_status") > 0 })
        victim.signal(SIGKILL)
        _ = try await victim.wait(timeout: 10)
        let committed = try TestPostgres.scalar(url, "SELECT count(*) FROM domain_status")
        // Its leased domains: those of its live claims' ranges it did not commit.
        let leased = try TestPostgres.scalar(url, """
            SELECT count(*) FROM domains d WHERE NOT EXISTS (SELECT 1 FROM domain_status s WHERE s.domain_id = d.id)
              AND EXISTS (SELECT 1 FROM claims c WHERE c.poller = 'victim' AND c.until > now() AND d.id BETWEEN c.low AND c.high)
            """)
        #expect(committed < n && leased > 0, "killed mid-poll: \(committed) committed, \(leased) leased")
        // At once, the survivor polls everything but the dead poller's leased domains.
        let first = try await w.bulk.dnswatch(["poll", "--due", "--poller", "survivor"] + common)
        #expect(first.code == 0, "\(first.err)")
        #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM domain_status") == n - leased)
        // After the lease (the server's clock says when), they are due again, and the survivor polls them.
        let left = try TestPostgres.psql(url, "SELECT extract(epoch FROM max(until) - now()) FROM claims").first.flatMap(Double.init) ?? 0
        #expect(left > 0, "the dead poller's leases were still live after the survivor's first poll")
        try await Task.sleep(for: .seconds(max(0, left) + 0.5))
        let second = try await w.bulk.dnswatch(["poll", "--due", "--poller", "survivor"] + common)
        #expect(second.code == 0, "\(second.err)")
        #expect(second.out.contains("domains=\(leased) "), "\(second.out)")
        #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM domain_status WHERE last_polled IS NOT NULL") == n)
        #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM spans") == 3 * n, "no domain lost, none recorded twice")
        #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM (SELECT domain_id, rrtype FROM spans GROUP BY 1, 2 HAVING count(*) > 1) d") == 0)
        let pollers = try await w.bulk.dnswatch(["pollers", "--db", url])
        #expect(pollers.code == 0)
        #expect(pollers.out.contains("victim") && pollers.out.contains("survivor"), "\(pollers.out)")
        #expect(pollers.out.contains("unfinished"), "the killed poller's run never finished: \(pollers.out)")
    }

    @Test func aDaemonPollsPostgreSQLAndStopsCleanlyOnSIGTERM() async throws {
        let w = try await BackendWorld(.postgresql, names: BulkWorld.names(200))
        let url = try #require(w.url, "a PostgreSQL world has a URL")
        let daemon = try Background(["daemon", "--tick", "1s", "--poller", "d1", "--db", url, "--resolver", w.bulk.unbound.endpoint,
                                     "--no-asn"], workdir: w.bulk.workdir)
        #expect(try await eventually(timeout: 30) { daemon.out.contains("domains=200 ") }, "\(daemon.err)")
        daemon.signal(SIGTERM)
        let end = try await daemon.wait(timeout: 30)
        #expect(end?.status == 0, "\(daemon.err)")
        #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM spans") == 600)
        #expect(try TestPostgres.psql(url, "SELECT name FROM pollers") == ["d1"])
        // (daemon --listen on PostgreSQL: PostgresReadTests.serveAnswersTheSameFromBothBackends.)
    }

    /// A database an older dnswatch migrated (0001 only): readers refuse it with one sentence until a
    /// writing command applies the rest, which numbers the polls already finished for /metrics.
    @Test func aDatabaseOfAnOlderDnswatchIsMigratedByAWriterAndRefusedByReaders() async throws {
        let w = try await BackendWorld(.postgresql, names: BulkWorld.names(8))
        let url = try #require(w.url, "a PostgreSQL world has a URL")
        let poll = try await w.bulk.dnswatch(["poll", "--db", url, "--resolver", w.bulk.unbound.endpoint, "--no-asn"])
        #expect(poll.code == 0, "\(poll.err)")
        _ = try TestPostgres.psql(url, """
            DROP INDEX polls_by_finish; ALTER TABLE polls DROP COLUMN finish_seq; DROP SEQUENCE poll_finishes;
            DELETE FROM dnswatch_migrations WHERE id = '0002_metrics_order'
            """)
        for args in [["history", "d0.r.example"], ["alerts"], ["serve", "--listen", "127.0.0.1:0"]] {
            let r = try await w.bulk.dnswatch(args + ["--db", url])
            #expect(r.code == 1 && r.err.contains("needs migrating (0002_metrics_order)") && r.err.split(separator: "\n").count == 1, "\(args): \(r.err)")
        }
        let again = try await w.bulk.dnswatch(["poll", "--all", "--db", url, "--resolver", w.bulk.unbound.endpoint, "--no-asn"])
        #expect(again.code == 0, "\(again.err)")
        #expect(try TestPostgres.psql(url, "SELECT finish_seq FROM polls ORDER BY id") == ["1", "2"])
        let history = try await w.bulk.dnswatch(["history", "d0.r.example", "--db", url])
        #expect(history.code == 0 && history.out.contains("45.0.121.77"), "\(history.err)")
    }

    @Test func migrateCopiesEveryRowAndRefusesANonEmptyDatabase() async throws {
        let w = try await BackendWorld(.sqlite, names: BulkWorld.names(300))
        try w.bulk.unbound.addLocalData(World.parkedRecords("c2.example"))
        try await w.bulk.watch(["c2.example"], list: "ursnif", kind: .c2)
        _ = try await w.poller(w.bulk.store).poll()
        try w.bulk.unbound.removeLocalData(["c2.example"])
        try w.bulk.unbound.addLocalData(["c2.example. 300 IN A 45.0.121.77", "c2.example. 300 IN NS ns1.r.example."])
        _ = try await w.poller(w.bulk.store, sinks: [CaptureSink(key: "k")]).poll()
        let url = try TestPostgres.freshDatabase()
        let r = try await w.bulk.dnswatch(["migrate", "--from", w.bulk.dbPath, "--db", url])
        #expect(r.code == 0, "\(r.err)")
        let audit = try Audit(w.bulk.dbPath)
        for table in SQLiteStore.tablesInCopyOrder {
            let rows = try audit.scalar("SELECT count(*) FROM \(table)")
            #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM \(table)") == rows, "\(table)")
            #expect(r.out.contains("\(table) \(rows)\n"), "\(r.out)")
        }
        #expect(try audit.scalar("SELECT count(*) FROM alerts") == 1)
        // The copied database polls on: ids continue, nothing is duplicated.
        try await PostgresStore.withStore(try PostgresURL(url), logger: Logger(label: "t"), migrate: true) { store in
            let next = try await w.poller(store).poll()
            #expect(next.pollID == 3 && next.counts.changes == 0, "\(next)")
        }
        let again = try await w.bulk.dnswatch(["migrate", "--from", w.bulk.dbPath, "--db", url])
        #expect(again.code == 1 && again.err.contains("not empty"), "\(again.err)")
    }

    @Test func passwordsNeverAppearInMessages() async throws {
        let w = try await BackendWorld(.sqlite, names: ["a.r.example"])
        let port = try LoopbackSocket.freePort()
        let dbs = ["postgresql://user:s3cr3t-pw@127.0.0.1:\(port)/x", "postgresql://user:s3cr3t-pw@127.0.0.1:\(port)/",
                   "postgresql://user@127.0.0.1:\(port)/x?password=s3cr3t-pw", "postgresql://user@127.0.0.1:\(port)/x?pass%77ord=s3cr3t-pw",
                   "postgresql://user@127.0.0.1:\(port)/x?password=s3cr3t-pw&sslmode=bogus"]
        // Each URL's one sentence and exit code: nothing listens on the port (1); no database name or a bad
        // sslmode is a usage error (64).
        let refused = "dnswatch: cannot connect to postgresql://user@127.0.0.1:\(port)/x: 127.0.0.1 port \(port): connection refused\n"
        let outcomes = [(1, refused), (64, "dnswatch: --db: no database name in postgresql://user@127.0.0.1:\(port)/ (postgresql://USER@HOST/DB)\n"),
                        (1, refused), (1, refused),
                        (64, "dnswatch: --db: sslmode=bogus: expected disable, allow, prefer, require, verify-ca or verify-full\n")]
        // On the command line the password is in the process list: said so first (not when it comes from the environment).
        let warning = "dnswatch: warning: the --db URL holds a password, which every local user can read in the process list; give it in "
            + "$PGPASSWORD, a passfile (~/.pgpass, $PGPASSFILE or ?passfile=PATH) or $DNSWATCH_DB instead\n"
        for (db, (code, sentence)) in zip(dbs, outcomes) {
            for args in [["poll", "--db", db, "--resolver", w.bulk.unbound.endpoint], ["pollers", "--db", db], ["history", "a.example", "--db", db]] {
                let r = try await w.bulk.dnswatch(args, timeout: 30)
                #expect(r.code == code && r.out.isEmpty && r.err == warning + sentence, "\(args[0]) \(db): \(r.code) \(r.err)")
                #expect(!r.err.contains("s3cr3t") && !r.out.contains("s3cr3t"), "\(args[0]): \(r.err)")
            }
        }
        let fromEnvironment = try Background(["pollers"], workdir: w.bulk.workdir, environment: ["DNSWATCH_DB": dbs[2]])
        let end = try await fromEnvironment.wait(timeout: 30)
        #expect(end?.status == 1 && !fromEnvironment.err.contains("s3cr3t"), "\(fromEnvironment.err)")
        #expect(fromEnvironment.err.contains("cannot connect to postgresql://user@127.0.0.1:\(port)/x") && !fromEnvironment.err.contains("warning"),
                "\(fromEnvironment.err)")
    }

    /// The server goes away in the middle of a poll: the poll ends soon with one sentence (exit 1), not
    /// after the pool's minute of retries with `ConnectionPoolError(...circuitBreakerTripped)`; the batches
    /// committed before stay.
    @Test func aServerThatDiesMidPollEndsThePollWithASentence() async throws {
        let server = try PostgresServer(database: "lost")
        defer { server.stop() }
        let n = 2000
        let bulk = try BulkWorld()
        try await bulk.watch(BulkWorld.names(n), list: "feed")
        let copy = try await bulk.dnswatch(["migrate", "--from", bulk.dbPath, "--db", server.url])
        #expect(copy.code == 0, "\(copy.err)")
        // Paced to about 12 s, so that the server stops with batches committed and more to come.
        let config = bulk.workdir.appendingPathComponent("small-batches.toml").path
        try "[poll]\nbatch = 100\n".write(toFile: config, atomically: true, encoding: .utf8)
        let poll = try Background(["poll", "--due", "--qps", "500", "--config", config, "--db", server.url, "--resolver", bulk.unbound.endpoint,
                                   "--no-asn"], workdir: bulk.workdir)
        let psql = URL(fileURLWithPath: server.binDirectory + "/psql")
        #expect(try await eventually(timeout: 30) {
            let r = try ChildProcess.run(psql, [server.url, "-X", "-At", "-c", "SELECT count(*) FROM domain_status"])
            return Int(r.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0 > 0
        })
        server.stop()
        // Not a time limit on dnswatch: only how long the test waits before it calls the poll hung.
        let end = try await poll.wait(timeout: 40)
        #expect(end != nil, "the poll hung after the server went away: \(poll.err)")
        #expect(end?.status == 1, "\(poll.err)")
        #expect(poll.err.contains("lost the connection to \(server.url)"), "\(poll.err)")
        #expect(poll.err.contains("the batches committed so far are kept"), "\(poll.err)")
        #expect(!poll.err.contains("ConnectionPoolError") && !poll.err.contains("circuitBreaker") && !poll.err.contains("SingleConnectionFailure"),
                "words, not a dump of NIO's error: \(poll.err)")
        #expect(poll.err.split(separator: "\n").filter { $0.hasPrefix("dnswatch:") }.count == 1, "one sentence: \(poll.err)")
    }

    /// The roles and grants of docs/operations.md, run as written (the names made unique): the poller role
    /// migrates and polls, the reader role reads, also a table a later migration creates, and writes nothing.
    @Test func theDocumentedRolesAndGrantsWork() async throws {
        let server = try TestPostgres.server()
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/operations.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(text.range(of: "As a superuser:\n\n```sql\n"), "the SQL block is gone from operations.md")
        let end = try #require(text[start.upperBound...].range(of: "```"))
        let tag = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(8).lowercased()
        let poller = "p_\(tag)", reader = "r_\(tag)"
        let bulk = try BulkWorld()
        let sql = String(text[start.upperBound..<end.lowerBound])
            .replacingOccurrences(of: "dnswatch_ro", with: reader).replacingOccurrences(of: "dnswatch", with: poller)
        // As psql runs a file: one statement at a time (CREATE DATABASE outside a transaction), `\c` included.
        let file = bulk.workdir.appendingPathComponent("roles.sql")
        try sql.write(to: file, atomically: true, encoding: .utf8)
        let run = try await ChildProcess.run(URL(fileURLWithPath: server.binDirectory + "/psql"),
                                       [server.url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file.path])
        try #require(run.code == 0, "\(sql)\n\(run.err)")
        let superuserURL = server.url(database: poller)
        let pollerURL = superuserURL.replacingOccurrences(of: "//\(server.user)@", with: "//\(poller)@")
        let readerURL = superuserURL.replacingOccurrences(of: "//\(server.user)@", with: "//\(reader)@")
        for args in [["watch", "add", "d1.r.example", "--list", "l"], ["poll", "--resolver", bulk.unbound.endpoint, "--no-asn"]] {
            let r = try await bulk.dnswatch(args + ["--db", pollerURL])
            #expect(r.code == 0, "\(args[0]) as the poller role: \(r.err)")
        }
        let history = try await bulk.dnswatch(["history", "d1.r.example", "--db", readerURL])
        #expect(history.code == 0 && history.out.contains(BulkWorld.liveA), "\(history.err)")
        // A table a later migration creates (as the poller role) is readable by the reader role.
        _ = try TestPostgres.psql(pollerURL, "CREATE TABLE later_migration (x int); INSERT INTO later_migration VALUES (7)")
        #expect(try TestPostgres.psql(readerURL, "SELECT x FROM later_migration") == ["7"])
        let write = try await bulk.dnswatch(["watch", "add", "d2.r.example", "--list", "l", "--db", readerURL])
        #expect(write.code == 1 && write.err.contains("permission denied"), "the reader role writes nothing: \(write.err)")
    }

    /// `sslrootcert=PATH` with `verify-ca`/`verify-full`, against a server whose certificate a throwaway CA
    /// signed for the name `localhost` only: verify-ca checks the chain (so 127.0.0.1 passes), verify-full
    /// the name too; without sslrootcert the system's roots do not know the CA.
    @Test func sslrootcertChecksTheServerAgainstItsCA() async throws {
        let server = try PostgresServer(database: "tls")
        defer { server.stop() }
        let dir = server.directory
        func openssl(_ args: [String]) async throws {
            let r = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/openssl"), args, in: dir)
            try #require(r.code == 0, "openssl \(args.joined(separator: " ")): \(r.err)")
        }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try await openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=dnswatch test CA",
                           "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign"])
        try await openssl(["req"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost\n".write(to: dir.appendingPathComponent("ext.cnf"), atomically: true, encoding: .utf8)
        try await openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                           "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"])
        // The server's user (the owner of its directory) must own its key, mode 0600.
        var owner = stat()
        try #require(stat(dir.path, &owner) == 0)
        for file in ["server.key", "server.pem"] {
            let path = dir.appendingPathComponent(file).path
            try #require(chown(path, owner.st_uid, owner.st_gid) == 0 && chmod(path, 0o600) == 0)
        }
        for setting in ["ssl_cert_file = '\(dir.path)/server.pem'", "ssl_key_file = '\(dir.path)/server.key'", "ssl = on"] {
            _ = try TestPostgres.psql(server.url, "ALTER SYSTEM SET \(setting)")
        }
        _ = try TestPostgres.psql(server.url, "SELECT pg_reload_conf()")
        #expect(try await eventually(timeout: 20) { try TestPostgres.psql(server.url, "SHOW ssl") == ["on"] })
        let ca = dir.appendingPathComponent("ca.pem").path
        let bulk = try BulkWorld()
        func add(_ url: String) async throws -> CLI.Result {
            try await bulk.dnswatch(["watch", "add", "a.example", "--list", "l", "--db", url], timeout: 60)
        }
        let byName = "postgresql://dnswatch@localhost:\(server.port)/tls"
        let byAddress = "postgresql://dnswatch@127.0.0.1:\(server.port)/tls"
        let full = try await add("\(byName)?sslmode=verify-full&sslrootcert=\(ca)")
        #expect(full.code == 0, "verify-full, the name in the certificate: \(full.err)")
        let chain = try await add("\(byAddress)?sslmode=verify-ca&sslrootcert=\(ca)")
        #expect(chain.code == 0, "verify-ca checks the chain, not the name: \(chain.err)")
        let wrongName = try await add("\(byAddress)?sslmode=verify-full&sslrootcert=\(ca)")
        #expect(wrongName.code == 1 && wrongName.err.contains("cannot connect"), "verify-full, 127.0.0.1 is not in the certificate: \(wrongName.err)")
        let systemRoots = try await add("\(byName)?sslmode=verify-full")
        #expect(systemRoots.code == 1 && systemRoots.err.contains("cannot connect"), "the system's roots do not know the CA: \(systemRoots.err)")
    }

    /// A port outside 1 to 65535 is a usage error, not a port wrapped to 16 bits.
    @Test func aPortOutsideTheRangeIsAUsageError() async throws {
        let w = try await BackendWorld(.sqlite, names: ["a.r.example"])
        let r = try await w.bulk.dnswatch(["pollers", "--db", "postgresql://u:pw@127.0.0.1:99999/x"], timeout: 30)
        #expect(r.code == 64 && r.err.contains("port 99999") && r.err.contains("outside 1 to 65535") && !r.err.contains("pw@"), "\(r.err)")
    }

    /// An IPv6 host in brackets connects (the test server listens on ::1 too).
    @Test func anIPv6HostConnects() async throws {
        let server = try TestPostgres.server()
        let url = try TestPostgres.freshDatabase().replacingOccurrences(of: "@\(server.host):", with: "@[::1]:")
        try #require(server.listensOnIPv6, "the test server could not listen on ::1")
        let w = try await BackendWorld(.sqlite, names: [])
        try w.bulk.unbound.addLocalData(["v6.example. 300 IN A 192.0.2.6"])
        let add = try await w.bulk.dnswatch(["watch", "add", "v6.example", "--list", "l", "--db", url])
        #expect(add.code == 0, "\(add.err)")
        let poll = try await w.bulk.dnswatch(["poll", "--db", url, "--resolver", w.bulk.unbound.endpoint, "--no-asn"])
        #expect(poll.code == 0 && poll.out.contains("domains=1 "), "\(poll.err)")
        let history = try await w.bulk.dnswatch(["history", "v6.example", "--db", url])
        #expect(history.code == 0 && history.out.contains("192.0.2.6"), "\(history.err)")
        #expect(try await w.bulk.dnswatch(["pollers", "--db", url]).code == 0, "pollers reads it too")
    }
}

@Suite struct PostgresURLTests {
    @Test func parsesAndRedacts() throws {
        let u = try PostgresURL("postgresql://alice:p%40ss@db.example:6543/history?sslmode=require", environment: [:])
        #expect(u.user == "alice" && u.password == "p@ss" && u.host == "db.example" && u.port == 6543 && u.database == "history")
        #expect(u.sslMode == .require)
        #expect(u.description == "postgresql://alice@db.example:6543/history?sslmode=require")
        #expect(PostgresURL.redact("postgresql://alice:pw@h/db") == "postgresql://alice@h/db")
        #expect(try PostgresURL("postgres://bob@h/db", environment: ["PGPASSWORD": "envpw"]).password == "envpw")
        #expect(throws: PostgresURL.Invalid.self) { try PostgresURL("postgresql://a:pw@h/db?sslmode=bogus", environment: [:]) }
        #expect(throws: PostgresURL.Invalid.self) { try PostgresURL("postgresql://a:pw@h", environment: [:]) }
        let unknown = #expect(throws: PostgresURL.Invalid.self) { try PostgresURL("postgresql://a:pw@h/db?user=x", environment: [:]) }
        #expect(unknown?.description == "unknown parameter user in postgresql://a@h/db?user=*** (dnswatch takes sslmode, sslrootcert, password and passfile)")
    }

    /// Every form a password can take in a URL is hidden by the one redaction, whatever message shows it.
    @Test func passwordsAreHiddenInEveryForm() throws {
        let forms = [
            "postgresql://u:SECRET@h/db", "postgresql://u:SE%43RET@h/db", "postgresql://u:SE/CRET@h/db",
            "postgresql://u@h/db?password=SECRET", "postgresql://u@h/db?sslmode=require&password=SECRET",
            "postgresql://u@h/db?pass%77ord=SECRET", "postgresql://u@h/db?%70assword=SE%43RET", "postgresql://u@h/db?PASSWORD=SECRET",
            "postgresql://u:SECRET/db", "postgresql://u@h/db#SECRET", "postgresql://u:SECRET@h:99999/db",
            "postgresql://u@h:99999/db?password=SECRET", "postgresql://u:SECRET@h/db?password=SECRET",
            "postgresql://u@h/db?password=SECRET&bogus=1", "postgresql://u:SECRET@h/db?sslmode=bogus",
        ]
        // The forms that parse; every other one is refused (a `/` in a password must be percent-encoded).
        let accepted: Set = [
            "postgresql://u:SECRET@h/db", "postgresql://u:SE%43RET@h/db", "postgresql://u@h/db?password=SECRET",
            "postgresql://u@h/db?sslmode=require&password=SECRET", "postgresql://u@h/db?pass%77ord=SECRET",
            "postgresql://u@h/db?%70assword=SE%43RET", "postgresql://u@h/db#SECRET",
        ]
        for text in forms {
            let shown = PostgresURL.redact(text)
            #expect(!shown.contains("SECRET") && !shown.contains("SE%43RET"), "\(text) → \(shown)")
            do {
                let url = try PostgresURL(text, environment: [:])
                #expect(accepted.contains(text), "\(text) was accepted")
                #expect(!url.description.contains("SECRET"), "\(url.description)")
            } catch {
                #expect(!accepted.contains(text), "\(text): \(error.description)")
                #expect(!error.description.contains("SECRET") && !error.description.contains("SE%43RET"), "\(error.description)")
            }
        }
        #expect(PostgresURL.redact("postgresql://u@h/db?password=SECRET&sslmode=require") == "postgresql://u@h/db?password=***&sslmode=require")
        #expect(PostgresURL.holdsPassword("postgresql://u@h/db?password=x") && PostgresURL.holdsPassword("postgresql://u:x@h/db"))
        #expect(!PostgresURL.holdsPassword("postgresql://u@h/db?sslmode=require"))
    }

    /// libpq's `password=` parameter is a password like the user info's; both at once are refused.
    @Test func aPasswordParameterIsAPassword() throws {
        let u = try PostgresURL("postgresql://u@h/db?password=p%40ss", environment: ["PGPASSWORD": "env"])
        #expect(u.password == "p@ss" && u.description == "postgresql://u@h:5432/db")
        let both = #expect(throws: PostgresURL.Invalid.self) { try PostgresURL("postgresql://u:a@h/db?password=b", environment: [:]) }
        #expect(both?.description.contains("two passwords") == true)
    }

    @Test func portsOutsideTheRangeAreRefused() throws {
        for text in ["postgresql://u@h:99999/db", "postgresql://u@h:0/db", "postgresql://u@h:65536/db"] {
            let e = #expect(throws: PostgresURL.Invalid.self) { try PostgresURL(text, environment: [:]) }
            #expect(e?.description.contains("outside 1 to 65535") == true, "\(text): \(e?.description ?? "")")
        }
        #expect(throws: PostgresURL.Invalid.self) { try PostgresURL("postgresql://u@h/db", environment: ["PGPORT": "70000"]) }
        #expect(throws: PostgresURL.Invalid.self) { try PostgresURL("postgresql://u@h/db", environment: ["PGPORT": "x"]) }
        #expect(try PostgresURL("postgresql://u@h:65535/db", environment: [:]).port == 65535)
    }

    @Test func anIPv6HostLosesItsBracketsAndGetsThemBackWhenShown() throws {
        let u = try PostgresURL("postgresql://u@[::1]:5433/db", environment: [:])
        #expect(u.host == "::1" && u.port == 5433)
        #expect(u.description == "postgresql://u@[::1]:5433/db")
    }

    @Test func sslrootcertGoesWithVerifyModes() throws {
        let ca = try PostgresURL("postgresql://u@h/db?sslmode=verify-ca&sslrootcert=/etc/ssl/pg-ca.pem", environment: [:])
        #expect(ca.sslMode == .verifyCA && ca.sslRootCert == "/etc/ssl/pg-ca.pem")
        #expect(ca.description == "postgresql://u@h:5432/db?sslmode=verify-ca&sslrootcert=/etc/ssl/pg-ca.pem")
        #expect(try PostgresURL("postgresql://u@h/db?sslmode=verify-full&sslrootcert=system", environment: [:]).sslRootCert == nil)
        let e = #expect(throws: PostgresURL.Invalid.self) { try PostgresURL("postgresql://u@h/db?sslrootcert=/x.pem", environment: [:]) }
        #expect(e?.description.contains("verify-ca") == true)
    }

    @Test func readsThePassfileOnlyWhenPrivate() throws {
        let file = try TemporaryDirectory("pgpass").write("pgpass", "# comment\nother:5432:*:bob:no\ndb.example:5432:history:bob:pa\\:ss\n*:*:*:*:fallback\n")
        chmod(file, 0o600)
        let env = ["PGPASSFILE": file]
        #expect(try PostgresURL("postgresql://bob@db.example/history", environment: env).password == "pa:ss")
        #expect(try PostgresURL("postgresql://carol@elsewhere/x", environment: env).password == "fallback")
        #expect(try PostgresURL("postgresql://bob@db.example/history?passfile=\(file)", environment: [:]).password == "pa:ss", "libpq's passfile=")
        chmod(file, 0o644)
        #expect(try PostgresURL("postgresql://bob@db.example/history", environment: env).password == nil, "a passfile others can read is ignored")
    }
}
