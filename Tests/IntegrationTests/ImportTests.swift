import DNSWatchModel
import Foundation
import GRDB
import SQLiteStore
import Store
@testable import Poller
import Classification
import TestWorlds
import Testing
import TestSupport

/// `dnswatch import cof`: other sensors' passive DNS, from the files their tools write.
@Suite(.serialized) struct ImportTests {
    /// As `dnsdbq -j` writes: rdata arrays, absolute names, bailiwick, zone times for a zone-file record.
    static let dnsdbq = """
        {"count":12,"time_first":1700000000,"time_last":1700100000,"rrname":"evil.example.","rrtype":"A","bailiwick":"example.","rdata":["45.0.121.5","45.0.121.6"]}
        {"count":4,"time_first":1700000000,"time_last":1700050000,"rrname":"www.Evil.example.","rrtype":"CNAME","bailiwick":"evil.example.","rdata":["evil.example."]}
        {"zone_time_first":1690000000,"zone_time_last":1700000000,"rrname":"evil.example.","rrtype":"NS","bailiwick":"example.","rdata":["ns1.host.example.","NS2.host.example."]}
        {"count":3,"time_first":1700000000,"time_last":1700100000,"rrname":"evil.example.","rrtype":"MX","bailiwick":"example.","rdata":["10 mx.evil.example."]}
        {"count":3,"time_first":1700000000,"time_last":1700100000,"rrname":"*.evil.example.","rrtype":"A","bailiwick":"example.","rdata":["45.0.121.5"]}

        """
    /// As CIRCL passive DNS answers: rdata a string, names without the trailing dot, a sensor_id.
    static let circl = """
        {"count": 7, "origin": "https://www.circl.lu/pdns/", "rdata": "45.0.121.5", "rrname": "other.example", "rrtype": "A", "time_first": 1710000000, "time_last": 1710000900, "sensor_id": "sensor-17"}
        {"count": 2, "origin": "https://www.circl.lu/pdns/", "rdata": "2001:DB8::5", "rrname": "other.example", "rrtype": "AAAA", "time_first": 1710000000, "time_last": 1710000900}
        {"count": 1, "origin": "https://www.circl.lu/pdns/", "rdata": "v=spf1 -all", "rrname": "other.example", "rrtype": "TXT", "time_first": 1710000000, "time_last": 1710000900}
        """

    /// The rows an import writes, as text: equal dumps, unchanged tables.
    static func dump(_ path: String) throws -> String {
        let queue = try DatabaseQueue(path: path)
        return try queue.read { db in
            var out = ""
            for table in ["sources", "domains", "spans", "span_values", "heads", "domain_state", "domain_status", "transitions", "alerts"] {
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2") { out += "\(table) \(row)\n" }
            }
            return out
        }
    }

    @Test func dnsdbqAndCIRCLExportsCountInIPAndTriageWithTheirSource() async throws {
        let cli = try CLI()
        let dnsdb = try cli.file("dnsdb.json", ImportTests.dnsdbq), circl = try cli.file("circl.json", ImportTests.circl)
        let first = try cli.run(["import", "cof", dnsdb])
        #expect(first.code == 0, "\(first.err)")
        #expect(first.out == "read 5, imported 3, merged 0 (changed 0), skipped 2 (MX=1 wildcard name=1)\n")
        let second = try cli.run(["import", "cof", circl])
        #expect(second.out == "read 3, imported 2, merged 0 (changed 0), skipped 1 (TXT=1)\n", "\(second.err)")

        let ip = try cli.run(["ip", "45.0.121.5", "--json"]).lines.map(CLI.json)
        #expect(ip.map { $0["domain"] as? String } == ["evil.example", "other.example"])
        #expect(ip.map { $0["sources"] as? [String] } == [["dnsdb.json"], ["circl.json"]])
        #expect(ip.allSatisfy { $0["current"] as? Bool == false && $0["lists"] as? [String] == [] && $0["class"] as? String == "unknown" })
        let triage = try CLI.json(try cli.run(["triage", "45.0.121.5", "--json"]).out)
        #expect(triage["fan_in"] as? Int == 2)
        #expect(triage["domains"] as? [String] == ["evil.example", "other.example"])
        let details = triage["details"] as? [[String: Any]] ?? []
        #expect(details.map { $0["sources"] as? [String] } == [["dnsdb.json"], ["circl.json"]])
        #expect(details.allSatisfy { $0["watched"] as? Bool == false && $0["class"] as? String == "unknown" })
        // Names and name rdata normalised; the zone times of the NS record; CNAME found by its target.
        let ns = try cli.run(["history", "evil.example", "--json", "--type", "NS"]).lines.map(CLI.json)
        #expect(ns.first?["rdata"] as? [String] == ["ns1.host.example.", "ns2.host.example."])
        #expect(ns.first?["time_first"] as? Int == 1690000000 && ns.first?["count"] as? Int == 1)
        #expect(try cli.run(["history", "www.evil.example", "--json"]).lines.map(CLI.json).first?["rdata"] as? [String] == ["evil.example."])
        #expect(try CLI.json(try cli.run(["triage", "2001:db8::5", "--json"]).out)["fan_in"] as? Int == 1)

        // Importing the same file again changes no row.
        let before = try ImportTests.dump(cli.db)
        let again = try cli.run(["import", "cof", dnsdb])
        #expect(again.out.hasPrefix("read 5, imported 0, merged 3 (changed 0)"), "\(again.out)")
        #expect(try ImportTests.dump(cli.db) == before)

        // A later export of the same source: the earliest first, the latest last, the largest count.
        let later = try cli.file("dnsdb-later.json", """
            {"count":30,"time_first":1700050000,"time_last":1700900000,"rrname":"evil.example.","rrtype":"A","rdata":["45.0.121.6","45.0.121.5"]}
            {"count":2,"time_first":1690000000,"time_last":1700000000,"rrname":"www.evil.example.","rrtype":"CNAME","rdata":["evil.example."]}
            """)
        let merged = try cli.run(["import", "cof", later, "--source", "dnsdb.json"])
        #expect(merged.out.hasPrefix("read 2, imported 0, merged 2 (changed 2)"), "\(merged.out) \(merged.err)")
        let a = try cli.run(["history", "evil.example", "--json", "--type", "A"]).lines.map(CLI.json)
        #expect(a.count == 1)
        #expect(a.first?["time_first"] as? Int == 1700000000 && a.first?["time_last"] as? Int == 1700900000 && a.first?["count"] as? Int == 30)
        let cname = try cli.run(["history", "www.evil.example", "--json"]).lines.map(CLI.json)
        #expect(cname.first?["time_first"] as? Int == 1690000000 && cname.first?["time_last"] as? Int == 1700050000 && cname.first?["count"] as? Int == 4)
        // Under another source the same record is a record of its own.
        #expect(try cli.run(["import", "cof", later, "--source", "peer"]).out.hasPrefix("read 2, imported 2"))
        #expect(try cli.run(["history", "evil.example", "--json", "--type", "A"]).lines.count == 2)
    }

    @Test func aBadLineRefusesEveryFileAndStoresNothingUnlessSkipped() async throws {
        let cli = try CLI()
        let good = try cli.file("good.json", ImportTests.circl)
        let bad = try cli.file("bad.json", """
            {"rrname":"ok.example","rrtype":"A","rdata":"45.0.121.9","time_first":1,"time_last":2,"count":1}

            {"rrname":"bad.example","rrtype":"A","rdata":["999.0.121.9"],"time_first":1,"time_last":2}
            {"rrname":"bad.example","rrtype":"A","rdata":["45.0.121.9"],"time_first":1}
            not json
            {"rrtype":"A","rdata":["45.0.121.9"],"time_first":1,"time_last":2}
            {"rrname":"bad.example","rrtype":"A","rdata":["2001:db8::1"],"time_first":1,"time_last":2}
            """)
        let r = try cli.run(["import", "cof", good, bad])
        #expect(r.code == 65)
        for expected in ["\(bad):3: rdata: '999.0.121.9' is not an IPv4 address", "\(bad):4: no pair of times", "\(bad):5: not JSON",
                         "\(bad):6: no rrname", "\(bad):7: rdata: '2001:db8::1' is not an IPv4 address"] {
            #expect(r.err.contains(expected), "\(r.err)")
        }
        #expect(r.err.contains("5 invalid lines: nothing imported"))
        #expect(!FileManager.default.fileExists(atPath: cli.db), "nothing stored, not even the good file's records: no database opened")
        // Standard input: refused alike, and its records are the source "stdin" once they are good.
        let piped = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" import cof - < \"$1\"", DNSWatchBinary.url.path, bad],
                                         environment: ["DNSWATCH_DB": cli.db])
        #expect(piped.code == 65 && piped.err.contains("-:3: rdata"), "\(piped.err)")
        let skipped = try cli.run(["import", "cof", good, bad, "--skip-invalid"])
        #expect(skipped.code == 0, "\(skipped.err)")
        #expect(skipped.out == "read 9, imported 3, merged 0 (changed 0), skipped 1 (TXT=1), invalid skipped 5\n")
        #expect(skipped.err.contains("\(bad):5: not JSON"))
        let stdin = try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", "\"$0\" import cof - < \"$1\"", DNSWatchBinary.url.path, good],
                                         environment: ["DNSWATCH_DB": cli.db])
        #expect(stdin.code == 0 && stdin.out.hasPrefix("read 3, imported 2"), "\(stdin.out) \(stdin.err)")
        #expect(try cli.run(["history", "other.example", "--source", "stdin", "--json"]).lines.count == 2)
        #expect(try cli.run(["import", "cof", good, "--source", "polled"]).code == 64, "'polled' names dnswatch's own polls")
    }

    @Test func anImportChangesNoStateAndNoAlertOfThePollsThatFollow() async throws {
        let w = try World(records: ["d.example. 300 IN A 45.0.121.77", "d.example. 300 IN NS ns1.host.example."])
        try await w.watch(["d.example"], list: "c2", kind: .c2)
        try await w.poll(at: 1000)
        let state = try await w.store.state(of: "d.example")
        let targets = try await w.store.countTargets()
        // Another sensor saw it parked at Sedo and on 45.0.121.99, later than our poll.
        let file = try TemporaryDirectory("dnswatch-import").path("sensor.json")
        try """
            {"rrname":"d.example.","rrtype":"A","rdata":["\(World.sedoA)"],"time_first":1500,"time_last":1600,"count":9}
            {"rrname":"d.example.","rrtype":"NS","rdata":["ns1.sedoparking.com.","ns2.sedoparking.com."],"time_first":1500,"time_last":1600,"count":9}
            {"rrname":"d.example.","rrtype":"A","rdata":["45.0.121.99"],"time_first":1700,"time_last":1800,"count":2}
            {"rrname":"peer.example.","rrtype":"A","rdata":["45.0.121.77"],"time_first":1700,"time_last":1800,"count":2}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let summary = try await COFImport(store: w.store, classifier: w.classifier)
            .run([COFImport.Input(path: file, source: "sensor")], skipInvalid: false, now: 1900)
        #expect(summary.counts.imported == 4)
        #expect(try await w.store.state(of: "d.example") == state, "an import never changes a watched domain's state")
        #expect(try await w.store.countTargets() == targets, "an imported name is never watched")
        let sedo = try await w.store.history(domain: "d.example", source: .named("sensor")).first { $0.rdata == [World.sedoA] }
        #expect(sedo?.class == .parked && sedo?.provider == "Sedo", "imported records are classified as polled ones")

        // The same answer polled again: the polled spans are extended, nothing is raised.
        let unchanged = try await w.poll(at: 2000)
        #expect(unchanged.counts.alerts == 0 && unchanged.counts.changes == 0)
        let polled = try await w.store.history(domain: "d.example", source: .polled)
        #expect(polled.filter { $0.rrtype != .aaaa }.allSatisfy { $0.count == 2 && $0.timeLast == 2000 })
        #expect(try await w.store.history(domain: "d.example", source: .named("sensor")).allSatisfy { $0.timeLast <= 1800 })
        // An address only the other sensor saw is still new to dnswatch's own history: new-ip.
        try w.set("d.example", ["d.example. 300 IN A 45.0.121.99", "d.example. 300 IN NS ns1.host.example."])
        try await w.poll(at: 3000)
        #expect(w.sink.types == ["new-ip"])
        let hits = try await w.store.domains(resolvingInto: try #require(CIDR("45.0.121.99/32")))
        #expect(hits.filter(\.current).map(\.source) == [nil], "only the polled span is current")
    }

    @Test func historyJSONShowsEverySourceAndDnsdbqReadsIt() async throws {
        let unbound = try UnboundServer(localZones: ["example. static"], localData: ["evil.example. 300 IN A 45.0.121.5"])
        let cli = try CLI()
        #expect(try cli.run(["watch", "add", "evil.example", "--list", "c2"]).code == 0)
        let poll = try cli.run(["poll", "--resolver", unbound.endpoint, "--no-asn"])
        #expect(poll.code == 0, "\(poll.err)")
        #expect(try cli.run(["import", "cof", try cli.file("dnsdb.json", ImportTests.dnsdbq)]).code == 0)
        let all = try cli.run(["history", "evil.example", "--json"])
        let lines = try all.lines.map(CLI.json)
        #expect(lines.count == 5, "3 polled (A, and AAAA and NS NODATA) and 2 imported (A, NS): \(all.out)")
        #expect(lines.allSatisfy { $0.keys.contains("source") })
        #expect(lines.filter { $0["source"] is NSNull }.count == 3 && lines.filter { $0["source"] as? String == "dnsdb.json" }.count == 2)
        let polled = try cli.run(["history", "evil.example", "--json", "--source", "polled"]).lines.map(CLI.json)
        #expect(polled.count == 3 && polled.allSatisfy { $0["source"] is NSNull })
        #expect(try cli.run(["history", "evil.example", "--json", "--source", "dnsdb.json"]).lines.count == 2)
        #expect(try cli.run(["history", "evil.example", "--source", "nobody"]).out.isEmpty)
        #expect(try cli.run(["history", "evil.example"]).out.contains("SOURCE"))

        // dnsdbq -J reads the history as COF and prints the same rrsets (its CSV: one row a value).
        let historyFile = try cli.file("history.json", all.out)
        let dnsdbq = "/usr/bin/dnsdbq"
        try #require(FileManager.default.isExecutableFile(atPath: dnsdbq), "\(dnsdbq) is missing: run scripts/install-deps")
        let read = try ChildProcess.run(URL(fileURLWithPath: dnsdbq), ["-J", historyFile, "-p", "csv"],
                                        environment: ["DNSDB_API_KEY": "unused", "DNSDB_SERVER": "http://127.0.0.1:9"], timeout: 30)
        #expect(read.code == 0, "\(read.err)")
        func text(_ t: Any?) -> String {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(identifier: "UTC")
            f.dateFormat = "yyyy-MM-dd HH:mm:ss"
            return f.string(from: Date(timeIntervalSince1970: TimeInterval(t as? Int ?? 0)))
        }
        let expected = Set(lines.flatMap { l in
            (l["rdata"] as? [String] ?? []).map { v in
                "\"\(text(l["time_first"]))\",\"\(text(l["time_last"]))\",,,\(l["count"] as? Int ?? 0),,\"\(l["rrname"] as? String ?? "")\",\"\(l["rrtype"] as? String ?? "")\",\"\(v)\""
            }
        })
        let rows = Set(read.lines.dropFirst())
        #expect(read.lines.first == "time_first,time_last,zone_first,zone_last,count,bailiwick,rrname,rrtype,rdata")
        #expect(rows == expected, "\(read.out)")
        #expect(rows.count == 5, "A of the poll, A and NS of the import (two values each)")

        // Another dnswatch's history: its NOERROR lines are records; the rest skipped by status.
        let other = try CLI()
        let imported = try other.run(["import", "cof", historyFile, "--source", "dnswatch-b"])
        #expect(imported.out.hasPrefix("read 5, imported 3, merged 0 (changed 0), skipped 2 (status NODATA=2)"), "\(imported.out) \(imported.err)")
    }
}

/// Hostile inputs of `import cof` (issue 19): files that change, endless garbage, bad files into new paths.
@Suite(.serialized) struct ImportHostileTests {
    static let good = #"{"rrname":"ok.example","rrtype":"A","rdata":["45.0.121.9"],"time_first":1,"time_last":2}"#

    /// Row 7: a line appended between the check and the import is not read; a line changed in place into a
    /// bad one is refused (never stored), whatever was stored before it.
    @Test func theImportReadsOnlyTheBytesItChecked() async throws {
        let cli = try CLI()
        let path = try cli.file("growing.json", Self.good + "\n")
        let store = try SQLiteStore(path: cli.db)
        let importer = COFImport(store: store, classifier: Classifier(fingerprints: try FingerprintSet.embedded()))
        let prepared = try await COFImport.prepare([COFImport.Input(path: path, source: "s")], skipInvalid: false)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("not json\n" + Self.good.replacingOccurrences(of: "ok.example", with: "late.example") + "\n").utf8))
        try handle.close()
        let summary = try await importer.run(prepared, now: 10)
        #expect(summary.read == 1 && summary.counts.imported == 1 && summary.invalidTotal == 0)
        #expect(try ImportTests.dump(cli.db).contains("ok.example"))
        #expect(try ImportTests.dump(cli.db).contains("late.example") == false)

        // Changed in place to a bad line of the same length after the check: refused at that line, never stored.
        let second = try cli.file("changing.json", Self.good + "\n" + Self.good.replacingOccurrences(of: "ok.example", with: "ok.exampl2") + "\n")
        let checked = try await COFImport.prepare([COFImport.Input(path: second, source: "t")], skipInvalid: false)
        let bad = Self.good.replacingOccurrences(of: "ok.example", with: "ok.examp!e")
        let overwrite = try #require(FileHandle(forWritingAtPath: second))
        try overwrite.write(contentsOf: Data((Self.good + "\n" + bad + "\n").utf8))
        try overwrite.close()
        await #expect(throws: COFImport.Changed.self) { try await importer.run(checked, now: 10) }
        #expect(try ImportTests.dump(cli.db).contains("examp!e") == false)
    }

    /// Row 16: a refused import (a bad line, a missing file) into a new path creates no database and no directory.
    @Test func aRefusedImportLeavesNothingBehind() async throws {
        let cli = try CLI()
        let bad = try cli.file("bad.json", Self.good + "\nnot json\n")
        let dir = cli.workdir.appendingPathComponent("new/deeper")
        let db = dir.appendingPathComponent("db.sqlite").path
        let r = try cli.run(["import", "cof", bad], environment: ["DNSWATCH_DB": db])
        #expect(r.code == 65 && r.err.contains("\(bad):2: not JSON"), "\(r.err)")
        let missing = try cli.run(["import", "cof", cli.workdir.appendingPathComponent("absent.json").path], environment: ["DNSWATCH_DB": db])
        #expect(missing.code == 65 && missing.err.contains("no such file"), "\(missing.err)")
        #expect(!FileManager.default.fileExists(atPath: cli.workdir.appendingPathComponent("new").path), "no directory, no database")
        let good = try cli.file("good.json", Self.good + "\n")
        #expect(try cli.run(["import", "cof", good], environment: ["DNSWATCH_DB": db]).code == 0)
        #expect(FileManager.default.fileExists(atPath: db))
    }

    /// Row 17: endless garbage on standard input stops at the first bad line (`timeout` ends a run that
    /// would not stop, with another code); an endless line (`/dev/zero`) at the line-length limit. With
    /// --skip-invalid the garbage is counted, and the lines reported are bounded.
    @Test func endlessGarbageOnStandardInputStopsAtTheFirstBadLine() async throws {
        let cli = try CLI()
        func sh(_ script: String) async throws -> ChildResult {
            try await ChildProcess.run(URL(fileURLWithPath: "/bin/sh"), ["-c", script, DNSWatchBinary.url.path], environment: ["DNSWATCH_DB": cli.db])
        }
        let garbage = try await sh("yes not-json | timeout 120 \"$0\" import cof -")
        #expect(garbage.code == 65, "\(garbage.err)")
        #expect(garbage.err.contains("-:1: not JSON") && garbage.err.contains("1 invalid line: nothing imported"), "\(garbage.err)")
        let zero = try await sh("timeout 120 \"$0\" import cof - < /dev/zero")
        #expect(zero.code == 65 && zero.err.contains("-:1: line longer than 1048576 bytes (1 MiB)"), "\(zero.err)")
        #expect(!FileManager.default.fileExists(atPath: cli.db), "refused before the database is created")
        let good = try cli.file("good.json", Self.good + "\n")
        let counted = try await sh("{ cat \"\(good)\"; yes not-json | head -n 3000; } | \"$0\" import cof - --skip-invalid")
        #expect(counted.code == 0 && counted.out == "read 3001, imported 1, merged 0 (changed 0), skipped 0, invalid skipped 3000\n",
                "\(counted.out) \(counted.err)")
        #expect(counted.err.split(separator: "\n").filter { $0.contains(": not JSON") }.count == COFImport.BadLines.kept)
    }

    /// Row 17: the copy of standard input is bounded: past its limit the import is refused with a sentence.
    @Test func theSpoolOfStandardInputIsBounded() throws {
        let spool = try COFImport.Spool(limit: 100)
        try spool.append(Array(repeating: UInt8(ascii: "x"), count: 60)[...])
        #expect(throws: COFImport.SpoolFull.self) { try spool.append(Array(repeating: UInt8(ascii: "y"), count: 60)[...]) }
        #expect(COFImport.SpoolFull(limit: COFImport.spoolLimit).description.hasPrefix("standard input is longer than 4096 MiB"))
    }

    /// Rows 14, 15, 19 through the CLI: a duplicate key, a time past 9999, a negative time, a name with a
    /// right-to-left override: each a FILE:LINE: reason, exit 65, nothing stored, no raw U+202E in the message.
    @Test func duplicateKeysOutOfRangeTimesAndInvisibleCharactersAreRefused() async throws {
        let cli = try CLI()
        let path = try cli.file("hostile.json", [
            #"{"rrname":"a.example","rrname":"b.example","rrtype":"A","rdata":["45.0.121.9"],"time_first":1,"time_last":2}"#,
            #"{"rrname":"a.example","rrtype":"A","rdata":["45.0.121.9"],"time_first":0,"time_last":9223372036854775807}"#,
            #"{"rrname":"a.example","rrtype":"A","rdata":["45.0.121.9"],"time_first":-1,"time_last":2}"#,
            #"{"rrname":"a\u202ecod.example","rrtype":"A","rdata":["45.0.121.9"],"time_first":1,"time_last":2}"#,
            Self.good,
        ].joined(separator: "\n"))
        let r = try cli.run(["import", "cof", path])
        #expect(r.code == 65)
        for expected in ["\(path):1: duplicate key \"rrname\"", "\(path):2: time_last 9223372036854775807 is out of range (times from 1970 to 9999)",
                         "\(path):3: time_first -1 is out of range", "\(path):4: rrname: U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed in a domain name"] {
            #expect(r.err.contains(expected), "\(r.err)")
        }
        #expect(!r.err.unicodeScalars.contains("\u{202E}"))
        #expect(!FileManager.default.fileExists(atPath: cli.db))
    }
}

/// `COFLine`: the fast reader of plain lines and JSONDecoder (everything else) read a line alike.
@Suite struct COFLineTests {
    func parse(_ text: String) -> COFLine { COFLine.parse(Array(text.utf8)[...]) }

    @Test func plainAndEscapedLinesReadAlike() {
        let plain = parse(#"{"rrname":"www.example.","rrtype":"a","rdata":["192.0.2.1","192.0.2.1"],"time_first":1,"time_last":2,"count":3}"#)
        let escaped = parse(#"{ "rrname" : "www.ex\u0061mple.", "rrtype":"A", "rdata":"192.0.2.1", "time_first":1, "time_last":2, "count":3, "x":{"y":null} }"#)
        let record = ImportedRecord(domain: "www.example", rrtype: .a, rdata: ["192.0.2.1"], timeFirst: 1, timeLast: 2, count: 3)
        #expect(plain == .record(record))
        #expect(escaped == .record(record))
        // IDN names (non-ASCII text goes to JSONDecoder) as A-labels; an absent count counts 1.
        #expect(parse(#"{"rrname":"bücher.example","rrtype":"NS","rdata":["NS1.Bücher.example."],"zone_time_first":5,"zone_time_last":6}"#)
                == .record(ImportedRecord(domain: "xn--bcher-kva.example", rrtype: .ns, rdata: ["ns1.xn--bcher-kva.example"], timeFirst: 5, timeLast: 6, count: 1)))
        #expect(parse(#"{"rrname":"a.example","rrtype":"AAAA","rdata":["2001:DB8:0::1"],"time_first":1,"time_last":2}"#)
                == .record(ImportedRecord(domain: "a.example", rrtype: .aaaa, rdata: ["2001:db8::1"], timeFirst: 1, timeLast: 2, count: 1)))
    }

    @Test func badAndSkippedLines() {
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":1.5,"time_last":2}"#).isInvalid)
        #expect(parse(#"{"rrname":7,"rrtype":"A","rdata":["192.0.2.1"],"time_first":1,"time_last":2}"#) == .invalid("rrname: wrong type"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":[1],"time_first":1,"time_last":2}"#) == .invalid("rdata: not a string or an array of strings"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":3,"time_last":2}"#).isInvalid)
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":[],"time_first":1,"time_last":2}"#) == .invalid("rdata: no values"))
        #expect(parse(#"["a"]"#) == .invalid("not a JSON object"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":1,"time_last":2"#) == .invalid("not JSON"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"SOA","rdata":["x"],"time_first":1,"time_last":2}"#) == .skipped("SOA"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"A","rdata":[],"time_first":1,"time_last":2,"status":"NXDOMAIN"}"#) == .skipped("status NXDOMAIN"))
        #expect(parse(#"{"rrname":"*.a.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":1,"time_last":2}"#) == .skipped("wildcard name"))
    }
    /// Row 14: a key given twice is refused, whichever reader met it (the fast one gives up on it; escapes
    /// name the same key); a repeated key inside a nested value is no key of the record.
    @Test func aDuplicateKeyIsRefused() {
        let line = #"{"rrname":"a.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":1,"time_last":2"#
        #expect(parse(line + #","time_last":3}"#) == .invalid(#"duplicate key "time_last""#))
        #expect(parse(line + #","r\u0072name":"b.example"}"#) == .invalid(#"duplicate key "rrname""#))
        #expect(parse(line + #","x":1,"x":2}"#) == .invalid(#"duplicate key "x""#))
        #expect(parse(line + #","x":{"y":1,"y":2},"z":[{"y":3}]}"#).isInvalid == false)
        #expect(parse(line + #","s":"rrname\",\"rrname"}"#).isInvalid == false)
    }

    /// Row 15: times are those of `TimeSpecParser.range` (1970 to 9999), for both pairs of times.
    @Test func timesOutsideTheProductsRangeAreRefused() {
        func times(_ f: String, _ l: String, zone: Bool = false) -> COFLine {
            let p = zone ? "zone_time" : "time"
            return parse(#"{"rrname":"a.example","rrtype":"A","rdata":["192.0.2.1"],"\#(p)_first":\#(f),"\#(p)_last":\#(l)}"#)
        }
        #expect(times("0", "253402300799") == .record(ImportedRecord(domain: "a.example", rrtype: .a, rdata: ["192.0.2.1"], timeFirst: 0,
                                                                     timeLast: TimeSpecParser.latest, count: 1)))
        #expect(times("0", "253402300800") == .invalid("time_last 253402300800 is out of range (times from 1970 to 9999)"))
        #expect(times("-1", "2") == .invalid("time_first -1 is out of range (times from 1970 to 9999)"))
        #expect(times("-5", "-1", zone: true) == .invalid("time_first -5 is out of range (times from 1970 to 9999)"))
        #expect(times("1", "9223372036854775807", zone: true).isInvalid)
    }

    /// Row 19: names with invisible or replacement characters are refused by their code point.
    @Test func invisibleCharactersInNamesAreRefused() {
        #expect(parse(#"{"rrname":"a\u202e.example","rrtype":"A","rdata":["192.0.2.1"],"time_first":1,"time_last":2}"#)
                == .invalid("rrname: U+202E (RIGHT-TO-LEFT OVERRIDE) is not allowed in a domain name"))
        #expect(parse(#"{"rrname":"a.example","rrtype":"CNAME","rdata":["b\ufffd.example"],"time_first":1,"time_last":2}"#)
                == .invalid("rdata: 'b\\u{FFFD}.example' is not a name: U+FFFD (REPLACEMENT CHARACTER) is not allowed in a domain name"))
    }
}

extension COFLine {
    var isInvalid: Bool { if case .invalid = self { true } else { false } }
}
