import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
import PostgresStore
import Testing
import TestSupport

/// The `watch` commands through the real CLI on both backends: every step's exit code, stdout and stderr
/// are the same expected text on SQLite and on PostgreSQL (times masked: they are the clock's), and so are
/// the lists, domains and memberships they leave in the database.
@Suite(.serialized) struct PostgresWatchTests {
    /// One command's result, its times masked.
    struct Step: Equatable, CustomStringConvertible {
        var code: Int32
        var out: String
        var err: String
        var description: String { "exit \(code)\n--- stdout\n\(out)--- stderr\n\(err)" }
    }

    /// Runs `dnswatch watch ARGS --db DB`.
    static func watch(_ w: BackendWorld, _ args: [String]) async throws -> Step {
        let r = try await w.bulk.dnswatch(["watch"] + args + ["--db", w.db])
        return Step(code: r.code, out: masked(r.out), err: masked(r.err))
    }

    /// ISO times (table) and epoch seconds (JSON) of the clock, which differ between runs.
    static func masked(_ text: String) -> String {
        text.replacingOccurrences(of: #"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"#, with: "<time--------------->", options: .regularExpression)
            .replacingOccurrences(of: #""added":\d+"#, with: #""added":<t>"#, options: .regularExpression)
    }

    static func ok(_ out: String) -> Step { Step(code: 0, out: out, err: "") }

    /// Rows of a query on this backend's database, read outside dnswatch's code, columns `|`-separated
    /// (NULL as empty), as psql -At prints them.
    static func rows(_ w: BackendWorld, _ sql: String) throws -> [String] {
        if let url = w.url { return try TestPostgres.psql(url, sql) }
        let queue = try DatabaseQueue(path: w.bulk.dbPath)
        return try queue.read { db in
            try Row.fetchAll(db, sql: sql).map { row in
                row.databaseValues.map { v in
                    switch v.storage {
                    case .null: ""
                    case .int64(let n): String(n)
                    case .double(let d): String(d)
                    case .string(let s): s
                    case .blob(let b): b.map { String(format: "%02x", $0) }.joined()
                    }
                }.joined(separator: "|")
            }
        }
    }

    /// Runs one statement on this backend's database outside dnswatch's code.
    static func execute(_ w: BackendWorld, _ sql: String) throws {
        if let url = w.url {
            _ = try TestPostgres.psql(url, sql)
            return
        }
        try DatabaseQueue(path: w.bulk.dbPath).write { try $0.execute(sql: sql) }
    }

    /// What the watch commands stored: lists, domains (ids in order, reversed names) and memberships.
    static func state(_ w: BackendWorld) throws -> [String] {
        try rows(w, "SELECT 'list', name, kind, interval, description FROM lists ORDER BY name")
            + rows(w, "SELECT 'domain', id, name, rname FROM domains ORDER BY id")
            + rows(w, """
                SELECT 'member', l.name, d.name, m.note, CASE WHEN m.retired IS NULL THEN 'active' ELSE 'retired' END,
                       CASE WHEN m.added = 1 THEN 'old' ELSE 'new' END
                FROM memberships m JOIN lists l ON l.id = m.list_id JOIN domains d ON d.id = m.domain_id ORDER BY l.name, d.name
                """)
    }

    @Test(arguments: Backend.allCases)
    func addRemoveAndListPrintTheSame(backend: Backend) async throws {
        let w = try await BackendWorld(backend, names: [])
        #expect(try await Self.watch(w, ["add", "b.example", "a.example", "A.example", "--list", "alpha"]) == Self.ok("added 2, already present 0\n"))
        #expect(try await Self.watch(w, ["add", "b.example", "c.example", "--list", "alpha", "--kind", "owned"])
                == Self.ok("added 1, already present 1\n"))
        #expect(try await Self.watch(w, ["add", "a.example", "--list", "beta"]) == Self.ok("added 1, already present 0\n"))
        // Memberships start as `old` (added = 1): a reactivation makes them `new`, an already present one stays.
        try Self.execute(w, "UPDATE memberships SET added = 1")

        let t = "<time--------------->"
        #expect(try await Self.watch(w, ["list"]) == Self.ok("""
            DOMAIN     LIST   KIND   INTERVAL  ADDED                 STATE     LAST POLLED  NEXT DUE  LAST ALERT  NOTE
            a.example  alpha  owned  1h        \(t)  unpolled  -            -         -           
            b.example  alpha  owned  1h        \(t)  unpolled  -            -         -           
            c.example  alpha  owned  1h        \(t)  unpolled  -            -         -           
            a.example  beta   c2     1h        \(t)  unpolled  -            -         -           

            """))
        #expect(try await Self.watch(w, ["list", "--list", "beta", "--json"]) == Self.ok("""
            {"added":<t>,"class":null,"domain":"a.example","interval":3600,"kind":"c2","last_alert":null,"last_polled":null,"list":"beta","next_due":null,"provider":null,"state":"unpolled"}

            """))
        #expect(try await Self.watch(w, ["list", "--list", "nosuch"]) == Step(code: 0, out: "", err: "dnswatch: no watched domains on nosuch\n"))

        // From every list: both memberships of a.example end; zz.example was never watched.
        #expect(try await Self.watch(w, ["remove", "a.example", "zz.example", "a.example"])
                == Step(code: 0, out: "removed 2\n", err: "dnswatch: 1 of the names were not watched\n"))
        #expect(try await Self.watch(w, ["remove", "b.example", "c.example", "--list", "beta"])
                == Step(code: 0, out: "removed 0\n", err: "dnswatch: 2 of the names were not watched on beta\n"))
        #expect(try await Self.watch(w, ["remove", "b.example", "--list", "nosuch"])
                == Step(code: 64, out: "", err: "dnswatch: no list named 'nosuch'\n"))
        #expect(try await Self.watch(w, ["remove", "b.example", "--list", "alpha"]) == Self.ok("removed 1\n"))
        // Reactivated (a.example), already present (c.example): a retired membership counts as added.
        #expect(try await Self.watch(w, ["add", "a.example", "c.example", "--list", "alpha"]) == Self.ok("added 1, already present 1\n"))
        #expect(try await Self.watch(w, ["add", "bad..example", "--list", "alpha"]).code == 64)
        let badList = try await Self.watch(w, ["add", "d.example", "--list", "   "])
        #expect(badList.code == 64 && badList.out.isEmpty && badList.err.hasPrefix("dnswatch: --list: "), "\(badList)")

        #expect(try await Self.watch(w, ["list", "--json"]) == Self.ok("""
            {"added":<t>,"class":null,"domain":"a.example","interval":3600,"kind":"owned","last_alert":null,"last_polled":null,"list":"alpha","next_due":null,"provider":null,"state":"unpolled"}
            {"added":<t>,"class":null,"domain":"c.example","interval":3600,"kind":"owned","last_alert":null,"last_polled":null,"list":"alpha","next_due":null,"provider":null,"state":"unpolled"}

            """))
        let state = try Self.state(w)
        #expect(state == [
            "list|alpha|owned||", "list|beta|c2||",
            "domain|1|b.example|example.b", "domain|2|a.example|example.a", "domain|3|c.example|example.c",
            "member|alpha|a.example||active|new", "member|alpha|b.example||retired|old", "member|alpha|c.example||active|old",
            "member|beta|a.example||retired|old",
        ], "\(state)")
        for name in ["a.example", "b.example", "c.example"] {
            #expect(try Self.rows(w, "SELECT rname FROM domains WHERE name = '\(name)'") == [ValueKey.reversedName(name)])
        }
    }

    @Test(arguments: Backend.allCases)
    func importAndSyncPrintTheSame(backend: Backend) async throws {
        let w = try await BackendWorld(backend, names: [])
        let feed = try w.bulk.watchlistFile("c2-feed.txt", header: ["# kind: expired", "# interval: 2h", "# description: the feed"], names: [
            "one.example  # first seen in May", "http://two.example/gate.php", "192.0.2.1", "198.51.100.0/24", "three.example",
            "one.example", "four.example:8080", "five.example",
        ])
        let imported = "added 5, already present 0, skipped 2 (cidr=1 ipv4=1), duplicates 1\n"
        #expect(try await Self.watch(w, ["import", feed]) == Self.ok(imported))
        #expect(try await Self.watch(w, ["import", feed]) == Self.ok("added 0, already present 5, skipped 2 (cidr=1 ipv4=1), duplicates 1\n"))
        #expect(try await Self.watch(w, ["add", "six.example", "one.example", "--list", "manual"]) == Self.ok("added 2, already present 0\n"))
        let other = try w.bulk.watchlistFile("other.txt", names: ["seven.example", "bad..example"])
        let refused = try await Self.watch(w, ["import", other])
        #expect(refused.code == 65 && refused.out.isEmpty && refused.err.contains("nothing imported"), "\(refused)")
        #expect(try await Self.watch(w, ["import", other, "--list", "manual", "--kind", "owned", "--skip-invalid"])
                == Step(code: 0, out: "added 1, already present 0, skipped 0, invalid skipped 1\n",
                        err: refused.err.split(separator: "\n").first.map { $0 + "\n" } ?? "no warning"))
        try Self.execute(w, "UPDATE memberships SET added = 1")

        let t = "<time--------------->"
        #expect(try await Self.watch(w, ["list"]) == Self.ok("""
            DOMAIN         LIST     KIND     INTERVAL  ADDED                 STATE     LAST POLLED  NEXT DUE  LAST ALERT  NOTE
            five.example   c2-feed  expired  2h        \(t)  unpolled  -            -         -           
            four.example   c2-feed  expired  2h        \(t)  unpolled  -            -         -           
            one.example    c2-feed  expired  2h        \(t)  unpolled  -            -         -           first seen in May
            three.example  c2-feed  expired  2h        \(t)  unpolled  -            -         -           
            two.example    c2-feed  expired  2h        \(t)  unpolled  -            -         -           
            one.example    manual   owned    1h        \(t)  unpolled  -            -         -           
            seven.example  manual   owned    1h        \(t)  unpolled  -            -         -           
            six.example    manual   owned    1h        \(t)  unpolled  -            -         -           

            """))
        #expect(try await Self.watch(w, ["list", "--list", "c2-feed", "--json"]) == Self.ok("""
            {"added":<t>,"class":null,"domain":"five.example","interval":7200,"kind":"expired","last_alert":null,"last_polled":null,"list":"c2-feed","next_due":null,"provider":null,"state":"unpolled"}
            {"added":<t>,"class":null,"domain":"four.example","interval":7200,"kind":"expired","last_alert":null,"last_polled":null,"list":"c2-feed","next_due":null,"provider":null,"state":"unpolled"}
            {"added":<t>,"class":null,"domain":"one.example","interval":7200,"kind":"expired","last_alert":null,"last_polled":null,"list":"c2-feed","next_due":null,"provider":null,"state":"unpolled"}
            {"added":<t>,"class":null,"domain":"three.example","interval":7200,"kind":"expired","last_alert":null,"last_polled":null,"list":"c2-feed","next_due":null,"provider":null,"state":"unpolled"}
            {"added":<t>,"class":null,"domain":"two.example","interval":7200,"kind":"expired","last_alert":null,"last_polled":null,"list":"c2-feed","next_due":null,"provider":null,"state":"unpolled"}

            """))

        // Sync: c2-feed loses two and gains one, its header now c2 without interval; `manual` has no file
        // (retired as a whole); `extra` is new.
        let dir = w.bulk.workdir.appendingPathComponent("lists").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try "one.example # renamed note\nthree.example\nfive.example\neight.example\n".write(toFile: dir + "/c2-feed.txt", atomically: true, encoding: .utf8)
        try "# kind: owned\nsix.example\n10.0.0.1\n".write(toFile: dir + "/extra.txt", atomically: true, encoding: .utf8)
        try "not a list\n".write(toFile: dir + "/README", atomically: true, encoding: .utf8)
        #expect(try await Self.watch(w, ["sync", dir]) == Self.ok("lists 2, added 2, already present 3, retired 5, skipped 1\n"))
        #expect(try await Self.watch(w, ["sync", dir]) == Self.ok("lists 2, added 0, already present 5, retired 0, skipped 1\n"))
        #expect(try await Self.watch(w, ["list"]) == Self.ok("""
            DOMAIN         LIST     KIND   INTERVAL  ADDED                 STATE     LAST POLLED  NEXT DUE  LAST ALERT  NOTE
            eight.example  c2-feed  c2     1h        \(t)  unpolled  -            -         -           
            five.example   c2-feed  c2     1h        \(t)  unpolled  -            -         -           
            one.example    c2-feed  c2     1h        \(t)  unpolled  -            -         -           first seen in May
            three.example  c2-feed  c2     1h        \(t)  unpolled  -            -         -           
            six.example    extra    owned  1h        \(t)  unpolled  -            -         -           

            """))
        // The retired come back: reactivated (added anew, the new note kept where a line gives one).
        try "# kind: expired\n# interval: 30m\none.example\ntwo.example # back again\nfour.example\n".write(
            toFile: dir + "/c2-feed.txt", atomically: true, encoding: .utf8)
        #expect(try await Self.watch(w, ["sync", dir]) == Self.ok("lists 2, added 2, already present 2, retired 3, skipped 1\n"))
        let emptyDir = w.bulk.workdir.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: emptyDir, withIntermediateDirectories: true)
        let empty = try await Self.watch(w, ["sync", emptyDir])
        #expect(empty.code == 64 && empty.err.contains("--allow-empty"), "\(empty)")
        let state = try Self.state(w)
        #expect(state == [
            "list|c2-feed|expired|1800|", "list|extra|owned||", "list|manual|owned||",
            "domain|1|one.example|example.one", "domain|2|two.example|example.two", "domain|3|three.example|example.three",
            "domain|4|four.example|example.four", "domain|5|five.example|example.five", "domain|6|six.example|example.six",
            "domain|7|seven.example|example.seven", "domain|8|eight.example|example.eight",
            "member|c2-feed|eight.example||retired|new", "member|c2-feed|five.example||retired|old",
            "member|c2-feed|four.example||active|new", "member|c2-feed|one.example|first seen in May|active|old",
            "member|c2-feed|three.example||retired|old", "member|c2-feed|two.example|back again|active|new",
            "member|extra|six.example||active|new",
            "member|manual|one.example||retired|old", "member|manual|seven.example||retired|old", "member|manual|six.example||retired|old",
        ], "\(state)")
        // Everything retired: `watch list` has nothing to show.
        #expect(try await Self.watch(w, ["sync", emptyDir, "--allow-empty"]) == Self.ok("lists 0, added 0, already present 0, retired 4, skipped 0\n"))
        #expect(try await Self.watch(w, ["list"]) == Step(code: 0, out: "", err: "dnswatch: no watched domains\n"))
    }

    @Test(arguments: Backend.allCases)
    func aPollPollsTheImportedDomains(backend: Backend) async throws {
        let w = try await BackendWorld(backend, names: [])
        let names = BulkWorld.names(40)
        let file = try w.bulk.watchlistFile("feed.txt", header: ["# interval: 1h"], names: names)
        #expect(try await Self.watch(w, ["import", file]) == Self.ok("added 40, already present 0, skipped 0\n"))
        #expect(try await Self.watch(w, ["remove", names[0], names[1]]) == Self.ok("removed 2\n"))
        let poll = try await w.bulk.dnswatch(["poll", "--db", w.db, "--resolver", w.bulk.unbound.endpoint, "--no-asn"])
        #expect(poll.code == 0, "\(poll.err)")
        #expect(poll.out.hasPrefix("domains=38 "), "\(poll.out)")
        let due = try await w.bulk.dnswatch(["poll", "--due", "--db", w.db, "--resolver", w.bulk.unbound.endpoint, "--no-asn"])
        #expect(due.code == 0 && due.out.hasPrefix("domains=0 "), "\(due.out) \(due.err)")
        #expect(try Self.rows(w, "SELECT count(*) FROM domain_status WHERE last_polled IS NOT NULL") == ["38"])
    }

    /// A large import is a few multi-row statements on PostgreSQL, not several per name (its time is
    /// `scripts/bench --limits`'s target, not this test's: here, every name imported, counted once).
    @Test(arguments: Backend.allCases)
    func aHundredThousandNameImport(backend: Backend) async throws {
        let w = try await BackendWorld(backend, names: [])
        let names = BulkWorld.names(100_000, prefix: "big")
        let file = try w.bulk.watchlistFile("big.txt", header: ["# kind: c2"], names: names)
        let started = Date()
        #expect(try await Self.watch(w, ["import", file]) == Self.ok("added 100000, already present 0, skipped 0\n"))
        let first = Date().timeIntervalSince(started)
        #expect(try await Self.watch(w, ["import", file]) == Self.ok("added 0, already present 100000, skipped 0\n"))
        let dir = w.bulk.workdir.appendingPathComponent("sync").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try (names.dropFirst(1000).joined(separator: "\n") + "\n").write(toFile: dir + "/big.txt", atomically: true, encoding: .utf8)
        #expect(try await Self.watch(w, ["sync", dir]) == Self.ok("lists 1, added 0, already present 99000, retired 1000, skipped 0\n"))
        let total = Date().timeIntervalSince(started)
        print("\(backend): 100,000-name import \(String(format: "%.1f", first)) s; import, re-import and sync \(String(format: "%.1f", total)) s")
        #expect(try Self.rows(w, "SELECT count(*) FROM memberships WHERE retired IS NULL") == ["99000"])
        #expect(try Self.rows(w, "SELECT max(id) FROM domains") == ["100000"])
    }

    /// `watch list` only reads: on a database no writing command migrated yet it shows nothing, as on a
    /// SQLite file not created yet, and creates no table.
    @Test func listingADatabaseNotMigratedYetShowsNothing() async throws {
        let url = try TestPostgres.freshDatabase()
        let w = try await BackendWorld(.sqlite, names: [])
        let r = try await w.bulk.dnswatch(["watch", "list", "--db", url])
        let shown = try PostgresURL(url).description
        #expect(r.code == 0 && r.out.isEmpty, "\(r.out) \(r.err)")
        #expect(r.err == """
            dnswatch: no dnswatch tables in \(shown) yet (a writing command such as 'watch import' or 'poll' creates them)
            dnswatch: no watched domains

            """, "\(r.err)")
        #expect(try TestPostgres.scalar(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == 0)
    }

    /// Two imports of one file at once: the watchlist lock makes one add everything and the other find it
    /// all present, as SQLite's single writer does.
    @Test func concurrentImportsCountEachDomainOnce() async throws {
        let w = try await BackendWorld(.postgresql, names: [])
        let file = try w.bulk.watchlistFile("feed.txt", names: BulkWorld.names(5000))
        async let a = w.bulk.dnswatch(["watch", "import", file, "--db", w.db])
        async let b = w.bulk.dnswatch(["watch", "import", file, "--db", w.db])
        let outs = try await [a, b].map { r in
            #expect(r.code == 0, "\(r.err)")
            return r.out
        }.sorted()
        #expect(outs == ["added 0, already present 5000, skipped 0\n", "added 5000, already present 0, skipped 0\n"], "\(outs)")
        #expect(try Self.rows(w, "SELECT count(*), max(id) FROM domains") == ["5000|5000"])
    }

    /// `watch list` orders by bytes on PostgreSQL whatever the database's collation, as SQLite does: here an
    /// ICU (en-US) database, which would put `alpha` before `Zeta` and `_x` before `1`.
    @Test func listIsOrderedByBytesWhateverTheCollation() async throws {
        let name = "icu_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        _ = try TestPostgres.psql(try TestPostgres.freshDatabase(), """
            CREATE DATABASE \(name) TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'
            """)
        let url = try TestPostgres.server().url(database: name)
        let sqlite = try await BackendWorld(.sqlite, names: [])
        var outputs: [String] = []
        for db in [sqlite.db, url] {
            for (list, names) in [("alpha", ["b.example", "_x.example", "1.example"]), ("Zeta", ["a.example"])] {
                let r = try await sqlite.bulk.dnswatch(["watch", "add"] + names + ["--list", list, "--db", db])
                #expect(r.code == 0, "\(r.err)")
            }
            let r = try await sqlite.bulk.dnswatch(["watch", "list", "--json", "--db", db])
            #expect(r.code == 0, "\(r.err)")
            outputs.append(Self.masked(r.out))
        }
        #expect(outputs[0].split(separator: "\n").map { $0.split(separator: ",").first { $0.hasPrefix(#""domain""#) } } == [
            #""domain":"a.example""#, #""domain":"1.example""#, #""domain":"_x.example""#, #""domain":"b.example""#,
        ], "\(outputs[0])")
        #expect(outputs[1] == outputs[0])
    }
}
