import Foundation
import GRDB
import SQLiteStore
import Store
import Testing
import TestSupport

/// Hostile or careless input to the CLI, each case as a user would reproduce it (issue 7's table).
@Suite(.serialized) struct HardeningTests {
    static let world = ["a.example. 300 IN A 192.0.2.10", "a.example. 300 IN NS ns1.a.example."]

    /// Row 1: a stored interval too large for due-time arithmetic (as an older dnswatch could store)
    /// never stops polls.
    @Test func aHugeStoredIntervalNeverStopsPolls() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: Self.world)
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l"]).code == 0)
        let db = try DatabaseQueue(path: cli.db)
        try await db.write { try $0.execute(sql: "UPDATE lists SET interval = 9223372036854775807") }
        let args = ["--resolver", unbound.endpoint, "--no-asn", "--no-stdout-alerts"]
        for extra in [["--all"], ["--due"], ["--due"]] {
            let r = try cli.run(["poll"] + extra + args)
            #expect(r.code == 0, "\(extra): \(r.err)")
        }
        let listed = try cli.run(["watch", "list", "--json"]).lines.map(CLI.json)
        #expect(listed.first?["interval"] as? Int == 365 * 86400, "read as the largest interval")
    }

    /// Row 3: numbers out of range are usage errors (64) with a sentence, never a trap.
    @Test func outOfRangeNumbersAreUsageErrors() async throws {
        let cli = try CLI()
        // The first line of each refusal: the flag and why (a number with its range; `inf`, `nan` and `1e300`
        // are not a timeout's text at all).
        for (args, refusal) in [(["--timeout", "inf"], "Error: --timeout: 'inf' is not a duration"),
                                (["--timeout", "1e300"], "Error: --timeout: '1e300' is not a duration"),
                                (["--timeout", "nan"], "Error: --timeout: 'nan' is not a duration"),
                                (["--timeout", "0"], "Error: --timeout: 0 is out of range (0.001 s to 60.0 s)\n"),
                                (["--retries", "9223372036854775807"], "Error: --retries: 9223372036854775807 is out of range (0 to 10)\n"),
                                (["--qps=-1"], "Error: --qps: -1 is out of range (0 to 1000000; 0 is no cap)\n"),
                                (["--max-in-flight", "0"], "Error: --max-in-flight: 0 is out of range (1 to 65536)\n")] {
            let r = try cli.run(["poll", "--resolver", "127.0.0.1:9", "--no-asn"] + args)
            #expect(r.code == 64, "\(args): \(r.code) \(r.err)")
            #expect(r.err.hasPrefix(refusal), "\(args): \(r.err)")
        }
        for args in [["history", "a.example", "--since", "200000000000000d"], ["history", "a.example", "--until", "9999999999999999999"],
                     ["daemon", "--resolver", "127.0.0.1:9", "--tick", "200000000000000d"], ["daemon", "--resolver", "127.0.0.1:9", "--tick", "30d"]] {
            let r = try cli.run(args)
            #expect(r.code == 64, "\(args): \(r.code) \(r.err)")
        }
    }

    /// Row 3, config side: out-of-range values are bad input (65) naming the key.
    @Test func outOfRangeConfigValuesNameTheirKey() async throws {
        let cli = try CLI()
        for (text, key) in [("[resolvers]\ntimeout = \"200000000000000d\"", "resolvers.timeout"),
                            ("[resolvers]\ntimeout = 1e300", "resolvers.timeout"),
                            ("[resolvers]\nretries = 9223372036854775807", "resolvers.retries"),
                            ("[daemon]\ntick = \"400d\"", "daemon.tick"),
                            ("[intervals]\nc2 = \"106751991167300d\"", "intervals.c2"),
                            ("[resolvers]\nservers = []", "resolvers.servers"),
                            ("[resolvers]\nservers = [\"224.0.0.251\"]", "resolvers.servers"),
                            ("file_mode = \"0666\"", "file_mode")] {
            let config = try cli.file("c.toml", text)
            let r = try cli.run(["poll", "--config", config, "--no-asn"])
            #expect(r.code == 65, "\(text): \(r.code) \(r.err)")
            #expect(r.err.contains(key), "\(text): \(r.err)")
        }
    }

    /// Row 4: the database, its WAL files and the poll lock are 0600, new directories 0700, whatever the umask.
    @Test func createdFilesAreOwnerOnly() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: Self.world)
        let cli = try CLI()
        let db = cli.workdir.appendingPathComponent("new/dir/db.sqlite").path
        let old = umask(0o022)
        defer { umask(old) }
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l", "--db", db]).code == 0)
        // A reader keeps the WAL open so that -wal and -shm exist while their modes are read.
        let reader = try DatabaseQueue(path: db)
        try await reader.read { _ = try Int.fetchOne($0, sql: "SELECT count(*) FROM domains") }
        #expect(try cli.run(["poll", "--db", db, "--resolver", unbound.endpoint, "--no-asn"]).code == 0)
        for f in [db, db + "-wal", db + "-shm", db + ".lock"] {
            #expect(FileManager.default.fileExists(atPath: f), "\(f) exists")
            #expect(mode(f) == 0o600, "\(f): \(String(mode(f), radix: 8))")
        }
        withExtendedLifetime(reader) {}
        #expect(mode(cli.workdir.appendingPathComponent("new").path) == 0o700)
        #expect(mode(cli.workdir.appendingPathComponent("new/dir").path) == 0o700)
        // The config may widen files to 0640 for a reader in the same group.
        let wide = cli.workdir.appendingPathComponent("wide.sqlite").path
        let config = try cli.file("mode.toml", "file_mode = \"0640\"\n")
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l", "--db", wide, "--config", config]).code == 0)
        #expect(mode(wide) == 0o640)
    }

    /// Row 5: two spellings of one database (a symbolic link) share one poll lock.
    @Test func theLockFollowsSymbolicLinks() async throws {
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l"]).code == 0)
        let alias = cli.workdir.appendingPathComponent("alias.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: alias, withDestinationPath: cli.db)
        let held = try PollLock(store: SQLiteStore(path: alias), wait: false)
        let r = try cli.run(["poll", "--resolver", "127.0.0.1:9", "--timeout", "0.2", "--retries", "0", "--no-asn"])
        #expect(r.code == 1 && r.err.contains("another dnswatch poll is running"), "\(r.code) \(r.err)")
        let dotted = try cli.run(["poll", "--db", cli.workdir.appendingPathComponent("./x/../db.sqlite").path,
                                  "--resolver", "127.0.0.1:9", "--timeout", "0.2", "--retries", "0", "--no-asn"])
        #expect(dotted.code == 1, "\(dotted.err)")
        withExtendedLifetime(held) {}
    }

    /// Row 6: an interrupted poll (Ctrl-C, SIGTERM) ends the alert command it runs, whole process group and
    /// all (the group is not the terminal's, so the terminal's SIGINT would not reach it).
    @Test func anInterruptedPollEndsItsAlertCommand() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: [])
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "new.example", "--list", "l"]).code == 0)
        let args = ["--db", cli.db, "--resolver", unbound.endpoint, "--no-asn", "--no-stdout-alerts"]
        #expect(try cli.run(["poll"] + args).code == 0, "baseline: NXDOMAIN")
        try unbound.addLocalData(["new.example. 300 IN A 192.0.2.77"])
        let pidFile = cli.workdir.appendingPathComponent("pid").path
        let script = "echo $$ > \"$0.tmp\"; mv \"$0.tmp\" \"$0\"; (trap '' TERM; exec sleep 30) & wait"
        let poll = try Background(["poll"] + args + ["--alert-command", "sh", "--alert-arg", "-c", "--alert-arg", script,
                                                      "--alert-arg", pidFile], workdir: cli.workdir)
        #expect(try await eventually(timeout: 30) { FileManager.default.fileExists(atPath: pidFile) }, "the command started")
        let group = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        poll.signal(SIGINT)
        let end = try #require(try await poll.wait(timeout: 20), "the poll ended")
        #expect(end.status == 1 && !end.signalled, "\(end)")
        #expect(poll.err.contains("interrupted by SIGINT"), "\(poll.err)")
        #expect(try await eventually(timeout: 5) { kill(-group, 0) != 0 }, "the command's process group is gone")
        let alerts = try cli.run(["alerts", "--json"]).lines
        #expect(alerts.count == 1, "the alert was committed before its delivery")
    }

    /// Row 9: syncing an empty directory would retire every list: refused unless --allow-empty.
    @Test func syncOfAnEmptyDirectoryIsRefused() async throws {
        let cli = try CLI()
        let lists = cli.workdir.appendingPathComponent("lists")
        let empty = cli.workdir.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: lists, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        try "a.example\n".write(to: lists.appendingPathComponent("mine.txt"), atomically: true, encoding: .utf8)
        #expect(try cli.run(["watch", "sync", lists.path]).code == 0)
        let r = try cli.run(["watch", "sync", empty.path])
        #expect(r.code == 64 && r.err.contains("--allow-empty"), "\(r.err)")
        #expect(try cli.run(["watch", "list", "--json"]).lines.count == 1, "nothing retired")
        let allowed = try cli.run(["watch", "sync", empty.path, "--allow-empty"])
        #expect(allowed.code == 0 && allowed.out.contains("retired 1"), "\(allowed.out)")
    }

    /// Row 10: an empty --db or $DNSWATCH_DB is a usage error; commands that read create nothing.
    @Test func emptyDatabasePathsAndReadOnlyCommands() async throws {
        let cli = try CLI()
        #expect(try cli.run(["watch", "list", "--db", ""]).code == 64)
        let env = try cli.run(["watch", "add", "a.example", "--list", "l"], environment: ["DNSWATCH_DB": ""])
        #expect(env.code == 64 && env.err.contains("DNSWATCH_DB"), "\(env.err)")
        let missing = cli.workdir.appendingPathComponent("nonexistent/x.sqlite").path
        for args in [["history", "a.example"], ["alerts"], ["ip", "192.0.2.1"], ["triage", "192.0.2.1"], ["watch", "list"],
                     ["alerts", "--json"], ["triage", "a.example", "--json"]] {
            let r = try cli.run(args + ["--db", missing])
            #expect(r.code == 0, "\(args): \(r.err)")
            #expect(r.err.contains("no database"), "\(args): \(r.err)")
        }
        #expect(!FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("nonexistent").path))
        let triage = try cli.run(["triage", "192.0.2.1", "--json", "--db", missing])
        #expect(try CLI.json(triage.out)["fan_in"] as? Int == 0)
    }

    /// A one-character database path (`a`, `x/`) is a path like any other: Foundation's
    /// `deletingLastPathComponent` trapped on it (found by fuzzing the config's alerts file).
    @Test func oneCharacterDatabasePaths() async throws {
        let cli = try CLI()
        let r = try cli.run(["watch", "add", "a.example", "--list", "l", "--db", "a"], in: cli.workdir)
        #expect(r.code == 0, "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("a").path))
        #expect(try cli.run(["watch", "list", "--db", "a"], in: cli.workdir).out.contains("a.example"))
        let dir = try cli.run(["watch", "add", "a.example", "--list", "l", "--db", "x/"], in: cli.workdir)
        #expect(dir.code == 1 && dir.err == "dnswatch: cannot create the database x/: Is a directory\n", "\(dir.code) \(dir.err)")
    }

    /// Row 11: addresses no resolver can have are refused, as is an empty server list (never a silent
    /// fall-back to /etc/resolv.conf).
    @Test func unusableResolverAddressesAreRefused() async throws {
        let cli = try CLI()
        let multicast = "a multicast address", unspecified = "the unspecified address is nobody's address"
        let ambiguous = "is ambiguous: write [ADDRESS]:PORT for an IPv6 address with a port, or [ADDRESS] for the whole address"
        for (r, why) in [("224.0.0.251", "cannot be a resolver: " + multicast), ("255.255.255.255", "cannot be a resolver: the broadcast address"),
                         ("ff02::1", "cannot be a resolver: " + multicast), ("0.0.0.0", "cannot be a resolver: " + unspecified),
                         ("::", "cannot be a resolver: " + unspecified), ("[ff05::1]:53", "cannot be a resolver: " + multicast),
                         ("::1:6100", ambiguous), ("fe80::1:53", ambiguous)] {
            let out = try cli.run(["poll", "--resolver", r, "--no-asn"])
            #expect(out.code == 64, "\(r): \(out.code) \(out.err)")
            #expect(out.err.hasPrefix("Error: --resolver: \(r) \(why)\n"), "\(r): \(out.err)")
        }
        // The bracketed form is taken, as port 6100 of ::1, where nothing answers: the poll runs and finds the
        // resolver unavailable (69).
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l"]).code == 0)
        let ok = try cli.run(["poll", "--resolver", "[::1]:6100", "--timeout", "0.1", "--retries", "0", "--no-asn"])
        #expect(ok.code == 69 && ok.err.contains("resolver unavailable: none of 3 queries got an answer from [::1]:6100"), "\(ok.code) \(ok.err)")
    }

    /// Row 12: a directory (or a FIFO) given as the config file is named in a plain sentence, never read.
    @Test func aDirectoryAsConfigIsAPlainSentence() async throws {
        let cli = try CLI()
        let r = try cli.run(["poll", "--config", cli.workdir.path, "--no-asn"])
        #expect(r.code == 65 && r.err.contains("not a regular file (a directory)"), "\(r.err)")
        let fifo = cli.workdir.appendingPathComponent("fifo.toml").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let f = try cli.run(["poll", "--config", fifo, "--no-asn"])
        #expect(f.code == 65 && f.err.contains("not a regular file (a FIFO)"), "never blocks on a FIFO: \(f.err)")
        #expect(!r.err.contains("NSCocoaErrorDomain"))
    }

    /// Row 13: another program's SQLite database is refused before anything is written to it.
    @Test func aForeignDatabaseIsRefusedUntouched() async throws {
        let cli = try CLI()
        let foreign = cli.workdir.appendingPathComponent("foreign.sqlite").path
        let q = try DatabaseQueue(path: foreign)
        try await q.write { db in
            try db.execute(sql: "CREATE TABLE domains (name TEXT); INSERT INTO domains VALUES ('mine')")
        }
        try q.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: foreign))
        for args in [["watch", "add", "a.example", "--list", "l"], ["history", "a.example"], ["poll", "--resolver", "127.0.0.1:9", "--no-asn"]] {
            let r = try cli.run(args + ["--db", foreign])
            #expect(r.code == 1 && r.err.contains("another program's SQLite database"), "\(args): \(r.err)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: foreign)) == before, "not a byte changed")
        #expect(!FileManager.default.fileExists(atPath: foreign + "-wal"))
        let text = try cli.file("notes.sqlite", "just some text, not SQLite at all\n")
        let r = try cli.run(["watch", "list", "--db", text])
        #expect(r.code == 1 && r.err.contains("not an SQLite database"), "\(r.err)")
    }

    /// Row 14: a table's cells are padded to their column (the fast padder keeps what padding did).
    @Test func tablesPadCellsToTheirColumn() async throws {
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "a.example", "longer-name.example", "--list", "l"]).code == 0)
        let lines = try cli.run(["watch", "list"]).lines
        #expect(lines.count == 3)
        let column = lines[0].range(of: "LIST")?.lowerBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() {
            #expect(line.dropFirst(column ?? 0).hasPrefix("l "), "\(line)")
        }
    }
}

/// What a second, adversarial review of the hardening found, each reproduced.
@Suite(.serialized) struct HardeningReviewTests {
    /// A webhook port past 65535 trapped in NIO at delivery, on every poll after; a backslash made the
    /// URL go to another host than the one the user reads. Both are refused at start.
    @Test func webhookURLsThatParsersReadDifferently() async throws {
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l"]).code == 0)
        for url in ["http://127.0.0.1:99999/x", "http://[::1]:70000/x", "http://pw@127.0.0.1:18080\\@evil/SECRET", "http://us er@127.0.0.1/x"] {
            let r = try cli.run(["poll", "--resolver", "127.0.0.1:9", "--no-asn"], environment: ["DNSWATCH_WEBHOOK_URL": url])
            #expect(r.code == 64, "\(url): \(r.code) \(r.err)")
            #expect(!r.err.contains("SECRET") && !r.err.contains("pw@"), "\(r.err)")
        }
        let both = try cli.file("both.toml", "[alerts]\nwebhook = \"http://127.0.0.1:1/x\"\nwebhook_env = \"MY_HOOK\"\n")
        #expect(try cli.run(["poll", "--config", both, "--no-asn"]).code == 65, "webhook and webhook_env together")
    }

    /// Control bytes in arguments and stored notes never reach the terminal raw.
    @Test func controlBytesInArgumentsAndNotesAreVisible() async throws {
        let cli = try CLI()
        for args in [["history", "a\u{1B}[31m.example"], ["history", "a.example", "--type", "A\u{1B}[2J"],
                     ["poll", "--resolver", "127.0.0.1\u{1B}[31m"], ["watch", "list", "--db", cli.workdir.appendingPathComponent("n\u{1B}[2J.sqlite").path]] {
            let r = try cli.run(args)
            #expect(!r.err.unicodeScalars.contains("\u{1B}"), "\(args): \(r.err)")
            #expect(r.err.contains("\\x1b"), "\(args): \(r.err)")
        }
        let list = try cli.file("n.txt", "a.example # note \u{1B}[31mred\n")
        #expect(try cli.run(["watch", "import", list]).code == 0)
        let shown = try cli.run(["watch", "list"])
        #expect(!shown.out.unicodeScalars.contains("\u{1B}") && shown.out.contains("\\x1b[31mred"), "\(shown.out)")
    }

    /// A hard link would get a lock and a WAL of its own; a dangling symbolic link would make SQLite
    /// create its target with the umask's mode. Both refused.
    @Test func hardLinksAndDanglingLinks() async throws {
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l"]).code == 0)
        let hard = cli.workdir.appendingPathComponent("hard.sqlite").path
        #expect(link(cli.db, hard) == 0)
        let r = try cli.run(["watch", "list", "--db", hard])
        #expect(r.code == 1 && r.err.contains("hard links"), "\(r.err)")
        let dangling = cli.workdir.appendingPathComponent("link.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: dangling, withDestinationPath: "target.sqlite")
        let d = try cli.run(["watch", "add", "a.example", "--list", "l", "--db", dangling])
        #expect(d.code == 1 && d.err.contains("symbolic link"), "\(d.err)")
        #expect(!FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("target.sqlite").path))
    }

    /// IPv4-mapped forms of addresses no resolver can have are refused like the addresses themselves.
    @Test func mappedUnusableResolvers() async throws {
        let cli = try CLI()
        for r in ["::ffff:224.0.0.1", "::ffff:255.255.255.255", "::ffff:0.0.0.0"] {
            #expect(try cli.run(["poll", "--resolver", r, "--no-asn"]).code == 64, "\(r)")
        }
    }

    /// Empty values are refused like `--db ''`; unreadable watchlists are bad input (65); an empty file
    /// in a synced directory would retire its whole list.
    @Test func emptyValuesAndUnreadableLists() async throws {
        let cli = try CLI()
        #expect(try cli.run(["watch", "list", "--config", ""]).code == 64)
        #expect(try cli.run(["watch", "list"], environment: ["DNSWATCH_CONFIG": ""]).code == 64)
        #expect(try cli.run(["poll", "--resolver", "127.0.0.1:9", "--no-asn", "--webhook", ""]).code == 64)
        let types = try cli.file("t.toml", "[poll]\ntypes = []\n")
        #expect(try cli.run(["poll", "--config", types, "--no-asn"]).code == 65)
        #expect(try cli.run(["watch", "import", cli.workdir.appendingPathComponent("missing.txt").path]).code == 65)
        let dir = cli.workdir.appendingPathComponent("lists")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try "a.example\n".write(to: dir.appendingPathComponent("l1.txt"), atomically: true, encoding: .utf8)
        #expect(try cli.run(["watch", "sync", dir.path]).code == 0)
        try "".write(to: dir.appendingPathComponent("l1.txt"), atomically: true, encoding: .utf8)
        let r = try cli.run(["watch", "sync", dir.path])
        #expect(r.code == 65 && r.err.contains("--allow-empty"), "\(r.err)")
        #expect(try cli.run(["watch", "list", "--json"]).lines.count == 1, "nothing retired")
    }

    /// An alert with a severity or type this version does not know is an error, not a row shown as fine.
    @Test func unknownStoredSeverityIsAnError() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: [])
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "new.example", "--list", "l"]).code == 0)
        let args = ["poll", "--resolver", unbound.endpoint, "--no-asn", "--no-stdout-alerts"]
        #expect(try cli.run(args).code == 0)
        try unbound.addLocalData(["new.example. 300 IN A 192.0.2.77"])
        #expect(try cli.run(args).code == 0)
        #expect(try cli.run(["alerts"]).code == 0)
        let q = try DatabaseQueue(path: cli.db)
        try await q.write { try $0.execute(sql: "UPDATE alerts SET severity = 'bogus'") }
        try q.close()
        for extra in [[], ["--json"]] {
            let r = try cli.run(["alerts"] + extra)
            #expect(r.code == 1 && r.err.contains("does not know"), "\(r.err)")
        }
    }

    /// A database path that cannot be looked at (here a symbolic-link loop) is named with the reason,
    /// never answered as an empty database.
    @Test func unreadablePathsAreNamed() async throws {
        let cli = try CLI()
        let loop = cli.workdir.appendingPathComponent("loop.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: loop)
        let r = try cli.run(["history", "a.example", "--db", loop])
        #expect(r.code == 1 && r.err.contains("cannot look at it") && !r.err.contains("no database"), "\(r.err)")
    }

    /// Commands that only read open the database read-only: one an older dnswatch wrote is not migrated
    /// by them (a sentence asks for a writing command), and then a writing command migrates it.
    @Test func readersNeverMigrate() async throws {
        let cli = try CLI()
        let q = try DatabaseQueue(path: cli.db)
        try Migrations.migrator(upTo: "0001_core").migrate(q)
        try q.close()
        let r = try cli.run(["history", "a.example"])
        #expect(r.code == 1 && r.err.contains("needs migrating"), "\(r.err)")
        #expect(try cli.run(["watch", "add", "a.example", "--list", "l"]).code == 0)
        #expect(try cli.run(["watch", "list"]).code == 0)
    }
}

func mode(_ path: String) -> mode_t {
    var st = stat()
    return stat(path, &st) == 0 ? st.st_mode & 0o777 : 0
}
