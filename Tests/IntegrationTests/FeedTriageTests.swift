import DNSWatchModel
import Foundation
import SQLiteStore
import Store
import TestWorlds
import Testing
import TestSupport

/// `triage --file`: whole feeds against a history built by real polls of a local Unbound.
@Suite(.serialized) struct FeedTriageTests {
    /// A world polled twice: at 1000 and at 2000 (mover.example moves from .10 to .20 in between).
    static func world() async throws -> World {
        let w = try World(records: [
            "c2.example. 300 IN A 45.0.121.77",
            "mover.example. 300 IN A 45.0.121.10",
        ] + World.parkedRecords("p1.example") + World.parkedRecords("p2.example"))
        try await w.watch(["c2.example", "mover.example"], list: "ursnif", kind: .c2)
        try await w.watch(["p1.example", "p2.example"], list: "parked", kind: .c2)
        try await w.poll(at: 1000)
        try w.set("mover.example", ["mover.example. 300 IN A 45.0.121.20"])
        try await w.poll(at: 2000)
        return w
    }

    static let feed = """
        # Ursnif, test feed
        # Reference: https://example.org/report
        45.0.121.77:80
        http://45.0.121.77/x
        91.195.240.94   # Sedo
        91.195.240.0/23
        c2.example
        HTTP://C2.Example./gate.php
        /just/a/path
        ::ffff:45.0.121.10
        45.0.121.0/24
        mover.example
        never.example

        """

    static let expectedQueries = ["45.0.121.77", "91.195.240.94", "91.195.240.0/23", "c2.example", "45.0.121.10", "45.0.121.0/24",
                                  "mover.example", "never.example"]

    func cli(_ w: World) throws -> CLI {
        let cli = try CLI()
        return CLI(db: w.dbPath, workdir: cli.workdir)
    }

    /// The object without the feed's own fields, as `triage VALUE --json` writes it.
    static func withoutFeedFields(_ o: [String: Any]) -> NSDictionary {
        var o = o
        for k in ["indicator", "line", "file"] { o.removeValue(forKey: k) }
        return o as NSDictionary
    }

    @Test func oneVerdictPerDistinctValueEqualToSingleTriage() async throws {
        let w = try await Self.world()
        let cli = try cli(w)
        let path = try cli.file("feed.txt", Self.feed)
        let r = try cli.run(["triage", "--file", path, "--json"])
        #expect(r.code == 0, "\(r.err)")
        let objects = try r.lines.map(CLI.json)
        #expect(objects.compactMap { $0["query"] as? String } == Self.expectedQueries)
        #expect(objects.first?["indicator"] as? String == "45.0.121.77:80" && objects.first?["line"] as? Int == 3)
        #expect(objects[2]["indicator"] as? String == "91.195.240.0/23" && objects[2]["line"] as? Int == 6)
        #expect(objects[4]["indicator"] as? String == "::ffff:45.0.121.10", "the first line's text, comment removed")
        #expect(!objects.contains { $0.keys.contains("file") }, "one feed: no file field")
        // THE verdict rule is one: each object is what the single triage of its value says.
        for o in objects {
            let query = try #require(o["query"] as? String)
            let single = try cli.run(["triage", query, "--json"])
            #expect(single.code == 0)
            #expect(try Self.withoutFeedFields(o).isEqual(to: CLI.json(single.out)), "\(query): \(o) vs \(single.out)")
        }
        let by = Dictionary(uniqueKeysWithValues: objects.map { ($0["query"] as? String ?? "", $0) })
        #expect(by["45.0.121.77"]?["verdict"] as? String == "malicious-history")
        #expect(by["91.195.240.94"]?["verdict"] as? String == "likely-false-positive" && by["91.195.240.94"]?["fan_in"] as? Int == 2)
        // A prefix is a range: its class when a fingerprint covers it wholly, its fan-in the domains inside.
        #expect(by["91.195.240.0/23"]?["class"] as? String == "parked" && by["91.195.240.0/23"]?["fan_in"] as? Int == 2)
        #expect(by["45.0.121.0/24"]?["class"] as? String == "unknown" && by["45.0.121.0/24"]?["fan_in"] as? Int == 2)
        #expect((by["45.0.121.0/24"]?["domains"] as? [String])?.sorted() == ["c2.example", "mover.example"])
        #expect(by["45.0.121.0/24"]?["verdict"] as? String == "malicious-history")
        #expect(by["never.example"]?["verdict"] as? String == "no-history" && by["never.example"]?["class"] as? String == "unseen")
        // The summary on stderr.
        #expect(r.err.contains("triaged 8 distinct values from 11 indicators (2 duplicates, skipped url-path 1)"), "\(r.err)")
        #expect(r.err.contains("verdicts: ") && r.err.contains("malicious-history 5"), "\(r.err)")
        #expect(r.err.contains("classes: ") && r.err.contains("parked 2"), "\(r.err)")
        #expect(r.err.contains("no-history 1") && r.err.contains("unseen 1"), "the value nothing has seen is counted: \(r.err)")
        // Batches of one give the same lines as batches of 500.
        let small = try cli.run(["triage", "--file", path, "--json", "--batch", "1"])
        #expect(small.out == r.out)
        // A table without --json.
        let table = try cli.run(["triage", "--file", path])
        #expect(table.code == 0 && table.lines.count == 9 && table.lines[0].hasPrefix("LINE") && table.out.contains("malicious-history"))
    }

    @Test func csvParsesWithItsHeader() async throws {
        let w = try await Self.world()
        let cli = try cli(w)
        let path = try cli.file("feed.txt", Self.feed)
        let r = try cli.run(["triage", "--file", path, "--csv"])
        #expect(r.code == 0, "\(r.err)")
        let csvPath = try cli.file("out.csv", r.out)
        let parsed = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", """
            import csv, json, sys
            with open(sys.argv[1], newline='') as f:
                reader = csv.DictReader(f)
                print(json.dumps({"header": reader.fieldnames, "rows": list(reader)}))
            """, csvPath])
        #expect(parsed.code == 0, "\(parsed.err)")
        let doc = try CLI.json(parsed.out)
        #expect(doc["header"] as? [String] == ["indicator", "line", "query", "class", "provider", "asn", "fan_in", "verdict", "reason"])
        let rows = try #require(doc["rows"] as? [[String: String]])
        let json = try cli.run(["triage", "--file", path, "--json"]).lines.map(CLI.json)
        #expect(rows.count == json.count && rows.count == Self.expectedQueries.count)
        for (row, o) in zip(rows, json) {
            #expect(row["query"] == o["query"] as? String && row["verdict"] == o["verdict"] as? String)
            #expect(row["reason"] == o["reason"] as? String, "reasons hold commas and semicolons: quoted")
            #expect(row["line"] == (o["line"] as? Int).map(String.init) && row["fan_in"] == (o["fan_in"] as? Int).map(String.init))
            #expect(row["provider"] == (o["provider"] as? String ?? "") && row["indicator"] == o["indicator"] as? String)
        }
    }

    @Test func atJudgesWithTheSpansThatHeldThen() async throws {
        let w = try await Self.world()
        let cli = try cli(w)
        func details(_ args: [String]) throws -> [String: Any] {
            let r = try cli.run(["triage"] + args + ["--json"])
            #expect(r.code == 0, "\(r.err)")
            return try CLI.json(r.out)
        }
        // mover.example held 45.0.121.10 from 1000 until the poll at 2000 saw .20.
        let during = try details(["45.0.121.10", "--at", "1500"])
        let first = try #require((during["details"] as? [[String: Any]])?.first)
        #expect(first["domain"] as? String == "mover.example" && first["current"] as? Bool == true, "\(during)")
        let later = try details(["45.0.121.10", "--at", "2500"])
        #expect((later["details"] as? [[String: Any]])?.first?["current"] as? Bool == false, "\(later)")
        #expect((try details(["45.0.121.10"])["details"] as? [[String: Any]])?.first?["current"] as? Bool == false, "now as at a later time")
        // .20 was not seen yet at 1500.
        #expect(try details(["45.0.121.20", "--at", "1500"])["fan_in"] as? Int == 0)
        #expect(try details(["45.0.121.20", "--at", "2000"])["fan_in"] as? Int == 1)
        #expect(try details(["45.0.121.20", "--at", "1970-01-01T00:33:20Z"])["fan_in"] as? Int == 1, "ISO 8601 too")
        // Before the first poll nothing was known: a C&C name of ours is still one, anything else has no history.
        let before = try details(["mover.example", "--at", "500"])
        #expect(before["verdict"] as? String == "suspicious" && before["class"] as? String == "unseen" && before["fan_in"] as? Int == 0, "\(before)")
        let nothing = try details(["45.0.121.10", "--at", "500"])
        #expect(nothing["verdict"] as? String == "no-history" && nothing["fan_in"] as? Int == 0, "\(nothing)")
        // A domain's state as of then: c2.example live on .77 at 1500 → its own C&C history.
        #expect(try details(["c2.example", "--at", "1500"])["verdict"] as? String == "malicious-history")
        // --at on a feed: the same as single triage with --at.
        let path = try cli.file("feed.txt", Self.feed)
        let feed = try cli.run(["triage", "--file", path, "--json", "--at", "1500"]).lines.map(CLI.json)
        for o in feed {
            let single = try details([o["query"] as? String ?? "", "--at", "1500"])
            #expect(Self.withoutFeedFields(o).isEqual(to: single))
        }
        #expect(try cli.run(["triage", "45.0.121.10", "--at", "yesterday-ish"]).code == 64)
    }

    @Test func limitCapsTheListNotTheFanIn() async throws {
        let w = try await Self.world()
        let cli = try cli(w)
        let r = try CLI.json(try cli.run(["triage", "91.195.240.94", "--json", "--limit", "1"]).out)
        #expect(r["fan_in"] as? Int == 2 && (r["domains"] as? [String])?.count == 1 && (r["details"] as? [[String: Any]])?.count == 1)
        let path = try cli.file("feed.txt", "91.195.240.94\n")
        let feed = try CLI.json(try cli.run(["triage", "--file", path, "--json", "--limit", "0"]).out)
        #expect(feed["fan_in"] as? Int == 2 && (feed["domains"] as? [String]) == [] && feed["verdict"] as? String == "likely-false-positive")
        #expect(try cli.run(["triage", "91.195.240.94", "--limit", "-1"]).code == 64)
    }

    @Test func badLineRefusesTheFeedUnlessSkipInvalid() async throws {
        let cli = try CLI()
        let path = try cli.file("bad.txt", "1.2.3.4\nok.example\nbad..example\n2.3.4.5:99999\n")
        let r = try cli.run(["triage", "--file", path, "--json"])
        #expect(r.code == 65)
        #expect(r.err.contains("\(path):3: empty label") && r.err.contains("\(path):4: bad port"), "\(r.err)")
        #expect(r.out.isEmpty, "nothing triaged")
        let skip = try cli.run(["triage", "--file", path, "--json", "--skip-invalid"])
        #expect(skip.code == 0, "\(skip.err)")
        #expect(try skip.lines.map(CLI.json).compactMap { $0["query"] as? String } == ["1.2.3.4", "ok.example"])
        #expect(skip.err.contains("\(path):3: empty label") && skip.err.contains("invalid skipped 2"))
        #expect(try cli.run(["triage", "--file", "/nonexistent/feed.txt"]).code != 0)
        #expect(try cli.run(["triage", "1.2.3.4", "--file", path]).code == 64, "a value or a feed, not both")
        #expect(try cli.run(["triage", "--file", path, "--json", "--csv"]).code == 64)
    }

    @Test func standardInputAndSeveralFeeds() async throws {
        let w = try await Self.world()
        let cli = try cli(w)
        let path = try cli.file("feed.txt", Self.feed)
        let fromFile = try cli.run(["triage", "--file", path, "--json"])
        let piped = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$0\" triage --file - --json < \"$1\"", DNSWatchBinary.url.path, path],
                                         environment: ["DNSWATCH_DB": cli.db])
        #expect(piped.code == 0, "\(piped.err)")
        #expect(piped.out == fromFile.out)
        let bad = try cli.file("bad.txt", "5.6.7.8\nbad..example\n")
        let pipedBad = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "exec \"$0\" triage --file - --json < \"$1\"", DNSWatchBinary.url.path, bad],
                                            environment: ["DNSWATCH_DB": cli.db])
        #expect(pipedBad.code == 65 && pipedBad.err.contains("-:2: empty label"), "\(pipedBad.err)")
        // Two feeds: values distinct across both, each object naming its file.
        let second = try cli.file("second.txt", "c2.example\n203.0.113.9\n")
        let both = try cli.run(["triage", "--file", path, second, "--json"]).lines.map(CLI.json)
        #expect(both.count == Self.expectedQueries.count + 1)
        #expect(both.last?["query"] as? String == "203.0.113.9" && both.last?["file"] as? String == second && both.last?["line"] as? Int == 2)
        #expect(both.first?["file"] as? String == path)
    }

    /// Issue 19, row 3: an endless line on standard input (`/dev/zero`) is refused at the line-length limit,
    /// FILE:LINE: reason, exit 65, not read until memory runs out (`timeout` ends a run that would not stop).
    /// Endless garbage lines stop at the first.
    @Test func anEndlessLineOnStandardInputIsRefusedAtTheLimit() async throws {
        let w = try await Self.world()
        let cli = try cli(w)
        func sh(_ script: String) async throws -> ChildResult {
            try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", script, DNSWatchBinary.url.path], environment: ["DNSWATCH_DB": cli.db])
        }
        let zero = try await sh("timeout 120 \"$0\" triage --file - --json < /dev/zero")
        #expect(zero.code == 65, "\(zero.err)")
        #expect(zero.err.contains("-:1: line longer than 1048576 bytes (1 MiB)") && zero.err.contains("1 invalid line: triage refused"), "\(zero.err)")
        #expect(zero.out.isEmpty)
        let garbage = try await sh("yes bad..example | timeout 120 \"$0\" triage --file - --json")
        #expect(garbage.code == 65 && garbage.err.contains("-:1: empty label"), "\(garbage.err)")
        // A file: the same reason, and the lines around it triaged with --skip-invalid.
        let path = try cli.file("long.txt", "c2.example\n" + String(repeating: "x", count: 2 << 20) + "\nmover.example\n")
        let refused = try cli.run(["triage", "--file", path, "--json"])
        #expect(refused.code == 65 && refused.err.contains("\(path):2: line longer than 1048576 bytes (1 MiB)"), "\(refused.err)")
        let skipped = try cli.run(["triage", "--file", path, "--json", "--skip-invalid"])
        #expect(try skipped.code == 0 && skipped.lines.map(CLI.json).compactMap { $0["query"] as? String } == ["c2.example", "mover.example"], "\(skipped.err)")
    }

    /// Issue 19, row 19: a name with U+202E is refused by its code point (never echoed raw); an indicator
    /// whose text holds one outside its name (a URL's path) is written visible in CSV, never raw.
    @Test func invisibleCharactersAreRefusedInNamesAndNeverWrittenRawInCSV() async throws {
        let w = try await Self.world()
        let cli = try cli(w)
        let path = try cli.file("rtl.txt", "exe.\u{202E}gnp.example\nhttp://c2.example/\u{202E}gpj.exe\n")
        let refused = try cli.run(["triage", "--file", path, "--csv"])
        #expect(refused.code == 65 && refused.err.contains("\(path):1: U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed in a domain name"), "\(refused.err)")
        #expect(!refused.err.unicodeScalars.contains("\u{202E}"))
        let csv = try cli.run(["triage", "--file", path, "--csv", "--skip-invalid"])
        #expect(csv.code == 0, "\(csv.err)")
        #expect(!csv.out.unicodeScalars.contains("\u{202E}") && !csv.err.unicodeScalars.contains("\u{202E}"))
        #expect(csv.lines.dropFirst().first?.hasPrefix("http://c2.example/\\u{202E}gpj.exe,2,c2.example,") == true, "\(csv.out)")
        let single = try cli.run(["triage", "a\u{202E}b.example"])
        #expect(single.code == 64 && single.err.contains("U+202E (RIGHT-TO-LEFT OVERRIDE)") && !single.err.unicodeScalars.contains("\u{202E}"), "\(single.err)")
    }

    /// The real Ursnif trail file: one verdict per distinct normalised value, the values checked against an
    /// extraction written independently (Python's `ipaddress` and regular expressions, not Indicator.swift).
    @Test func realTrailFileOneVerdictPerDistinctValue() async throws {
        let cli = try CLI()
        let trail = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("data/reference/real/maltrail-ursnif.txt")
        try #require(FileManager.default.fileExists(atPath: trail.path), "missing \(trail.path)")
        let r = try cli.run(["triage", "--file", trail.path, "--json"])
        #expect(r.code == 0, "\(r.err)")
        let queries = try r.lines.map(CLI.json).compactMap { $0["query"] as? String }
        #expect(Set(queries).count == queries.count, "one verdict per value")
        let extraction = try await ChildProcess.run(URL(fileURLWithPath: "/usr/bin/python3"), ["-c", Self.independentExtraction, trail.path])
        #expect(extraction.code == 0, "\(extraction.err)")
        let expected = try CLI.json(extraction.out)
        let addresses = try #require(expected["addresses"] as? [String]), domains = try #require(expected["domains"] as? [String])
        #expect(addresses.count == 784, "the issue's figure: 387 on address lines, the rest URL hosts")
        #expect(queries.filter { IPAddress($0) != nil }.sorted() == addresses.sorted())
        #expect(queries.filter { IPAddress($0) == nil }.sorted() == domains.sorted())
        #expect(queries.count == addresses.count + domains.count)
        #expect(r.err.contains("skipped url-path \(expected["paths"] as? Int ?? -1)"), "\(r.err)")
    }

    /// Reads a trail file the way an analyst's script would: comments cut at '#' that starts the line or follows
    /// a blank, URL paths skipped, scheme / user / port / path cut with a regular expression, hosts parsed by
    /// `ipaddress` (IPv4-mapped as IPv4), names lower-cased without a trailing dot.
    static let independentExtraction = #"""
        import ipaddress, json, re, sys
        addresses, domains, paths = set(), set(), 0
        text = open(sys.argv[1], encoding="utf-8").read()
        for raw in text.splitlines():
            line = re.split(r"(?:^|(?<=\s))#", raw, maxsplit=1)[0].strip()
            if not line:
                continue
            if line.startswith("/"):
                paths += 1
                continue
            try:
                net = ipaddress.ip_network(line, strict=False)
                if net.num_addresses == 1:
                    addresses.add(str(net.network_address))
                else:
                    domains.add(str(net))  # no prefixes in this file; would show up as a mismatch
                continue
            except ValueError:
                pass
            m = re.match(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://)?(?:[^@/?#]*@)?(\[[^\]/]+\]|[^/:?#]+)", line)
            host = m.group(1).strip("[]")
            try:
                ip = ipaddress.ip_address(host)
                if ip.version == 6 and ip.ipv4_mapped:
                    ip = ip.ipv4_mapped
                addresses.add(str(ip))
            except ValueError:
                domains.add(host.lower().rstrip("."))
        print(json.dumps({"addresses": sorted(addresses), "domains": sorted(domains), "paths": paths}))
        """#
}

extension CLI {
    /// The CLI on a database built elsewhere (a `World`'s).
    init(db: String, workdir: URL) {
        self.db = db
        self.workdir = workdir
    }
}
